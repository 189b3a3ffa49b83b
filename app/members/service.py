"""Dual registration (双报到), its review, the service record (纪实), the employer report and the ranking."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, case, func, select

from app.accounts.models import (
    ADMIN_ROLES,
    COMMUNITY_ADMIN,
    GRID_WORKER,
    PARTY_MEMBER,
    STREET_ADMIN,
    SYSTEM_ADMIN,
    RoleGrant,
    User,
)
from app.accounts.service import grant_role
from app.areas.models import COMMUNITY, GRID, Area
from app.areas.service import get_area
from app.core import crypto
from app.core.errors import Conflict, Invalid, NotFound, OutOfScope
from app.core.pagination import Page, paginate
from app.core.scoping import Actor, scope_filter
from app.core.time import SHANGHAI, to_local, utcnow
from app.core.workflow import Workflow, record
from app.extensions import db
from app.members.models import APPROVED, OPEN_STATUSES, PENDING, REJECTED, STATUS_LABELS, PartyMember
from app.notifications.service import notify
from app.points.ledger import points_summary
from app.volunteering.models import ServiceHours
from app.volunteering.states import APPROVED as HOURS_APPROVED
from app.volunteering.states import HOURS_LABELS
from app.volunteering.states import PENDING as HOURS_PENDING
from app.wishes.models import CLAIMED, Wish

MAX_SKILLS = 10
REPORT_MAX_ROWS = 5000


def admin_role(actor: Actor, area_path: str) -> str | None:
    """The admin role under which `actor` may review records at `area_path`, if any."""
    if actor.is_system_admin:
        return SYSTEM_ADMIN
    for role in (COMMUNITY_ADMIN, STREET_ADMIN):
        if actor.covers(area_path, [role]):
            return role
    return None


def _reviewer(member: PartyMember, actor: Actor) -> str | None:
    return admin_role(actor, member.area_path)


WORKFLOW = Workflow("party_member", {
    (PENDING, "approve"): (APPROVED, _reviewer),
    (PENDING, "reject"): (REJECTED, _reviewer),
}, STATUS_LABELS)


# -- registration -----------------------------------------------------------------------------

def register(actor: Actor, *, name: str, org_name: str, community_id: int, skills: list[str] | None = None,
             availability: str = "", grid_id: int | None = None) -> dict:
    existing = db.session.scalar(select(PartyMember).where(
        PartyMember.user_id == actor.user_id, PartyMember.status.in_(OPEN_STATUSES)))
    if existing is not None:
        if existing.status == APPROVED:
            raise Conflict("您已完成双报到，无需重复报到。")
        raise Conflict("您的报到申请正在审核中，请耐心等待社区审核。")
    community = get_area(community_id)
    if community.level != COMMUNITY:
        raise Invalid("请选择报到的社区（村）。", errors={"community_id": ["应为社区或村"]})
    if grid_id is not None:
        grid = get_area(grid_id)
        if grid.level != GRID or grid.parent_id != community.id:
            raise Invalid("所选网格不属于报到社区。", errors={"grid_id": ["应为该社区下的网格"]})
    member = PartyMember(
        user_id=actor.user_id, name=_required(name, "name", "姓名"), org_name=_required(org_name, "org_name", "单位党组织"),
        community_id=community.id, area_path=community.path, grid_id=grid_id, skills=clean_skills(skills),
        availability=(availability or "").strip(), status=PENDING,
    )
    db.session.add(member)
    db.session.flush()
    record("party_member", member.id, actor, "resident", "register", None, PENDING)
    notify(community_admin_ids(community.id), "member_registered", title="新的在职党员报到申请",
           body=f"{member.name}（{member.org_name}）申请到{community.name}报到，请审核。",
           page=f"pages/member/review?id={member.id}",
           data={"name": member.name[:20], "org": member.org_name[:20], "status": "待审核"},
           subject=("party_member", member.id))
    return present(member, actor)


def _required(value: str | None, field: str, label: str) -> str:
    text = (value or "").strip()
    if not text:
        raise Invalid(f"请填写{label}。", errors={field: ["此项为必填项。"]})
    return text


def clean_skills(skills: list[str] | None) -> list[str]:
    tags = list(dict.fromkeys(s.strip() for s in (skills or []) if s and s.strip()))
    if len(tags) > MAX_SKILLS:
        raise Invalid(f"技能标签最多 {MAX_SKILLS} 个。", errors={"skills": [f"最多 {MAX_SKILLS} 个"]})
    if any(len(t) > 16 for t in tags):
        raise Invalid("每个技能标签不超过 16 个字。", errors={"skills": ["标签过长"]})
    return tags


def community_admin_ids(community_id: int) -> list[int]:
    return list(db.session.scalars(select(RoleGrant.user_id).where(
        RoleGrant.role == COMMUNITY_ADMIN, RoleGrant.area_id == community_id)))


def registration_status(user: User) -> dict | None:
    """The user's latest registration, for GET /me (JSON-ready)."""
    member = db.session.scalar(select(PartyMember).where(PartyMember.user_id == user.id)
                               .order_by(PartyMember.id.desc()).limit(1))
    if member is None:
        return None
    community = db.session.get(Area, member.community_id)
    return {
        "id": member.id, "status": member.status, "status_label": member.status_label,
        "community_id": member.community_id, "community_name": community.name if community else "",
        "org_name": member.org_name, "reject_reason": member.reject_reason or None,
        "reviewed_at": to_local(member.reviewed_at).isoformat() if member.reviewed_at else None,
    }


# -- review -----------------------------------------------------------------------------------

