"""Case reads the portal needs beyond the API's: tracking by number and phone, the dashboard figures, and
the people a case may be dispatched to. Every staff read here goes through the cases service's scope."""
from __future__ import annotations

import hmac
from datetime import timedelta

from sqlalchemy import func, select

from app.accounts.models import ADMIN_ROLES, GRID_WORKER, RoleGrant, User
from app.accounts.service import actor_for
from app.cases.models import Case, TrackingAttempt
from app.cases.service import staff_scope
from app.cases.states import HANDLED, SUBMITTED, TIMED
from app.core.errors import TooManyRequests
from app.core.scoping import Actor, scope_filter
from app.core.time import local_today_start, utcnow
from app.extensions import db

NOT_FOUND = "未找到匹配的事件，请核对受理编号和手机号后四位。"
TRACKING_TRIES = 5
TRACKING_WINDOW = timedelta(hours=1)
DUE_SOON = timedelta(hours=24)


def tracking_budget_left(tracking_no: str) -> None:
    """Refuse a tracking number that has had TRACKING_TRIES wrong tries within the last TRACKING_WINDOW:
    with four digits to guess, the phone's last four are a secret only while guessing is slow."""
    tracking_no = (tracking_no or "").strip().upper()
    if not tracking_no:
        return
    since = utcnow() - TRACKING_WINDOW
    wrong = db.session.scalar(select(func.count(TrackingAttempt.id)).where(
        TrackingAttempt.tracking_no == tracking_no[:32], TrackingAttempt.created_at >= since))
    if (wrong or 0) >= TRACKING_TRIES:
        raise TooManyRequests("该受理编号的查询错误次数过多，请一小时后再试。")


def tracked_case(tracking_no: str, phone_last4: str) -> tuple[Case, Actor] | None:
    """The case and its reporter's actor, if the last four digits match the reporter's phone; else None,
    and the wrong try is recorded against the number (the edge commits it with the answer).

    Both failures give the same answer, so the page reveals nothing about which numbers exist."""
    tracking_no = (tracking_no or "").strip().upper()
    phone_last4 = (phone_last4 or "").strip()
    if not tracking_no or len(tracking_no) > 32:
        return None
    row = None
    if len(phone_last4) == 4 and phone_last4.isdigit():
        row = db.session.execute(select(Case.id, User).join(User, User.id == Case.reporter_id)
                                 .where(Case.tracking_no == tracking_no)).first()
    if row is None or not hmac.compare_digest(row[1].phone_last4 or "", phone_last4):
        db.session.add(TrackingAttempt(tracking_no=tracking_no))
        db.session.flush()
        return None
    return db.session.get(Case, row[0]), actor_for(row[1])


def case_figures(actor: Actor) -> dict[str, int]:
    """新增、待受理、待核查、已超时、即将到期 over the cases the actor may see, in one query."""
    now = utcnow()
    timed = Case.status.in_(TIMED)
    row = db.session.execute(select(
        func.count().filter(Case.created_at >= local_today_start(now)),
        func.count().filter(Case.status == SUBMITTED),
        func.count().filter(Case.status == HANDLED),
        func.count().filter(timed & Case.overdue.is_(True)),
        func.count().filter(timed & Case.overdue.is_(False) & (Case.due_at <= now + DUE_SOON)),
    ).where(staff_scope(actor))).one()
    return dict(zip(("new_today", "pending_review", "pending_verify", "overdue", "due_soon"),
                    (int(v or 0) for v in row), strict=True))


def due_soon(actor: Actor, limit: int = 8) -> list[Case]:
    """The open cases whose time limit runs out first (the dashboard's short list, not a queue)."""
    from app.cases.service import LOAD

    stmt = (select(Case).options(*LOAD).where(staff_scope(actor), Case.status.in_(TIMED),
                                              Case.due_at.is_not(None))
            .order_by(Case.due_at).limit(limit))
    return list(db.session.scalars(stmt))


def pending_counts(actor: Actor) -> dict[str, int]:
    """Wishes awaiting review and party-member registrations awaiting approval, for admins."""
    from app.members.models import PENDING, PartyMember
    from app.wishes.models import SUBMITTED as WISH_SUBMITTED
    from app.wishes.models import Wish

    if not actor.has_role(*ADMIN_ROLES):
        return {}
    wishes = db.session.scalar(select(func.count(Wish.id)).where(
        Wish.status == WISH_SUBMITTED, scope_filter(actor, Wish.area_path, ADMIN_ROLES)))
    members = db.session.scalar(select(func.count(PartyMember.id)).where(
        PartyMember.status == PENDING, scope_filter(actor, PartyMember.area_path, ADMIN_ROLES)))
    return {"wishes": wishes or 0, "members": members or 0}


def dispatch_options(actor: Actor, case: Case) -> dict:
    """Who the dispatch dialog may list: the grid workers of the case's grid and the departments in scope."""
    from app.areas.service import departments_in_scope

    ancestors = [int(part) for part in case.area_path.strip("/").split("/") if part]
    workers = list(db.session.scalars(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.role == GRID_WORKER, RoleGrant.area_id.in_(ancestors), User.is_active.is_(True))
        .order_by(User.id)).unique())
    departments = [d for d in departments_in_scope(actor) if case.area_path.startswith(d.area_path)]
    return {"workers": workers, "departments": departments}
