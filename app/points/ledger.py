"""The points ledger: every change of a balance is one appended entry, and a source event pays once.

`settle(source, …)` is the one call the other domains make when an event may earn points (approved
hours, a confirmed wish, a verified report, a praise received). It computes what the event is worth
under the scheme in effect when it happened, compares with what the ledger already holds for that
source and person, and appends the difference: the first line earns, a later one corrects (reversing
entry). The unique key (person, source, revision) makes two simultaneous settlements write one line.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.areas.models import COMMUNITY
from app.areas.service import area_chain
from app.core.errors import Conflict
from app.core.time import to_local, utcnow
from app.extensions import db
from app.notifications.service import notify
from app.points.models import (
    AUTO,
    EARN,
    EVALUATED,
    PER_UNIT_SOURCES,
    PUBLISHED,
    REVERSE,
    Household,
    HouseholdMember,
    PointAccount,
    PointEntry,
    PointItem,
    PointScheme,
)


class InsufficientPoints(Conflict):
    message = "积分余额不足。"


def period_of(moment: datetime) -> str:
    return to_local(moment).strftime("%Y-%m")


def community_of(area_path: str):
    return area_chain(area_path).get(COMMUNITY)


def scheme_in_effect(community_id: int, day: date) -> PointScheme | None:
    """The published version that applies on `day` (Asia/Shanghai): the latest one effective by then."""
    return db.session.scalar(
        select(PointScheme).where(PointScheme.community_id == community_id, PointScheme.status == PUBLISHED,
                                  PointScheme.effective_from <= day)
        .order_by(PointScheme.version.desc()).limit(1))


def household_of(user_id: int) -> Household | None:
    return db.session.scalar(select(Household).join(HouseholdMember, HouseholdMember.household_id == Household.id)
                             .where(HouseholdMember.user_id == user_id))


def balance_of(user_id: int) -> int:
    return db.session.scalar(select(PointAccount.balance).where(PointAccount.user_id == user_id)) or 0


def points_summary(user_id: int, date_from: date | None = None, date_to: date | None = None) -> dict:
    """双积分: what a person earned (in the months of the range, earnings less reversals) and holds now,
    for their service record and their employer's report."""
    stmt = select(func.coalesce(func.sum(PointEntry.points), 0)).where(
        PointEntry.user_id == user_id, PointEntry.kind.in_((EARN, REVERSE)))
    if date_from is not None:
        stmt = stmt.where(PointEntry.period >= date_from.strftime("%Y-%m"))
    if date_to is not None:
        stmt = stmt.where(PointEntry.period <= date_to.strftime("%Y-%m"))
    return {"earned": int(db.session.scalar(stmt) or 0), "balance": balance_of(user_id)}


def _ensure_account(user_id: int) -> None:
    if db.session.scalar(select(PointAccount.id).where(PointAccount.user_id == user_id)) is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(PointAccount(user_id=user_id, balance=0))
    except IntegrityError:
        pass  # opened a moment ago by a concurrent entry: the same one account


