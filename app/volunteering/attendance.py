"""Attendance: check-in and check-out on site, the hours they give, and the organiser's corrections."""
from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from app.core.errors import Conflict, Invalid, NotFound
from app.core.scoping import Actor
from app.core.time import local_display, to_local, utcnow
from app.core.workflow import record
from app.extensions import db
from app.volunteering.activities import (
    CHECK_IN_OPENS,
    CHECK_OUT_CLOSES,
    get_activity,
    in_check_window,
    require_organiser,
)
from app.volunteering.enrolling import find_enrollment
from app.volunteering.ledger import CENT, credit_hours, decide, find_entry, hours_text, hours_value
from app.volunteering.models import Activity, Enrollment, ServiceHours
from app.volunteering.states import (
    ABSENT,
    ENROLLED,
    ENROLLMENT_FLOW,
    ENROLLMENT_LABELS,
    HOURS_FLOW,
    PENDING,
    PUBLISHED,
    VOLUNTEER,
)


def _scanned_enrollment(actor: Actor, activity_id: int, scene: str, what: str) -> tuple[Activity, Enrollment]:
    activity = get_activity(activity_id)
    if scene.strip() != activity.scene:
        raise Invalid("活动码不正确，请扫描活动现场的签到码。", errors={"scene": ["与该活动不符"]})
    if activity.status != PUBLISHED:
        raise Conflict("活动已取消。")
    now = utcnow()
    if not in_check_window(activity, now):
        opens = local_display(activity.starts_at - CHECK_IN_OPENS)
        closes = local_display(activity.ends_at + CHECK_OUT_CLOSES)
        raise Conflict(f"现在不能{what}：签到签退时间为 {opens} 至 {closes}。")
    enrollment = find_enrollment(activity.id, actor.user_id)
    if enrollment is None:
        raise Conflict(f"您没有报名该活动，不能{what}。")
    if enrollment.status != ENROLLED:
        raise Conflict(f"您的报名状态为“{ENROLLMENT_LABELS[enrollment.status]}”，不能{what}。")
    return activity, enrollment


def check_in(actor: Actor, activity_id: int, scene: str) -> Enrollment:
    activity, enrollment = _scanned_enrollment(actor, activity_id, scene, "签到")
    if enrollment.check_in_at is not None:
        raise Conflict(f"您已于 {local_display(enrollment.check_in_at)} 签到，无需重复签到。")
    enrollment.check_in_at = utcnow()
    record("enrollment", enrollment.id, actor, VOLUNTEER, "check_in", ENROLLED, ENROLLED,
           data={"at": enrollment.check_in_at.isoformat()})
    return enrollment


def check_out(actor: Actor, activity_id: int, scene: str) -> Enrollment:
    """Hours = min(check-out, end) − max(check-in, start); they enter the ledger as pending."""
    activity, enrollment = _scanned_enrollment(actor, activity_id, scene, "签退")
    if enrollment.check_in_at is None:
        raise Conflict("您还没有签到，请先签到。")
    if enrollment.check_out_at is not None:
        raise Conflict(f"您已于 {local_display(enrollment.check_out_at)} 签退。")
    enrollment.check_out_at = utcnow()
    enrollment.hours = served_hours(activity, enrollment.check_in_at, enrollment.check_out_at)
    record("enrollment", enrollment.id, actor, VOLUNTEER, "check_out", ENROLLED, ENROLLED,
           data={"at": enrollment.check_out_at.isoformat(), "hours": str(enrollment.hours)})
    if enrollment.hours > 0:
        _credit_enrollment(activity, enrollment)
    return enrollment


def served_hours(activity: Activity, check_in_at: datetime, check_out_at: datetime) -> Decimal:
    seconds = (min(check_out_at, activity.ends_at) - max(check_in_at, activity.starts_at)).total_seconds()
    return (Decimal(max(0, int(seconds))) / Decimal(3600)).quantize(CENT, rounding=ROUND_HALF_UP)


def _credit_enrollment(activity: Activity, enrollment: Enrollment) -> ServiceHours:
    started = max(enrollment.check_in_at or activity.starts_at, activity.starts_at)
    ended = min(enrollment.check_out_at or activity.ends_at, activity.ends_at)
    return credit_hours(
        user_id=enrollment.user_id, source_type="activity", source_id=activity.id, hours=enrollment.hours,
        area_path=activity.area_path, description=activity.title, organiser_area_id=activity.area_id,
        organiser_name=activity.organiser_name, served_on=to_local(activity.starts_at).date(),
        place=activity.place_text, started_at=started, ended_at=ended if ended > started else None,
        recorded_by=activity.created_by,
    )


# -- organiser corrections -------------------------------------------------------------------

def correct_attendance(actor: Actor, activity_id: int, *, user_id: int, action: str, reason: str,
                       hours: Decimal | float | None = None) -> Enrollment:
    """Mark someone absent, or set their hours, with a reason; the timeline keeps old and new values."""
    activity = get_activity(activity_id)
    role = require_organiser(actor, activity)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("请填写更正原因。", errors={"reason": ["必填"]})
    if utcnow() < activity.starts_at:
        raise Conflict("活动开始后才能登记考勤或更正时长。")
    enrollment = find_enrollment(activity.id, user_id)
    if enrollment is None:
        raise NotFound("该用户没有报名此活动。")
    entry = find_entry(user_id, "activity", activity.id)
    if entry is not None and entry.status != PENDING:
        raise Conflict(f"该服务时长已审核（{HOURS_FLOW.labels[entry.status]}），不能再更正。")
    old = {"status": enrollment.status, "hours": hours_text(enrollment.hours)}
    if action == "absent":
        new = {"status": ABSENT, "hours": "0.00"}
        ENROLLMENT_FLOW.apply(enrollment, "mark_absent", actor, note=reason, data={"old": old, "new": new})
        enrollment.hours = Decimal("0.00")
        if entry is not None:
            decide(entry, "reject", actor, note=f"登记为缺席：{reason}")
    elif action == "hours":
        new_hours = hours_value(hours)
        limit = served_hours(activity, activity.starts_at, activity.ends_at)
        if new_hours <= 0 or new_hours > limit:
            raise Invalid(f"服务时长应大于 0 且不超过活动时长 {limit} 小时。", errors={"hours": [f"0–{limit}"]})
        if enrollment.status == ABSENT:
            ENROLLMENT_FLOW.apply(enrollment, "restore", actor, note=reason)
        elif enrollment.status != ENROLLED:
            raise Conflict(f"该报名状态为“{ENROLLMENT_LABELS[enrollment.status]}”，不能登记时长。")
        new = {"status": ENROLLED, "hours": hours_text(new_hours)}
        record("enrollment", enrollment.id, actor, role, "correct_hours", old["status"], ENROLLED,
               note=reason, data={"old": old, "new": new})
        enrollment.hours = new_hours
        if entry is None:
            _credit_enrollment(activity, enrollment)
        else:
            record("service_hours", entry.id, actor, role, "correct", PENDING, PENDING, note=reason,
                   data={"old": {"hours": hours_text(entry.hours)}, "new": {"hours": hours_text(new_hours)}})
            entry.hours = new_hours
    else:
        raise Invalid("未知的考勤操作。", errors={"action": ["应为 absent 或 hours"]})
    enrollment.corrected_by = actor.user_id
    enrollment.correction_reason = reason
    db.session.flush()
    return enrollment
