"""Suggestion lists as spreadsheets: no submitter identity, with the list's filters and scope."""
from __future__ import annotations

from app.core.exports import collect
from app.core.scoping import Actor
from app.core.time import local_display
from app.suggestions.models import Suggestion
from app.suggestions.service import list_suggestions
from app.suggestions.states import STATUS_LABELS

HEADER = ("编号", "标题", "代表", "状态", "提交时间", "首次响应", "办结时间", "交办部门", "办理期限", "评分")


def _row(s: Suggestion) -> tuple:
    return (s.id, s.title, s.representative.name if s.representative else "联络站",
            STATUS_LABELS.get(s.status, s.status), local_display(s.created_at), local_display(s.first_response_at),
            local_display(s.closed_at), s.department.name if s.department else "", local_display(s.due_at),
            s.rating if s.rating is not None else "")


def suggestion_rows(actor: Actor, **filters) -> list[tuple]:
    return collect(lambda **page: list_suggestions(actor, **page), _row, **filters)
