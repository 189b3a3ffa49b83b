"""The case state machine: one transition table, guarded by who may act, and the state groups.

submitted → accepted → dispatched → handled → closed; also rejected and withdrawn.
Grid workers "办小事、报大事": they accept and handle small matters themselves (accepted →
handled) and escalate big ones to the community, which dispatches them to a department.
"""
from __future__ import annotations

from datetime import timedelta

from app.accounts.models import COMMUNITY_ADMIN, DEPARTMENT, GRID_WORKER, STREET_ADMIN
from app.core.scoping import Actor, admin_role, role_over
from app.core.time import utcnow
from app.core.workflow import Workflow, any_of

SUBMITTED, ACCEPTED, DISPATCHED, HANDLED, CLOSED = "submitted", "accepted", "dispatched", "handled", "closed"
REJECTED, WITHDRAWN = "rejected", "withdrawn"

STATE_LABELS = {
    SUBMITTED: "待受理", ACCEPTED: "已受理", DISPATCHED: "处理中", HANDLED: "待核查",
    CLOSED: "已办结", REJECTED: "不予受理", WITHDRAWN: "已撤回",
}
ACTION_LABELS = {
    "report": "上报", "accept": "受理", "reject": "不予受理", "dispatch": "派遣", "escalate": "上报社区",
    "handle": "处理反馈", "verify": "核查", "reopen": "重新办理", "withdraw": "撤回", "rate": "评价",
    "overdue": "超时",
    # hand-over with an external platform (app/hotline): steps on the timeline that change no state
    "handover": "移交热线", "handover_sent": "热线已接收", "handover_failed": "移交失败", "hotline_update": "热线反馈",
    "work_order": "热线工单",
}

# FixMyStreet-style groups: callers ask for "open" or "closed", not a list of labels.
GROUPS = {
    "open": (SUBMITTED, ACCEPTED, DISPATCHED, HANDLED),
    "closed": (CLOSED, REJECTED, WITHDRAWN),
}
# States with a running deadline: acceptance while submitted, handling while accepted/dispatched.
TIMED = (SUBMITTED, ACCEPTED, DISPATCHED)

REOPEN_WINDOW = timedelta(days=7)
# Staff who see a case through its place in the area tree (departments see theirs by dispatch).
AREA_ROLES = (GRID_WORKER, COMMUNITY_ADMIN, STREET_ADMIN)
REPORTER = "resident"


# -- guards: (case, actor) -> the role the actor acts under, or None --------------------------

def admin(case, actor: Actor) -> str | None:
    return admin_role(actor, case.area_path)


def grid_worker(case, actor: Actor) -> str | None:
    """A grid worker of the case's grid, while the case has not been escalated above them."""
    if case.escalated or actor.is_system_admin:
        return None
    return role_over(actor, case.area_path, (GRID_WORKER,))


def assigned_grid_worker(case, actor: Actor) -> str | None:
    if case.assignee_id is None or case.assignee_id != actor.user_id:
        return None
    return role_over(actor, case.area_path, (GRID_WORKER,))


def assignee(case, actor: Actor) -> str | None:
    """The person or the department the case is dispatched to."""
    if case.assignee_id is not None and case.assignee_id == actor.user_id:
        return role_over(actor, case.area_path, AREA_ROLES) or GRID_WORKER
    if case.department_id is not None and case.department_id in actor.department_ids():
        return DEPARTMENT
    return None


def verifier(case, actor: Actor) -> str | None:
    """Admins verify; a grid worker verifies on site, but never their own work."""
    role = admin(case, actor)
    if role:
        return role
    if case.handler_id != actor.user_id and not actor.is_system_admin:
        return role_over(actor, case.area_path, (GRID_WORKER,))
    return None


def reporter(case, actor: Actor) -> str | None:
    return REPORTER if actor.user_id is not None and actor.user_id == case.reporter_id else None


def reporter_within_window(case, actor: Actor) -> str | None:
    if case.closed_at is None or utcnow() - case.closed_at > REOPEN_WINDOW:
        return None
    return reporter(case, actor)


reviewer = any_of(admin, grid_worker)

TRANSITIONS = {
    (SUBMITTED, "accept"): (ACCEPTED, reviewer),
    (SUBMITTED, "reject"): (REJECTED, reviewer),
    (SUBMITTED, "withdraw"): (WITHDRAWN, reporter),
    (ACCEPTED, "dispatch"): (DISPATCHED, admin),
    (ACCEPTED, "handle"): (HANDLED, reviewer),
    (ACCEPTED, "escalate"): (ACCEPTED, grid_worker),
    (DISPATCHED, "dispatch"): (DISPATCHED, admin),
    (DISPATCHED, "handle"): (HANDLED, assignee),
    (DISPATCHED, "escalate"): (ACCEPTED, assigned_grid_worker),
    (HANDLED, "verify"): (CLOSED, verifier),
    (CLOSED, "reopen"): (ACCEPTED, reporter_within_window),
}
# The other outcome of an action whose result depends on its input (workflow `target=`).
VERIFY_FAILED = DISPATCHED

ACTIONS = tuple(dict.fromkeys(action for _, action in TRANSITIONS))

CASE_FLOW = Workflow("case", TRANSITIONS, STATE_LABELS, ACTION_LABELS)
