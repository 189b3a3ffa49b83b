"""Yearly service targets (年度服务目标): set by the community, counted from approved ledger entries, and who is behind."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.areas.models import COMMUNITY
from app.areas.service import get_area
from app.core import audit
from app.core.errors import Forbidden, Invalid
from app.core.pagination import Page, paginate
from app.core.scoping import Actor, admin_role
from app.core.time import to_local, utcnow
from app.extensions import db
from app.members.models import APPROVED, PartyMember
from app.records.models import ServiceTarget
from app.volunteering.models import ServiceHours
from app.volunteering.states import APPROVED as HOURS_APPROVED

MAX_SERVICES = 365


def this_year() -> int:
    return to_local(utcnow()).year


def _community(actor: Actor, community_id: int):
    community = get_area(community_id)
    if community.level != COMMUNITY:
        raise Invalid("服务目标按社区（村）设定。", errors={"community_id": ["应为社区或村"]})
    if not admin_role(actor, community.path):
        raise Forbidden("只有本社区的管理员可以设定和查看服务目标。")
    return community


def set_target(actor: Actor, community_id: int, *, year: int, services: int) -> dict:
    community = _community(actor, community_id)
    if not 2000 <= year <= 2100:
        raise Invalid("年份无效。", errors={"year": ["年份无效"]})
    if not 1 <= services <= MAX_SERVICES:
        raise Invalid(f"年度服务目标为 1 到 {MAX_SERVICES} 次。", errors={"services": [f"1 到 {MAX_SERVICES} 次"]})
    target = db.session.scalar(select(ServiceTarget).where(
        ServiceTarget.community_id == community.id, ServiceTarget.year == year))
    if target is None:
        target = ServiceTarget(community_id=community.id, area_path=community.path, year=year)
        db.session.add(target)
    target.services = services
    target.set_by = actor.user_id
    db.session.flush()
    audit.act("service_target.set", id=target.id, community_id=community.id, year=year, services=services)
    return {"community_id": community.id, "year": year, "services": services}


def target_for(community_id: int, year: int) -> int | None:
    return db.session.scalar(select(ServiceTarget.services).where(
        ServiceTarget.community_id == community_id, ServiceTarget.year == year))


def services_done(user_id: int, year: int) -> int:
    """Approved ledger entries served in the year: what counts towards the target."""
    return db.session.scalar(select(func.count(ServiceHours.id)).where(
        ServiceHours.user_id == user_id, ServiceHours.status == HOURS_APPROVED,
        ServiceHours.served_on >= date(year, 1, 1), ServiceHours.served_on <= date(year, 12, 31))) or 0


def verdict(target: int | None, done: int) -> dict:
    """What the console and the employer report say about one member's year."""
    if target is None:
        return {"target": None, "done": done, "met": None, "short_by": 0, "label": "社区未设定年度目标"}
    met = done >= target
    return {"target": target, "done": done, "met": met, "short_by": max(target - done, 0),
            "label": "已达标" if met else f"未达标（还差 {target - done} 次）"}


def member_verdict(member: PartyMember, year: int) -> dict:
    return verdict(target_for(member.community_id, year), services_done(member.user_id, year))


def progress(actor: Actor, community_id: int, *, year: int | None = None, behind_only: bool = False,
             limit: int | None = None, cursor: str | None = None) -> dict:
    """The community's approved members with their services this year against the target, those behind first asked."""
    community = _community(actor, community_id)
    year = year or this_year()
    target = target_for(community.id, year)
    done = (select(ServiceHours.user_id, func.count(ServiceHours.id).label("n"))
            .where(ServiceHours.status == HOURS_APPROVED, ServiceHours.served_on >= date(year, 1, 1),
                   ServiceHours.served_on <= date(year, 12, 31))
            .group_by(ServiceHours.user_id).subquery())
    stmt = (select(PartyMember).outerjoin(done, done.c.user_id == PartyMember.user_id)
            .where(PartyMember.community_id == community.id, PartyMember.status == APPROVED))
    if behind_only and target is not None:
        stmt = stmt.where(func.coalesce(done.c.n, 0) < target)
    page: Page = paginate(stmt, PartyMember.id, limit=limit, cursor=cursor)
    counts = dict(db.session.execute(select(done.c.user_id, done.c.n).where(
        done.c.user_id.in_([m.user_id for m in page.items]))).all()) if page.items else {}
    items = [{"member_id": m.id, "name": m.name, "org_name": m.org_name,
              **verdict(target, counts.get(m.user_id, 0))} for m in page.items]
    return {"community_id": community.id, "community_name": community.name, "year": year, "target": target,
            "items": items, "next_cursor": page.next_cursor}
