"""The wish flow as a table: from which state, by which action, to which state, and who may take it."""
from __future__ import annotations

from app.accounts.models import PARTY_MEMBER
from app.core.scoping import Actor, Grant, admin_role
from app.core.workflow import Workflow, any_of
from app.wishes.models import (
    APPROVED,
    CANCELLED,
    CLAIMED,
    CONFIRMED,
    DISPUTED,
    EXPIRED,
    FULFILLED,
    OFFERED,
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


def service_member(wish: Wish, actor: Actor) -> str | None:
    """A member who may claim: a goods wish is met by donors' pledges, not by a claim."""
    return None if wish.is_goods else community_member(wish, actor)


def service_admin(wish: Wish, actor: Actor) -> str | None:
    """The community's admin, for the steps that only a service wish has (派单)."""
    return None if wish.is_goods else community_admin(wish, actor)


def goods_admin(wish: Wish, actor: Actor) -> str | None:
    return community_admin(wish, actor) if wish.is_goods else None


def offeree(wish: Wish, actor: Actor) -> str | None:
    return PARTY_MEMBER if actor.user_id is not None and actor.user_id == wish.offered_to else None


def claimer(wish: Wish, actor: Actor) -> str | None:
    return PARTY_MEMBER if actor.user_id is not None and actor.user_id == wish.claimed_by else None


def system(_wish: Wish, actor: Actor) -> str | None:
    return SYSTEM if SYSTEM in actor.roles else None


TRANSITIONS = {
    (SUBMITTED, "approve"): (APPROVED, community_admin),
    (SUBMITTED, "reject"): (REJECTED, community_admin),
    (SUBMITTED, "cancel"): (CANCELLED, requester),
    (APPROVED, "claim"): (CLAIMED, service_member),
    (APPROVED, "dispatch"): (OFFERED, service_admin),
    (APPROVED, "cancel"): (CANCELLED, requester),
    (APPROVED, "expire"): (EXPIRED, system),
    (APPROVED, "deliver"): (FULFILLED, goods_admin),
    # 派单 → 接单: the member accepts or declines; a silent offer lapses back to the community.
    (OFFERED, "accept"): (CLAIMED, offeree),
    (OFFERED, "decline"): (APPROVED, offeree),
    (OFFERED, "offer_lapse"): (APPROVED, system),
    (OFFERED, "take_back"): (APPROVED, community_admin),
    (OFFERED, "reassign"): (OFFERED, community_admin),
    (CLAIMED, "release"): (APPROVED, claimer),
    (CLAIMED, "fulfil"): (FULFILLED, claimer),
    (CLAIMED, "take_back"): (APPROVED, community_admin),
    (CLAIMED, "reassign"): (OFFERED, community_admin),
    (CLAIMED, "stall_return"): (APPROVED, system),
    (FULFILLED, "confirm"): (CONFIRMED, any_of(requester, system)),
    (FULFILLED, "dispute"): (DISPUTED, requester),
    # The community reviews a disputed fulfilment: back to the claimer, or closed as done.
    (DISPUTED, "redo"): (CLAIMED, community_admin),
    (DISPUTED, "close"): (CONFIRMED, community_admin),
}

ACTION_LABELS = {
    "submit": "提交心愿", "approve": "审核通过", "reject": "审核驳回", "cancel": "撤销心愿", "claim": "党员认领",
    "dispatch": "社区派单", "expire": "逾期未认领", "release": "退回心愿池", "fulfil": "完成心愿",
    "confirm": "确认完成", "rate": "评价", "edit": "修改公开内容",
    "accept": "接单", "decline": "拒绝接单", "offer_lapse": "派单超时未接", "take_back": "社区收回",
    "reassign": "社区改派", "stall_remind": "提醒办理", "stall_return": "超期未办退回",
    "dispute": "对完成有异议", "redo": "退回党员重办", "close": "核实办结",
    "pledge": "爱心认捐", "handover": "确认交接", "deliver": "物品交接完成",
}
# Steps the transitions endpoint does not take: the sweeps' own, and the hand-over that completes a goods wish.
INTERNAL_ACTIONS = frozenset({"expire", "offer_lapse", "stall_return", "deliver"})

WORKFLOW = Workflow("wish", TRANSITIONS, STATUS_LABELS, ACTION_LABELS)
