"""The party member's record of service (纪实), the employer report (双报告) and the community ranking:
read from approved ledger entries only, with the ratings of the wishes they fulfilled."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, case, func, select

from app.accounts.models import ADMIN_ROLES, GRID_WORKER, PARTY_MEMBER
from app.areas.models import COMMUNITY
from app.areas.service import get_area
from app.core import crypto
from app.core.errors import Invalid, OutOfScope
from app.core.scoping import Actor, admin_role
from app.core.time import SHANGHAI, to_local, utcnow
from app.extensions import db
from app.members.models import APPROVED, PartyMember
from app.members.service import REPORT_MAX_ROWS, area_names, present, visible_member
from app.points.ledger import points_summary
from app.praise.models import Praise
from app.records.targets import member_verdict, this_year
from app.volunteering.exports import SOURCE_LABELS
from app.volunteering.models import ServiceHours
from app.volunteering.states import APPROVED as HOURS_APPROVED
from app.volunteering.states import HOURS_LABELS
from app.volunteering.states import PENDING as HOURS_PENDING
from app.wishes.models import CLAIMED, Wish


def local_bounds(date_from: date | None, date_to: date | None) -> tuple[datetime | None, datetime | None]:
    """Local calendar days [from, to] as UTC instants [start, end)."""
    start = datetime.combine(date_from, time.min, SHANGHAI).astimezone(UTC) if date_from else None
    end = datetime.combine(date_to + timedelta(days=1), time.min, SHANGHAI).astimezone(UTC) if date_to else None
    return start, end


def _ledger_where(date_from: date | None, date_to: date | None) -> list:
    where = []
    if date_from is not None:
        where.append(ServiceHours.served_on >= date_from)
    if date_to is not None:
        where.append(ServiceHours.served_on <= date_to)
    return where


_RATED_WISH = and_(ServiceHours.source_type == "wish", Wish.id == ServiceHours.source_id)


def _ledger_columns():
    """Totals over approved entries; a rejected or pending entry counts nowhere."""
    approved = ServiceHours.status == HOURS_APPROVED
    return (
        func.count(case((and_(approved, ServiceHours.source_type == "wish"), ServiceHours.id))).label("fulfilled"),
        func.count(case((and_(approved, ServiceHours.source_type == "activity"), ServiceHours.id)))
        .label("activities"),
        func.coalesce(func.sum(case((approved, ServiceHours.hours), else_=0)), 0).label("hours"),
        func.avg(case((approved, Wish.rating))).label("rating_average"),
        func.count(case((approved, Wish.rating))).label("rating_count"),
    )


def wish_totals(user_id: int, date_from: date | None = None, date_to: date | None = None) -> dict:
    """A member's figures from the ledger: approved hours of wishes and activities alike."""
    stmt = (select(*_ledger_columns()).select_from(ServiceHours).outerjoin(Wish, _RATED_WISH)
            .where(ServiceHours.user_id == user_id, *_ledger_where(date_from, date_to)))
    row = db.session.execute(stmt).one()
    pending = db.session.scalar(select(func.coalesce(func.sum(ServiceHours.hours), 0)).where(
        ServiceHours.user_id == user_id, ServiceHours.status == HOURS_PENDING, *_ledger_where(date_from, date_to)))
    return {
        "wishes_fulfilled": row.fulfilled, "activities_joined": row.activities,
        "hours": round(float(row.hours), 2), "pending_hours": round(float(pending or 0), 2),
        "rating_average": round(float(row.rating_average), 2) if row.rating_average is not None else None,
        "rating_count": row.rating_count,
    }


def praise_count(user_id: int, date_from: date | None = None, date_to: date | None = None) -> int:
    """Praise (点赞) received as a party member."""
    stmt = select(func.count()).select_from(Praise).where(
        Praise.target_type == "party_member", Praise.target_id == user_id)
    start, end = local_bounds(date_from, date_to)
    if start is not None:
        stmt = stmt.where(Praise.created_at >= start)
    if end is not None:
        stmt = stmt.where(Praise.created_at < end)
    return db.session.scalar(stmt) or 0


def approved_entries(user_id: int, date_from: date | None = None, date_to: date | None = None, *,
                     newest_first: bool = False, limit: int = REPORT_MAX_ROWS) -> list[dict]:
    """The member's approved ledger entries as rows of the 纪实 and the 双报告."""
    order = (ServiceHours.served_on.desc(), ServiceHours.id.desc()) if newest_first else \
        (ServiceHours.served_on, ServiceHours.id)
    entries = list(db.session.scalars(select(ServiceHours).where(
        ServiceHours.user_id == user_id, ServiceHours.status == HOURS_APPROVED, *_ledger_where(date_from, date_to))
        .order_by(*order).limit(limit)))
    wish_ids = [e.source_id for e in entries if e.source_type == "wish"]
    wishes = {w.id: w for w in db.session.scalars(select(Wish).where(Wish.id.in_(wish_ids)))} if wish_ids else {}
    return [service_row(e, wishes.get(e.source_id) if e.source_type == "wish" else None) for e in entries]


