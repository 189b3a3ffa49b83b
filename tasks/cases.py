"""Case deadlines: remind before, mark overdue and escalate to the supervisor after (run by rq cron)."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from app.cases import notices
from app.cases.models import Case
from app.cases.states import STATE_LABELS, TIMED
from app.core.scoping import Actor
from app.core.time import local_display, utcnow
from app.core.workflow import record
from app.extensions import db
from app.stats.rollups import mark_cases
from tasks import job

BATCH = 500
SYSTEM = Actor(user_id=None)


def _claim(condition, values: dict) -> list[int]:
    """Flip a flag on the due cases with one guarded UPDATE; only the rows this run changed come back.

    The UPDATE leaves the version column alone, so staff acting on a case at the same moment
    are not refused because of the sweep, and two overlapping sweeps never notify twice.
    """
    ids = list(db.session.scalars(select(Case.id).where(condition).order_by(Case.due_at).limit(BATCH)))
    if not ids:
        return []
    result = db.session.execute(
        update(Case).where(Case.id.in_(ids), condition).values(**values).returning(Case.id)
        .execution_options(synchronize_session=False))
    return sorted(result.scalars())


def _cases(ids: list[int]) -> list[Case]:
    if not ids:
        return []
    return list(db.session.scalars(select(Case).options(joinedload(Case.category))
                                   .where(Case.id.in_(ids)).order_by(Case.id)
                                   .execution_options(populate_existing=True)))


@job
def sweep_deadlines() -> dict:
    """One pass over running deadlines; safe to run every minute, and twice at once."""
    now = utcnow()
    open_clock = Case.status.in_(TIMED)

    reminded = _claim(open_clock & (Case.remind_at <= now) & (Case.due_at > now) & Case.overdue.is_(False),
                      {"remind_at": None})
    for case in _cases(reminded):
        notices.send(notices.responsible(case), "case_due_soon", case, "事件即将超时，请尽快办理",
                     body=f"办理时限：{local_display(case.due_at)}", extra={"time": local_display(case.due_at)})

    late = _claim(open_clock & (Case.due_at <= now) & Case.overdue.is_(False), {"overdue": True, "remind_at": None})
    mark_cases(late)  # a bulk UPDATE: no flush sees it, so the rollups of these days are marked here
    for case in _cases(late):
        stage = "受理" if case.status == "submitted" else "办理"
        record("case", case.id, SYSTEM, "system", "overdue", case.status, case.status,
               note=f"{stage}已超过时限（{local_display(case.due_at)}）", data={"stage": stage})
        notices.send(notices.responsible(case), "case_overdue", case, f"事件{stage}已超时",
                     body=f"{STATE_LABELS[case.status]}，时限 {local_display(case.due_at)}")
        notices.send(notices.supervisors(case), "case_overdue_escalated", case, f"辖区事件{stage}超时，请督办",
                     body=f"{case.category.name}：{case.description[:60]}")
    db.session.flush()
    return {"reminded": len(reminded), "overdue": len(late)}
