"""The suggestion flow as a table: submitted → accepted → answered | referred → replied → closed; rejected."""
from __future__ import annotations

from app.accounts.models import DEPARTMENT, REPRESENTATIVE
from app.core.scoping import Actor
from app.core.workflow import Workflow, any_of

SUBJECT = "suggestion"

SUBMITTED, ACCEPTED, REJECTED = "submitted", "accepted", "rejected"
ANSWERED, REFERRED, REPLIED, CLOSED = "answered", "referred", "replied", "closed"

STATUS_LABELS = {
    SUBMITTED: "待受理", ACCEPTED: "已受理", REJECTED: "不予受理", ANSWERED: "已答复",
    REFERRED: "已交办", REPLIED: "部门已回复", CLOSED: "已办结",
}
ACTION_LABELS = {
    "submit": "提交建议", "accept": "受理", "reject": "不予受理", "answer": "直接答复",
    "refer": "交办部门", "reply": "部门回复", "close": "办结反馈", "rate": "评价",
    "remind": "到期提醒", "overdue": "逾期督办",
}
ROLE_LABELS = {
    "resident": "居民", "representative": "代表委员", "liaison_office": "代表联络站",
    "department": "职能部门", "system": "系统",
}
# Groups callers ask for, instead of lists of states.
OPEN = (SUBMITTED, ACCEPTED, ANSWERED, REFERRED, REPLIED)
RESPONDED = (ANSWERED, REFERRED, REPLIED, CLOSED)


def addressed_representative(suggestion, actor: Actor) -> str | None:
    rep = suggestion.representative
    if rep is not None and rep.user_id is not None and rep.user_id == actor.user_id:
        return "representative"
    return None


def office_staff(suggestion, actor: Actor) -> str | None:
    office = suggestion.office
    if office is not None and actor.is_authenticated and actor.covers(office.area_path, (REPRESENTATIVE,)):
        return "liaison_office"
    return None


def referred_department(suggestion, actor: Actor) -> str | None:
    if suggestion.department_id is None:
        return None
    if any(g.role == DEPARTMENT and g.department_id == suggestion.department_id for g in actor.grants):
        return "department"
    return None


handler = any_of(addressed_representative, office_staff)

WORKFLOW = Workflow(SUBJECT, {
    (SUBMITTED, "accept"): (ACCEPTED, handler),
    (SUBMITTED, "reject"): (REJECTED, handler),
    (ACCEPTED, "answer"): (ANSWERED, handler),
    (ACCEPTED, "refer"): (REFERRED, handler),
    (REFERRED, "reply"): (REPLIED, referred_department),
    (ANSWERED, "close"): (CLOSED, handler),
    (REPLIED, "close"): (CLOSED, handler),
}, STATUS_LABELS, ACTION_LABELS)