def service_record(actor: Actor, member_id: int, recent: int = 10) -> dict:
    member = visible_member(actor, member_id)
    open_claims = db.session.scalar(select(func.count(Wish.id)).where(
        Wish.claimed_by == member.user_id, Wish.status == CLAIMED)) or 0
    return {
        "member": present(member, actor),
        **wish_totals(member.user_id),
        "praise_count": praise_count(member.user_id),
        "points": points_summary(member.user_id),
        "open_claims": open_claims,
        "year_target": {"year": this_year(), **member_verdict(member, this_year())},
        "recent_services": approved_entries(member.user_id, newest_first=True, limit=recent),
    }


def service_row(entry: ServiceHours, wish: Wish | None) -> dict:
    return {
        "entry_id": entry.id, "source_type": entry.source_type,
        "source_label": SOURCE_LABELS.get(entry.source_type, entry.source_type),
        "wish_id": wish.id if wish else None,
        "title": wish.public_title if wish else entry.description,
        "category": wish.category if wish else entry.source_type,
        "category_label": wish.category_label if wish else SOURCE_LABELS.get(entry.source_type, entry.source_type),
        "served_on": entry.served_on, "place": entry.place, "organiser_name": entry.organiser_name,
        "fulfilled_at": entry.ended_at, "confirmed_at": wish.confirmed_at if wish else entry.decided_at,
        "hours": float(entry.hours), "rating": wish.rating if wish else None,
        "status": entry.status, "status_label": HOURS_LABELS[entry.status],
        "note": (wish.fulfil_note if wish else "") or entry.evaluation,
    }


# -- employer report (双报告) -----------------------------------------------------------------

@dataclass
class Report:
    member: dict
    date_from: date
    date_to: date
    rows: list[dict]
    totals: dict
    praise_count: int
    generated_at: datetime
    points: dict | None = None  # 双积分: earned in the period, and the balance now
    # The community's yearly target for the year the report ends in, and whether it was met.
    target: dict | None = None


def employer_report(actor: Actor, member_id: int, date_from: date | None, date_to: date | None) -> Report:
    member = visible_member(actor, member_id)
    today = to_local(utcnow()).date()
    date_to = date_to or today
    date_from = date_from or date(date_to.year, 1, 1)
    if date_from > date_to:
        raise Invalid("开始日期不能晚于结束日期。", errors={"from": ["开始日期晚于结束日期"]})
    rows = approved_entries(member.user_id, date_from, date_to)
    names = area_names({member.community_id, member.grid_id})
    return Report(member=present(member, actor, names), date_from=date_from, date_to=date_to, rows=rows,
                  totals=wish_totals(member.user_id, date_from, date_to),
                  praise_count=praise_count(member.user_id, date_from, date_to), generated_at=utcnow(),
                  points=points_summary(member.user_id, date_from, date_to),
                  target={"year": date_to.year, **member_verdict(member, date_to.year)})



# -- ranking ------------------------------------------------------------------------------------

def ranking(actor: Actor, community_id: int, *, date_from: date | None = None, date_to: date | None = None,
            limit: int = 20) -> dict:
    """The community's approved members by approved ledger hours, then wishes fulfilled (a top-N list)."""
    community = get_area(community_id)
    if community.level != COMMUNITY:
        raise Invalid("排行榜按社区（村）统计。", errors={"community_id": ["应为社区或村"]})
    if not actor.covers(community.path, (*ADMIN_ROLES, GRID_WORKER, PARTY_MEMBER)):
        raise OutOfScope("只有本社区的工作人员和已报到党员可以查看排行榜。")
    join_on = [ServiceHours.user_id == PartyMember.user_id, ServiceHours.status == HOURS_APPROVED,
               *_ledger_where(date_from, date_to)]
    totals = _ledger_columns()
    stmt = (select(PartyMember, *totals).outerjoin(ServiceHours, and_(*join_on)).outerjoin(Wish, _RATED_WISH)
            .where(PartyMember.area_path == community.path, PartyMember.status == APPROVED)
            .group_by(PartyMember.id)
            .order_by(totals[2].desc(), totals[0].desc(), PartyMember.id)
            .limit(max(1, min(limit, 100))))
    sees_names = bool(admin_role(actor, community.path))
    items = []
    for rank, row in enumerate(db.session.execute(stmt), start=1):
        member = row[0]
        visible = sees_names or member.user_id == actor.user_id
        items.append({
            "rank": rank, "member_id": member.id, "name": member.name if visible else crypto.mask_name(member.name),
            "org_name": member.org_name, "wishes_fulfilled": row.fulfilled,
            "activities_joined": row.activities, "hours": round(float(row.hours), 2),
            "rating_average": round(float(row.rating_average), 2) if row.rating_average is not None else None,
            "is_me": member.user_id == actor.user_id,
        })
    return {"community_id": community.id, "community_name": community.name,
            "from": date_from, "to": date_to, "items": items}