def list_registrations(actor: Actor, *, status: str | None = PENDING, community_id: int | None = None,
                       limit: int | None = None, cursor: str | None = None) -> Page:
    stmt = select(PartyMember).where(scope_filter(actor, PartyMember.area_path, ADMIN_ROLES))
    if status:
        stmt = stmt.where(PartyMember.status == status)
    if community_id is not None:
        stmt = stmt.where(PartyMember.community_id == community_id)
    page = paginate(stmt, PartyMember.id, limit=limit, cursor=cursor)
    names = _area_names({m.community_id for m in page.items} | {m.grid_id for m in page.items if m.grid_id})
    page.items = [present(m, actor, names) for m in page.items]
    return page


def get_member(member_id: int) -> PartyMember:
    member = db.session.get(PartyMember, member_id)
    if member is None:
        raise NotFound("党员报到记录不存在。")
    return member


def visible_member(actor: Actor, member_id: int) -> PartyMember:
    """The member themself or an admin over their community; anyone else learns nothing."""
    member = get_member(member_id)
    if member.user_id != actor.user_id and not admin_role(actor, member.area_path):
        raise NotFound("党员报到记录不存在。")
    return member


def review(actor: Actor, member_id: int, action: str, reason: str = "") -> dict:
    member = visible_member(actor, member_id)
    reason = (reason or "").strip()
    if action == "reject" and not reason:
        raise Invalid("驳回报到申请时必须填写原因。", errors={"reason": ["请填写驳回原因。"]})
    WORKFLOW.apply(member, action, actor, note=reason)
    member.reviewed_by = actor.user_id
    member.reviewed_at = utcnow()
    _AFTER_REVIEW[action](member, reason)
    return present(member, actor)


def _after_approve(member: PartyMember, _reason: str) -> None:
    grant_role(db.session.get(User, member.user_id), PARTY_MEMBER, area_id=member.community_id)
    notify([member.user_id], "member_approved", title="双报到审核通过",
           body="您已成功到社区报到，可以在心愿池认领微心愿了。", page="pages/wish/pool",
           data={"status": "已通过"}, subject=("party_member", member.id))


def _after_reject(member: PartyMember, reason: str) -> None:
    member.reject_reason = reason
    notify([member.user_id], "member_rejected", title="双报到审核未通过", body=f"原因：{reason}",
           page="pages/member/register", data={"status": "未通过", "reason": reason[:20]},
           subject=("party_member", member.id))


_AFTER_REVIEW = {"approve": _after_approve, "reject": _after_reject}


def present(member: PartyMember, actor: Actor, names: dict[int, str] | None = None) -> dict:
    names = names if names is not None else _area_names({member.community_id, member.grid_id})
    user = db.session.get(User, member.user_id)
    return {
        "id": member.id, "user_id": member.user_id, "name": member.name, "org_name": member.org_name,
        "community_id": member.community_id, "community_name": names.get(member.community_id, ""),
        "grid_id": member.grid_id, "grid_name": names.get(member.grid_id, "") if member.grid_id else None,
        "skills": member.skills or [], "availability": member.availability,
        "phone": crypto.mask_phone(crypto.decrypt(user.phone_encrypted)) if user else None,
        "status": member.status, "status_label": member.status_label,
        "reject_reason": member.reject_reason or None, "reviewed_at": member.reviewed_at,
        "created_at": member.created_at, "allowed_actions": WORKFLOW.allowed_actions(member, actor),
    }


def _area_names(ids: set[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    return dict(db.session.execute(select(Area.id, Area.name).where(Area.id.in_(wanted))).all())


def approved_members(community_path: str) -> list[PartyMember]:
    return list(db.session.scalars(select(PartyMember).where(
        PartyMember.area_path == community_path, PartyMember.status == APPROVED).order_by(PartyMember.id)))


def approved_member(member_id: int, community_path: str) -> PartyMember:
    member = db.session.get(PartyMember, member_id)
    if member is None or member.status != APPROVED or member.area_path != community_path:
        raise Invalid("该党员不是本社区已报到的在职党员。", errors={"member_id": ["请选择本社区已报到的党员"]})
    return member


# -- service record (纪实): read from approved ledger entries only --------------------------------

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
    """Praise (点赞) received as a party member; zero until the praise module exists."""
    try:
        from app.praise.models import Praise
    except ImportError:
        return 0
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
        "recent_services": approved_entries(member.user_id, newest_first=True, limit=recent),
    }


def service_row(entry: ServiceHours, wish: Wish | None) -> dict:
    return {
        "entry_id": entry.id, "source_type": entry.source_type,
        "source_label": "微心愿" if entry.source_type == "wish" else "志愿活动",
        "wish_id": wish.id if wish else None,
        "title": wish.public_title if wish else entry.description,
        "category": wish.category if wish else "activity",
        "category_label": wish.category_label if wish else "志愿活动",
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


def employer_report(actor: Actor, member_id: int, date_from: date | None, date_to: date | None) -> Report:
    member = visible_member(actor, member_id)
    today = to_local(utcnow()).date()
    date_to = date_to or today
    date_from = date_from or date(date_to.year, 1, 1)
    if date_from > date_to:
        raise Invalid("开始日期不能晚于结束日期。", errors={"from": ["开始日期晚于结束日期"]})
    rows = approved_entries(member.user_id, date_from, date_to)
    names = _area_names({member.community_id, member.grid_id})
    return Report(member=present(member, actor, names), date_from=date_from, date_to=date_to, rows=rows,
                  totals=wish_totals(member.user_id, date_from, date_to),
                  praise_count=praise_count(member.user_id, date_from, date_to), generated_at=utcnow(),
                  points=points_summary(member.user_id, date_from, date_to))


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
