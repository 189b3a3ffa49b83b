"""The state tables of activities, enrollments and service-hours entries, with who may act."""
from __future__ import annotations

from app.core.scoping import Actor, admin_role
from app.core.workflow import Workflow

SYSTEM = "system"
VOLUNTEER = "volunteer"

# Enrollment states.
ENROLLED, WAITLISTED, CANCELLED, ABSENT = "enrolled", "waitlisted", "cancelled", "absent"
# Service-hours states.
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
# Presence at check-in: nothing to confirm (""), or a check-in away from the place waiting for the organiser.
PRESENCE_PENDING, PRESENCE_CONFIRMED, PRESENCE_REFUSED = "pending", "confirmed", "refused"
PRESENCE_LABELS = {"": "", PRESENCE_PENDING: "待组织方确认", PRESENCE_CONFIRMED: "组织方已确认",
                   PRESENCE_REFUSED: "组织方不予确认"}
# Activity states.
PUBLISHED, ACTIVITY_CANCELLED = "published", "cancelled"


def organiser(obj, actor: Actor) -> str | None:
    """An admin of the organising community (or above): 谁组织谁记录."""
    activity = getattr(obj, "activity", obj)
    return admin_role(actor, activity.area_path)


def the_volunteer(enrollment, actor: Actor) -> str | None:
    return VOLUNTEER if actor.user_id is not None and actor.user_id == enrollment.user_id else None


def the_system(_obj, _actor: Actor) -> str | None:
    """Steps the system takes on its own, e.g. moving the waitlist up after a cancellation."""
    return SYSTEM


def ledger_admin(entry, actor: Actor) -> str | None:
    """Hours are decided by the admins of the organising community: 谁记录谁证明."""
    return admin_role(actor, entry.area_path)


ACTIVITY_FLOW = Workflow("activity", {
    (PUBLISHED, "cancel"): (ACTIVITY_CANCELLED, organiser),
}, labels={PUBLISHED: "报名中", ACTIVITY_CANCELLED: "已取消"}, action_labels={"cancel": "取消活动"})

ENROLLMENT_FLOW = Workflow("enrollment", {
    (ENROLLED, "cancel"): (CANCELLED, the_volunteer),
    (WAITLISTED, "cancel"): (CANCELLED, the_volunteer),
    # Re-enrolling after a cancellation; the service picks enrolled or waitlisted by capacity.
    (CANCELLED, "enroll"): (ENROLLED, the_volunteer),
    (CANCELLED, "enroll_waitlist"): (WAITLISTED, the_volunteer),
    (WAITLISTED, "promote"): (ENROLLED, the_system),
    (ENROLLED, "mark_absent"): (ABSENT, organiser),
    (ABSENT, "restore"): (ENROLLED, organiser),
}, labels={ENROLLED: "已报名", WAITLISTED: "候补中", CANCELLED: "已取消", ABSENT: "缺席"},
   action_labels={"cancel": "取消报名", "enroll": "报名", "enroll_waitlist": "候补报名", "promote": "候补递补",
                  "mark_absent": "登记缺席", "restore": "恢复为已报名"})

HOURS_FLOW = Workflow("service_hours", {
    (PENDING, "approve"): (APPROVED, ledger_admin),
    (PENDING, "reject"): (REJECTED, ledger_admin),
    # A later rejection of approved hours revokes every certificate that counted them.
    (APPROVED, "reject"): (REJECTED, ledger_admin),
}, labels={PENDING: "待审核", APPROVED: "已通过", REJECTED: "未通过"},
   action_labels={"approve": "审核通过", "reject": "审核不通过"})

ENROLLMENT_LABELS = ENROLLMENT_FLOW.labels
HOURS_LABELS = HOURS_FLOW.labels
ACTIVITY_LABELS = ACTIVITY_FLOW.labels
