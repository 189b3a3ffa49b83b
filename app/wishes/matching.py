"""Dispatch matching (社区派单): rank a community's approved members for a wish, each with a reason in Chinese."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.accounts.profile import profiles_of
from app.areas.models import Area
from app.core.time import utcnow
from app.extensions import db
from app.members.models import PartyMember
from app.wishes.models import CATEGORIES, CLAIMED, DONE, Wish

RECENT = timedelta(days=30)
# Points per factor; the order of the weights is the order of importance.
W_SKILL, W_NEAR, W_LOAD, W_ACTIVE = 40, 25, 20, 15


def matched_skills(category: str, skills: list[str]) -> list[str]:
    label, words = CATEGORIES.get(category, (category, ()))
    return [tag for tag in skills or [] if tag in label or any(word in tag for word in words)]


def _open_claims(user_ids: list[int]) -> dict[int, int]:
    return dict(db.session.execute(select(Wish.claimed_by, func.count(Wish.id)).where(
        Wish.claimed_by.in_(user_ids), Wish.status == CLAIMED).group_by(Wish.claimed_by)).all())


def _recent_done(user_ids: list[int]) -> dict[int, int]:
    return dict(db.session.execute(select(Wish.claimed_by, func.count(Wish.id)).where(
        Wish.claimed_by.in_(user_ids), Wish.status.in_(DONE), Wish.fulfilled_at >= utcnow() - RECENT)
        .group_by(Wish.claimed_by)).all())


def rank_candidates(wish: Wish, members: list[PartyMember]) -> list[dict]:
    if not members:
        return []
    user_ids = [m.user_id for m in members]
    load, recent = _open_claims(user_ids), _recent_done(user_ids)
    profiles = profiles_of(user_ids)
    grid_ids = {m.grid_id for m in members if m.grid_id} | ({wish.grid_id} if wish.grid_id else set())
    grids = dict(db.session.execute(select(Area.id, Area.name).where(Area.id.in_(grid_ids))).all()) \
        if grid_ids else {}
    scored = []
    for member in members:
        profile = profiles.get(member.user_id)
        # The volunteer profile is the person's own, kept up to date; the registration's tags still count.
        all_skills = list(dict.fromkeys([*(profile.skills if profile else []), *(member.skills or [])]))
        availability = (profile.availability if profile and profile.availability else member.availability)
        skills = matched_skills(wish.category, all_skills)
        near = wish.grid_id is not None and member.grid_id == wish.grid_id
        open_claims, done = load.get(member.user_id, 0), recent.get(member.user_id, 0)
        score = (W_SKILL * bool(skills) + W_NEAR * near + W_LOAD / (1 + open_claims)
                 + W_ACTIVE * min(done, 3) / 3)
        reasons = [
            f"擅长“{'、'.join(skills)}”，与“{wish.category_label}”对口" if skills
            else f"技能与“{wish.category_label}”无直接对应",
            _proximity_reason(wish, member, grids),
            f"当前有 {open_claims} 个心愿在办" if open_claims else "当前没有在办的心愿",
            f"近30天完成 {done} 个心愿" if done else "近30天暂无服务记录",
            *([f"可服务时间：{availability}"] if availability else []),
        ]
        scored.append({
            "member_id": member.id, "user_id": member.user_id, "name": member.name, "org_name": member.org_name,
            "grid_id": member.grid_id, "grid_name": grids.get(member.grid_id) if member.grid_id else None,
            "skills": all_skills, "matched_skills": skills, "same_grid": near,
            "open_claims": open_claims, "recent_fulfilled": done, "availability": availability,
            "score": round(score, 1), "reason": "；".join(reasons),
        })
    scored.sort(key=lambda c: (-c["score"], c["open_claims"], c["member_id"]))
    for rank, candidate in enumerate(scored, start=1):
        candidate["rank"] = rank
    return scored


def _proximity_reason(wish: Wish, member: PartyMember, grids: dict[int, str]) -> str:
    if wish.grid_id is None:
        return "心愿未注明网格，按同社区考虑"
    if member.grid_id == wish.grid_id:
        return f"同在{grids.get(wish.grid_id, '一个网格')}，离得近"
    if member.grid_id is None:
        return "未登记居住网格"
    return f"居住在{grids.get(member.grid_id, '其他网格')}，不在同一网格"
