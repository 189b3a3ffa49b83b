"""Case lists as spreadsheets: the same filters and scope as the list, no reporter identity."""
from __future__ import annotations

from app.cases.models import Case
from app.cases.service import list_cases, staff_role
from app.cases.states import STATE_LABELS
from app.core.exports import collect
from app.core.scoping import Actor
from app.core.time import local_display
from app.geo.datum import gcj02_to_wgs84

HEADER = ("受理编号", "状态", "类别", "地点", "描述", "上报时间", "受理时间", "办结时间", "办理时限", "是否超时",
          "重新办理次数", "评分", "匿名", "纬度（WGS-84）", "经度（WGS-84）")


def _row(c: Case, actor: Actor) -> tuple:
    # A followed case is a neighbour's: its progress, not its number or what they wrote (as in the list).
    private = actor.user_id == c.reporter_id or staff_role(c, actor) is not None
    # Exports speak WGS-84, as GIS tools expect; the location is the reporter's, so only for those who see it.
    lat, lng = gcj02_to_wgs84(c.location_lat, c.location_lng) if private and c.location_lat is not None else ("", "")
    return (c.tracking_no if private else "", STATE_LABELS[c.status], c.category.name, c.where,
            c.description if private else "",
            local_display(c.created_at), local_display(c.accepted_at), local_display(c.closed_at),
            local_display(c.due_at), "是" if c.overdue else "否", c.reopen_count,
            c.rating if c.rating is not None else "", "是" if c.anonymous else "否",
            round(lat, 7) if lat != "" else "", round(lng, 7) if lng != "" else "")


def case_rows(actor: Actor, **filters) -> list[tuple]:
    return collect(lambda **page: list_cases(actor, **page), lambda c: _row(c, actor), **filters)
