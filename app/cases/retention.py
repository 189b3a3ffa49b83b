"""Retention (个人信息保护法 第十九条): cut closed cases loose from their reporters after N months.

The case, its photos and its timeline stay for the statistics; who reported it does not.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update

from app.accounts.models import User
from app.cases.models import Case, CaseFollower
from app.core.time import utcnow
from app.core.timeline import TimelineEvent
from app.extensions import db

PLACEHOLDER_USERNAME = "anonymised-resident"
BATCH = 1000


def months_before(moment: datetime, months: int) -> datetime:
    month_index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, 28)
    return moment.replace(year=year, month=month + 1, day=day)


def placeholder_reporter() -> User:
    """One inactive account that stands in for every anonymised reporter; it cannot log in."""
    user = db.session.scalar(select(User).where(User.username == PLACEHOLDER_USERNAME))
    if user is None:
        user = User(username=PLACEHOLDER_USERNAME, display_name="已匿名化居民", is_active=False)
        db.session.add(user)
        db.session.flush()
    return user


def anonymise_closed_cases(months: int, now: datetime | None = None) -> int:
    now = now or utcnow()
    cutoff = months_before(now, months)
    cases = list(db.session.scalars(
        select(Case).where(Case.status == "closed", Case.closed_at < cutoff, Case.anonymised_at.is_(None))
        .order_by(Case.id).limit(BATCH)))
    if not cases:
        return 0
    placeholder = placeholder_reporter()
    for case in cases:
        former = case.reporter_id
        db.session.execute(update(TimelineEvent).where(
            TimelineEvent.subject_type == "case", TimelineEvent.subject_id == case.id,
            TimelineEvent.actor_id == former).values(actor_id=None))
        case.reporter_id = placeholder.id
        case.anonymous = True
        case.anonymised_at = now
    db.session.execute(delete(CaseFollower).where(CaseFollower.case_id.in_([c.id for c in cases])))
    db.session.flush()
    return len(cases)
