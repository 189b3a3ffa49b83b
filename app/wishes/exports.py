"""Wish lists as spreadsheets: the public text only, with the list's filters and scope."""
from __future__ import annotations

from app.core.exports import collect
from app.core.scoping import Actor
from app.core.time import local_display
from app.wishes.service import list_wishes

HEADER = ("编号", "标题（公开）", "类别", "期望日期", "状态", "发布时间", "认领时间", "完成时间", "服务时长（小时）",
          "评分")


def _row(w: dict) -> tuple:
    """`w` is the list's own presentation of a wish, so the export shows what the list shows."""
    return (w["id"], w["title"], w["category_label"], w["desired_date"].isoformat(), w["status_label"],
            local_display(w["created_at"]), local_display(w["claimed_at"]), local_display(w["fulfilled_at"]),
            w["hours"] if w["hours"] is not None else "", w["rating"] if w["rating"] is not None else "")


def wish_rows(actor: Actor, **filters) -> list[tuple]:
    return collect(lambda **page: list_wishes(actor, **page), _row, **filters)
