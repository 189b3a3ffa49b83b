"""The registration and the post claim as tables: from which state, by which action, to which state, and who may."""
from __future__ import annotations

from app.core.scoping import Actor, admin_role
from app.core.workflow import Workflow
from app.newgroups.models import (
    APPROVED,
    CLAIM_LABELS,
    LEFT,
    PENDING,
    REGISTRATION_LABELS,
    REJECTED,
    WITHDRAWN,
)


def community_admin(obj, actor: Actor) -> str | None:
    return admin_role(actor, obj.area_path)


def applicant(obj, actor: Actor) -> str | None:
    return "resident" if actor.user_id is not None and actor.user_id == obj.user_id else None


def holder_or_admin(obj, actor: Actor) -> str | None:
    return applicant(obj, actor) or community_admin(obj, actor)


REGISTRATION = Workflow("group_worker", {
    (PENDING, "approve"): (APPROVED, community_admin),
    (PENDING, "reject"): (REJECTED, community_admin),
}, REGISTRATION_LABELS, {"register": "报到", "approve": "通过报到", "reject": "驳回报到"})

CLAIM = Workflow("post_claim", {
    (PENDING, "approve"): (APPROVED, community_admin),
    (PENDING, "reject"): (REJECTED, community_admin),
    (PENDING, "withdraw"): (WITHDRAWN, applicant),
    (APPROVED, "leave"): (LEFT, holder_or_admin),
}, CLAIM_LABELS, {"claim": "认领岗位", "approve": "批准上岗", "reject": "不予批准", "withdraw": "撤回认领",
                  "leave": "离岗"})
