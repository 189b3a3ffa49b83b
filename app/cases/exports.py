"""Case lists as spreadsheets: the same filters and scope as the list, no reporter identity."""
from __future__ import annotations

from app.cases.service import list_cases
from app.cases.states import STATE_LABELS
from app.core.scoping import Actor
from app.core.time import local_display

MAX_ROWS = 20_000
HEADER = ("受理编号", "状态", "类别", "地点", "描述", "上报时间", "受理时间", "办结时间", "办理时限", "是否超时",
          "重新办理次数", "评分", "匿名")


def case_rows(actor: Actor, **filters) -> list[tuple]:
    """Every case the list would show with these filters (up to MAX_ROWS), one row each."""
    rows: list[tuple] = []
    cursor = None
    while len(rows) < MAX_ROWS:
        page = list_cases(actor, limit=100, cursor=cursor, **filters)
        rows.extend((
            c.tracking_no, STATE_LABELS[c.status], c.category.name, c.place.name, c.description,
            local_display(c.created_at), local_display(c.accepted_at), local_display(c.closed_at),
            local_display(c.due_at), "是" if c.overdue else "否", c.reopen_count,
            c.rating if c.rating is not None else "", "是" if c.anonymous else "否",
        ) for c in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    return rows[:MAX_ROWS]