def _move_balance(user_id: int, delta: int) -> None:
    """Add `delta` to the balance unless that would take it below zero (one conditional UPDATE: no
    read-then-write, so concurrent spending cannot overdraw)."""
    _ensure_account(user_id)
    moved = db.session.execute(
        update(PointAccount).where(PointAccount.user_id == user_id, PointAccount.balance + delta >= 0)
        .values(balance=PointAccount.balance + delta).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        raise InsufficientPoints()


@dataclass
class Rule:
    """The rule an entry is earned under, as it was: scheme version and item."""

    scheme_id: int | None
    code: str
    name: str


def post(*, user_id: int, points: int, kind: str, source_type: str, source_id: int, community_id: int,
         area_path: str, rule: Rule | None = None, note: str = "", approved_by: int | None = None,
         period: str | None = None, revision: int | None = None) -> PointEntry | None:
    """Append one entry and move the balance with it, atomically. None when the same line of the same
    source was written a moment ago by a concurrent request (it pays once)."""
    if revision is None:
        revision = db.session.scalar(select(func.count(PointEntry.id)).where(
            PointEntry.user_id == user_id, PointEntry.source_type == source_type,
            PointEntry.source_id == source_id)) or 0
    household = household_of(user_id)
    path = household.area_path if household is not None and household.community_id == community_id else area_path
    entry = PointEntry(
        user_id=user_id, household_id=household.id if household is not None else None, community_id=community_id,
        area_path=path, points=points, kind=kind, source_type=source_type, source_id=source_id, revision=revision,
        scheme_id=rule.scheme_id if rule else None, item_code=rule.code if rule else "",
        item_name=rule.name if rule else "", note=note[:200], approved_by=approved_by,
        period=period or period_of(utcnow()))
    try:
        with db.session.begin_nested():
            db.session.add(entry)
            db.session.flush()
            _move_balance(user_id, points)
    except IntegrityError:
        return None
    return entry


def entries_of_source(user_id: int, source_type: str, source_id: int) -> list[PointEntry]:
    return list(db.session.scalars(select(PointEntry).where(
        PointEntry.user_id == user_id, PointEntry.source_type == source_type, PointEntry.source_id == source_id)
        .order_by(PointEntry.revision)))


def _worth(item: PointItem, quantity) -> int:
    per_unit = item.source in PER_UNIT_SOURCES or item.kind == EVALUATED  # hours, or the share of 100 points
    value = Decimal(item.points) * Decimal(str(quantity)) if per_unit else item.points
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def earned_in_month(user_id: int, code: str, period: str, *, except_source: tuple[str, int] | None = None) -> int:
    stmt = select(func.coalesce(func.sum(PointEntry.points), 0)).where(
        PointEntry.user_id == user_id, PointEntry.item_code == code, PointEntry.period == period,
        PointEntry.kind.in_((EARN, REVERSE)))
    if except_source is not None:
        stmt = stmt.where((PointEntry.source_type != except_source[0]) | (PointEntry.source_id != except_source[1]))
    return db.session.scalar(stmt) or 0


def capped(item: PointItem, user_id: int, period: str, worth: int, source: tuple[str, int]) -> int:
    if item.monthly_cap is None or worth <= 0:
        return worth
    return max(0, min(worth, item.monthly_cap - earned_in_month(user_id, item.code, period, except_source=source)))


def settle(source_type: str, source_id: int, *, user_id: int | None, area_path: str, occurred_at: datetime,
           valid: bool = True, quantity=1, approved_by: int | None = None, note: str = "",
           item: PointItem | None = None) -> PointEntry | None:
    """Bring the ledger for one source event to what it is worth now: earn, correct, or reverse.

    A first settlement finds the automatic item of the scheme in effect when the event happened (or
    uses `item`, for an approved application); nothing is paid when the scheme names no such item.
    A later one keeps the rule of the first line (past points keep the rules they were earned under).
    """
    if user_id is None:
        return None
    for _attempt in range(2):
        lines = entries_of_source(user_id, source_type, source_id)
        if lines:
            first = lines[0]
            community_id, period = first.community_id, first.period
            item = item or db.session.scalar(select(PointItem).where(
                PointItem.scheme_id == first.scheme_id, PointItem.code == first.item_code))
            if item is None:
                return None
        else:
            if not valid:
                return None
            community = community_of(area_path)
            if community is None:
                return None
            community_id, period = community.id, period_of(occurred_at)
            if item is None:
                scheme = scheme_in_effect(community_id, to_local(occurred_at).date())
                item = next((i for i in scheme.items if i.kind == AUTO and i.source == source_type), None) \
                    if scheme is not None else None
            if item is None:
                return None
        held = sum(line.points for line in lines)
        target = capped(item, user_id, period, _worth(item, quantity), (source_type, source_id)) if valid else 0
        delta = target - held
        if delta < 0:
            # A reversal never takes the balance below zero: what was already spent stays spent.
            delta = -min(-delta, balance_of(user_id))
        if delta == 0:
            return None
        # The first line earns (a deduction item earns negative points); a later one corrects it.
        entry = post(user_id=user_id, points=delta, kind=EARN if delta > 0 or not lines else REVERSE,
                     source_type=source_type, source_id=source_id,
                     community_id=community_id, area_path=area_path,
                     rule=Rule(item.scheme_id, item.code, item.name), note=note or item.name,
                     approved_by=approved_by, period=period, revision=len(lines))
        if entry is not None:
            tell(entry)
            return entry
    return None


def tell(entry: PointEntry) -> None:
    verb = "获得" if entry.points > 0 else "冲正"
    notify([entry.user_id], "points.received", title=f"积分{verb} {abs(entry.points)} 分：{entry.item_name}"[:100],
           body=entry.note, page="pages/points/index",
           data={"subject": entry.item_name, "status": "已到账" if entry.points > 0 else "已冲正",
                 "note": entry.note or entry.item_name},
           subject=("point_entry", entry.id))
