"""Dual registration (双报到): registering, the community's review, and the roster of approved members."""
from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import (
    ADMIN_ROLES,
    COMMUNITY_ADMIN,
    PARTY_MEMBER,
    RoleGrant,
    User,
)
from app.accounts.service import grant_role
from app.areas.models import COMMUNITY, GRID, Area
from app.areas.service import get_area
from app.content_safety import policy
from app.core import crypto
from app.core.errors import Conflict, Invalid, NotFound
from app.core.pagination import Page, paginate
from app.core.scoping import Actor, admin_role, scope_filter
from app.core.time import to_local, utcnow
from app.core.workflow import Workflow, record
from app.extensions import db
from app.members.models import APPROVED, OPEN_STATUSES, PENDING, REJECTED, STATUS_LABELS, PartyMember
from app.notifications.service import notify

MAX_SKILLS = 10
REPORT_MAX_ROWS = 5000


def _reviewer(member: PartyMember, actor: Actor) -> str | None:
    return admin_role(actor, member.area_path)


WORKFLOW = Workflow("party_member", {
    (PENDING, "approve"): (APPROVED, _reviewer),
    (PENDING, "reject"): (REJECTED, _reviewer),
}, STATUS_LABELS, {"approve": "通过报到申请", "reject": "驳回报到申请"})


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
    policy.screen("enrollment", db.session.get(User, actor.user_id),
                  "\n".join(filter(None, (name, org_name, availability, *(skills or [])))), "org_name")
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
    names = area_names({m.community_id for m in page.items} | {m.grid_id for m in page.items if m.grid_id})
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
    names = names if names is not None else area_names({member.community_id, member.grid_id})
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


def area_names(ids: set[int | None]) -> dict[int, str]:
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
