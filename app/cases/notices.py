"""Who hears about a case, and the outbox rows each step writes for them."""
from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import COMMUNITY_ADMIN, DEPARTMENT, STREET_ADMIN, RoleGrant, User
from app.accounts.responsible import grid_workers_of, holders
from app.cases.models import Case, CaseFollower
from app.cases.states import STATE_LABELS
from app.core.time import local_display, utcnow
from app.extensions import db
from app.notifications.service import notify


def department_staff(department_id: int) -> list[int]:
    return list(db.session.scalars(
        select(RoleGrant.user_id).join(User, User.id == RoleGrant.user_id)
        .where(RoleGrant.role == DEPARTMENT, RoleGrant.department_id == department_id, User.is_active.is_(True))
        .order_by(RoleGrant.user_id)
    ))


def watchers(case: Case) -> list[int]:
    """The reporter and everyone following the case."""
    followers = db.session.scalars(select(CaseFollower.user_id).where(CaseFollower.case_id == case.id))
    return [case.reporter_id, *followers]


def supervisors(case: Case) -> list[int]:
    """The community admins over the case; the street admins when the community has none."""
    return holders(COMMUNITY_ADMIN, case.area_path) or holders(STREET_ADMIN, case.area_path)


def responsible(case: Case) -> list[int]:
    """Whoever must act next: the assignee, the department, the community, or the grid's workers."""
    if case.assignee_id:
        return [case.assignee_id]
    if case.department_id:
        return department_staff(case.department_id)
    if case.escalated:
        return supervisors(case)
    return grid_workers_of(case.area_path) or supervisors(case)


def _data(case: Case, extra: dict | None = None) -> dict:
    """Template values by meaning (see app/notifications/templates.py), kept short."""
    data = {
        "tracking_no": case.tracking_no,
        "subject": case.category.name[:20],
        "status": STATE_LABELS[case.status][:5],
        "time": local_display(utcnow()),
    }
    data.update(extra or {})
    return data


def _page(case: Case) -> str:
    return f"pages/case/detail?id={case.id}"


def send(user_ids, kind: str, case: Case, title: str, body: str = "", extra: dict | None = None) -> None:
    notify(user_ids, kind, title=title, body=body, page=_page(case), data=_data(case, extra),
           subject=("case", case.id))


def to_watchers(case: Case, kind: str, title: str, body: str = "", extra: dict | None = None) -> None:
    send(watchers(case), kind, case, title, body, extra)
