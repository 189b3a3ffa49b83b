"""Retention (个人信息保护法 第十九条): cut ended cases loose from their reporters after N months.

Every end state counts (办结, 不予受理, 撤回). The case, its photos and its timeline stay for the
statistics and the record; who reported it does not. Set-based, one batch of ids at a time, so a
county's first run over years of cases is a few statements per thousand cases.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Numeric, cast, delete, func, select, update

from app.accounts.models import User
from app.cases.models import Case, CaseFollower
from app.cases.states import GROUPS
from app.core.time import utcnow
from app.core.timeline import TimelineEvent
from app.extensions import db

PLACEHOLDER_USERNAME = "anonymised-resident"
ENDED = GROUPS["closed"]


def months_before(moment: datetime, months: int) -> datetime:
    month_index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, 28)
    return moment.replace(year=year, month=month + 1, day=day)


def placeholder_reporter() -> User:
    """One inactive account that stands in for every anonymised person; it cannot log in."""
    user = db.session.scalar(select(User).where(User.username == PLACEHOLDER_USERNAME))
    if user is None:
        user = User(username=PLACEHOLDER_USERNAME, display_name="已匿名化居民", is_active=False)
        db.session.add(user)
        db.session.flush()
    return user


def forget_actor_in_timelines(subject_type: str, subject_ids: list[int], owner_column) -> None:
    """The person a record belonged to leaves its timeline: their events keep the act, not the actor.
    `owner_column` is the record's column naming that person (Case.reporter_id, Wish.requester_id …)."""
    table = owner_column.class_
    db.session.execute(
        update(TimelineEvent)
        .where(TimelineEvent.subject_type == subject_type, TimelineEvent.subject_id.in_(subject_ids),
               TimelineEvent.actor_id == select(owner_column).where(table.id == TimelineEvent.subject_id)
               .scalar_subquery())
        .values(actor_id=None).execution_options(synchronize_session=False))


def anonymise_ended_cases(cutoff: datetime, batch: int, now: datetime | None = None) -> list[int]:
    """One batch: cases that ended before `cutoff` and still name their reporter. Returns their ids."""
    ids = list(db.session.scalars(
        select(Case.id).where(Case.status.in_(ENDED), Case.closed_at < cutoff, Case.anonymised_at.is_(None))
        .order_by(Case.id).limit(batch)))
    if not ids:
        return []
    placeholder = placeholder_reporter()
    forget_actor_in_timelines("case", ids, Case.reporter_id)
    db.session.execute(delete(CaseFollower).where(CaseFollower.case_id.in_(ids)))
    # The version column is left alone: staff acting on an ended case at this moment are not refused.
    # Where the reporter stood may be their door: the point keeps ≈ 100 m (three decimals) for the maps and
    # statistics, the accuracy and the picker's address text go.
    db.session.execute(update(Case).where(Case.id.in_(ids)).values(
        reporter_id=placeholder.id, anonymous=True, anonymised_at=now or utcnow(),
        location_lat=_coarse(Case.location_lat), location_lng=_coarse(Case.location_lng),
        location_accuracy=None, location_address="")
        .execution_options(synchronize_session=False))
    return ids


def _coarse(column):
    """A coordinate rounded to three decimals (≈ 110 m), in SQL on both databases (PostgreSQL rounds numerics)."""
    return cast(func.round(cast(column, Numeric(10, 6)), 3), Float)
