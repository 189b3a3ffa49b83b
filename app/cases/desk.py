"""The staff desk over cases: the dashboard's figures and short list, and whom a case may be dispatched to.
Every read goes through the cases service's scope."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.accounts.models import User
from app.accounts.responsible import ancestor_ids, holders_of
from app.areas.service import departments_in_scope
from app.cases.models import Case
from app.cases.service import LOAD, staff_scope
from app.cases.states import HANDLED, SUBMITTED, TIMED
from app.core.scoping import GRID_WORKER, Actor
from app.core.time import local_today_start, utcnow
from app.extensions import db

DUE_SOON = timedelta(hours=24)


def case_figures(actor: Actor) -> dict[str, int]:
    """新增、待受理、待核查、已超时、即将到期 over the cases the actor may see, in one query."""
    now = utcnow()
    timed = Case.status.in_(TIMED)
    row = db.session.execute(select(
        func.count().filter(Case.created_at >= local_today_start(now)),
        func.count().filter(Case.status == SUBMITTED),
        func.count().filter(Case.status == HANDLED),
        func.count().filter(timed & Case.overdue.is_(True)),
        func.count().filter(_due_soon(now)),
    ).where(staff_scope(actor))).one()
    return dict(zip(("new_today", "pending_review", "pending_verify", "overdue", "due_soon"),
                    (int(v or 0) for v in row), strict=True))


def _due_soon(now):
    """One rule for "24 小时内到期", so the dashboard's count and its table agree: open, not yet marked
    overdue (those are 已超时), and due within the next 24 hours."""
    return Case.status.in_(TIMED) & Case.overdue.is_(False) & Case.due_at.is_not(None) & (Case.due_at <= now + DUE_SOON)


def due_soon(actor: Actor, limit: int = 8) -> list[Case]:
    """The cases counted as due within 24 hours, soonest first (the dashboard's short list, not a queue)."""
    stmt = (select(Case).options(*LOAD).where(staff_scope(actor), _due_soon(utcnow()))
            .order_by(Case.due_at, Case.id).limit(limit))
    return list(db.session.scalars(stmt))


def dispatch_options(actor: Actor, case: Case) -> dict:
    """Who the dispatch dialog may list: the grid workers of the case's grid and the departments in scope."""
    held = holders_of(GRID_WORKER, ancestor_ids(case.area_path))
    workers = list(db.session.scalars(select(User).where(User.id.in_(held.with_only_columns(held.selected_columns.user_id)))
                                      .order_by(User.id)))
    departments = [d for d in departments_in_scope(actor) if case.area_path.startswith(d.area_path)]
    return {"workers": workers, "departments": departments}
