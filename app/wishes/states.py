"""The wish flow as a table: from which state, by which action, to which state, and who may take it."""
from __future__ import annotations

from app.accounts.models import PARTY_MEMBER
from app.core.scoping import Actor, Grant
from app.core.workflow import Workflow, any_of
from app.members.service import admin_role
from app.wishes.models import (
    APPROVED,
    CANCELLED,
    CLAIMED,
    CONFIRMED,
    EXPIRED,
    FULFILLED,
    REJECTED,
    STATUS_LABELS,
    SUBMITTED,
    Wish,
)

SYSTEM = "system"
# The periodic jobs act as this actor: it holds no real role, so it can only take the system's own steps.
SYSTEM_ACTOR = Actor(user_id=None, grants=(Grant(role=SYSTEM, area_path="/"),))


def community_admin(wish: Wish, actor: Actor) -> str | None:
    return admin_role(actor, wish.area_path)


def requester(wish: Wish, actor: Actor) -> str | None:
    return "resident" if actor.user_id is not None and actor.user_id == wish.requester_id else None


def community_member(wish: Wish, actor: Actor) -> str | None:
    """An approved party member of the wish's community (the role is granted on approval), not its requester."""
    if actor.user_id is None or actor.user_id == wish.requester_id:
        return None
    return PARTY_MEMBER if any(wish.area_path.startswith(p) for p in actor.paths([PARTY_MEMBER])) else None


def claimer(wish: Wish, actor: Actor) -> str | None:
    return PARTY_MEMBER if actor.user_id is not None and actor.user_id == wish.claimed_by else None


def system(_wish: Wish, actor: Actor) -> str | None:
    return SYSTEM if SYSTEM in actor.roles else None


TRANSITIONS = {
    (SUBMITTED, "approve"): (APPROVED, community_admin),
    (SUBMITTED, "reject"): (REJECTED, community_admin),
    (SUBMITTED, "cancel"): (CANCELLED, requester),
    (APPROVED, "claim"): (CLAIMED, community_member),
    (APPROVED, "dispatch"): (CLAIMED, community_admin),
    (APPROVED, "cancel"): (CANCELLED, requester),
    (APPROVED, "expire"): (EXPIRED, system),
    (CLAIMED, "release"): (APPROVED, claimer),
    (CLAIMED, "fulfil"): (FULFILLED, claimer),
    (FULFILLED, "confirm"): (CONFIRMED, any_of(requester, system)),
}

ACTION_LABELS = {
    "submit": "提交心愿", "approve": "审核通过", "reject": "审核驳回", "cancel": "撤销心愿", "claim": "党员认领",
    "dispatch": "社区派单", "expire": "逾期未认领", "release": "退回心愿池", "fulfil": "完成心愿",
    "confirm": "确认完成", "rate": "评价", "edit": "修改公开内容",
}

WORKFLOW = Workflow("wish", TRANSITIONS, STATUS_LABELS, ACTION_LABELS)
