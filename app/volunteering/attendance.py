"""Attendance: check-in and check-out on site, the hours they give, and the organiser's corrections."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from app.core import audit
from app.core.errors import Conflict, Invalid, NotFound
from app.core.scoping import Actor, admin_role
from app.core.time import local_display, to_local, utcnow
from app.core.workflow import record
from app.extensions import db
from app.volunteering import checkin_codes
from app.volunteering.activities import (
    CHECK_IN_OPENS,
    CHECK_OUT_CLOSES,
    aware,
    decorate,
    get_activity,
    in_check_window,
    require_organiser,
)
from app.volunteering.checkin_codes import MANUAL
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
    PRESENCE_CONFIRMED,
    PRESENCE_PENDING,
    PRESENCE_REFUSED,
    PUBLISHED,
    VOLUNTEER,
)


def _scanned_enrollment(actor: Actor, activity_id: int, code: str, what: str) -> tuple[Activity, Enrollment, str]:
    activity = get_activity(activity_id)
    method = checkin_codes.accept(activity, code)
    if activity.status != PUBLISHED:
        raise Conflict("活动已取消。")
    _require_window(activity, what)
    enrollment = find_enrollment(activity.id, actor.user_id)
    if enrollment is None:
        raise Conflict(f"您没有报名该活动，不能{what}。")
    if enrollment.status != ENROLLED:
        raise Conflict(f"您的报名状态为“{ENROLLMENT_LABELS[enrollment.status]}”，不能{what}。")
    return activity, enrollment, method


def _require_window(activity: Activity, what: str) -> None:
    if not in_check_window(activity, utcnow()):
        opens = local_display(activity.starts_at - CHECK_IN_OPENS)
        closes = local_display(activity.ends_at + CHECK_OUT_CLOSES)
        raise Conflict(f"现在不能{what}：签到签退时间为 {opens} 至 {closes}。")


def check_in(actor: Actor, activity_id: int, scene: str, *, lat: float | None = None,
             lng: float | None = None) -> Enrollment:
    """Check in with the code shown on site. Where the activity has a place, the phone's location (GCJ-02)
    decides: within the radius the check-in stands; farther away, or without a location, it waits for the
    organiser's confirmation. Only the distance is kept."""
    activity, enrollment, method = _scanned_enrollment(actor, activity_id, scene, "签到")
    if enrollment.check_in_at is not None:
        raise Conflict(f"您已于 {local_display(enrollment.check_in_at)} 签到，无需重复签到。")
    enrollment.check_in_at, enrollment.check_in_method = utcnow(), method
    enrollment.check_in_distance_m, enrollment.presence = None, ""
    if checkin_codes.has_place(activity):
        if lat is not None and lng is not None:
            enrollment.check_in_distance_m = checkin_codes.distance_m(activity, lat, lng)
        if enrollment.check_in_distance_m is None or enrollment.check_in_distance_m > activity.place_radius_m:
            enrollment.presence = PRESENCE_PENDING
    record("enrollment", enrollment.id, actor, VOLUNTEER, "check_in", ENROLLED, ENROLLED,
           data={"at": enrollment.check_in_at.isoformat(), "method": method,
                 "distance_m": enrollment.check_in_distance_m, "presence": enrollment.presence})
    return enrollment


def check_out(actor: Actor, activity_id: int, scene: str) -> Enrollment:
    """Hours = min(check-out, end) − max(check-in, start); they enter the ledger as pending."""
    activity, enrollment, method = _scanned_enrollment(actor, activity_id, scene, "签退")
    if enrollment.check_in_at is None:
        raise Conflict("您还没有签到，请先签到。")
    if enrollment.check_out_at is not None:
        raise Conflict(f"您已于 {local_display(enrollment.check_out_at)} 签退。")
    _check_out_at(activity, enrollment, utcnow(), actor, VOLUNTEER, data={"method": method})
    return enrollment


def _check_out_at(activity: Activity, enrollment: Enrollment, at: datetime, actor: Actor, role: str, *,
                  note: str = "", data: dict | None = None) -> None:
    enrollment.check_out_at = at
    enrollment.hours = served_hours(activity, enrollment.check_in_at, enrollment.check_out_at)
    record("enrollment", enrollment.id, actor, role, "check_out", ENROLLED, ENROLLED, note=note,
           data={"at": at.isoformat(), "hours": str(enrollment.hours), **(data or {})})
    if enrollment.hours > 0:
        _credit_enrollment(activity, enrollment)


def current_code(actor: Actor, activity_id: int) -> checkin_codes.RotatingCode:
    """The code the organiser shows on site now; it changes every minute."""
    activity = get_activity(activity_id)
    require_organiser(actor, activity)
    if activity.status != PUBLISHED:
        raise Conflict("活动已取消，不能签到。")
    return checkin_codes.current_code(activity)


def set_check_in_rules(actor: Actor, activity_id: int, *, fallback_code_enabled: bool,
                       place_lat: Decimal | None = None, place_lng: Decimal | None = None,
                       place_radius_m: int | None = None) -> Activity:
    """The organiser enables the printed fallback code, and sets (or clears) the place and radius."""
    activity = get_activity(activity_id)
    role = require_organiser(actor, activity)
    place = (place_lat, place_lng, place_radius_m)
    if any(v is not None for v in place) and None in place:
        raise Invalid("请同时填写活动地点的纬度、经度和签到半径，或全部留空。",
                      errors={"place_radius_m": ["纬度、经度、半径须同时填写"]})
    if place_lat is not None and not (-90 <= place_lat <= 90 and -180 <= place_lng <= 180):
        raise Invalid("经纬度超出范围。", errors={"place_lat": ["纬度 −90~90，经度 −180~180"]})
    if place_radius_m is not None and not 20 <= place_radius_m <= 5000:
        raise Invalid("签到半径应在 20 至 5000 米之间。", errors={"place_radius_m": ["20–5000 米"]})
    old = _rules(activity)
    activity.fallback_code_enabled = bool(fallback_code_enabled)
    activity.place_lat, activity.place_lng, activity.place_radius_m = place
    new = _rules(activity)
    record("activity", activity.id, actor, role, "check_in_rules", activity.status, activity.status,
           data={"old": old, "new": new})  # declares the act activity.check_in_rules
    db.session.flush()
    return decorate(actor, activity)


def _rules(activity: Activity) -> dict:
    return {"fallback_code_enabled": bool(activity.fallback_code_enabled),
            "place_lat": None if activity.place_lat is None else str(activity.place_lat),
            "place_lng": None if activity.place_lng is None else str(activity.place_lng),
            "place_radius_m": activity.place_radius_m}


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

@dataclass
class _Hand:
    """One of the organiser's attendance acts in progress."""
    actor: Actor
    role: str
    activity: Activity
    enrollment: Enrollment
    entry: ServiceHours | None
    reason: str


def correct_attendance(actor: Actor, activity_id: int, *, user_id: int, action: str, reason: str,
                       hours: Decimal | float | None = None, at: datetime | None = None) -> Enrollment:
    """The organiser's hand on attendance, always with a reason that goes on the record and the audit log:
    check someone in or out, confirm or refuse a check-in made away from the place, mark someone absent,
    or set their hours. The timeline keeps the old and the new values."""
    activity = get_activity(activity_id)
    role = require_organiser(actor, activity)
    handler = ATTENDANCE_ACTIONS.get(action)
    if handler is None:
        raise Invalid("未知的考勤操作。", errors={"action": [f"应为 {'、'.join(ATTENDANCE_ACTIONS)}"]})
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("请填写原因。", errors={"reason": ["必填"]})
    enrollment = find_enrollment(activity.id, user_id)
    if enrollment is None:
        raise NotFound("该用户没有报名此活动。")
    entry = find_entry(user_id, "activity", activity.id)
    if entry is not None and entry.status != PENDING:
        raise Conflict(f"该服务时长已审核（{HOURS_FLOW.labels[entry.status]}），不能再更正。")
    # Declared first, so that it names the audit row (the timeline steps below add theirs after it).
    audit.act(f"attendance.{action}", activity_id=activity.id, enrollment_id=enrollment.id, user_id=user_id)
    handler(_Hand(actor, role, activity, enrollment, entry, reason), hours=hours, at=at)
    enrollment.corrected_by = actor.user_id
    enrollment.correction_reason = reason
    db.session.flush()
    return enrollment


def _after_start(hand: _Hand) -> None:
    if utcnow() < hand.activity.starts_at:
        raise Conflict("活动开始后才能登记缺席或更正时长。")


def _mark_absent(hand: _Hand, **_) -> None:
    _after_start(hand)
    enrollment = hand.enrollment
    old = {"status": enrollment.status, "hours": hours_text(enrollment.hours)}
    new = {"status": ABSENT, "hours": "0.00"}
    ENROLLMENT_FLOW.apply(enrollment, "mark_absent", hand.actor, note=hand.reason, data={"old": old, "new": new})
    enrollment.hours = Decimal("0.00")
    if hand.entry is not None:
        decide(hand.entry, "reject", hand.actor, note=f"登记为缺席：{hand.reason}")


def _set_hours(hand: _Hand, *, hours, **_) -> None:
    _after_start(hand)
    activity, enrollment, entry = hand.activity, hand.enrollment, hand.entry
    old = {"status": enrollment.status, "hours": hours_text(enrollment.hours)}
    new_hours = hours_value(hours)
    limit = served_hours(activity, activity.starts_at, activity.ends_at)
    if new_hours <= 0 or new_hours > limit:
        raise Invalid(f"服务时长应大于 0 且不超过活动时长 {limit} 小时。", errors={"hours": [f"0–{limit}"]})
    if enrollment.status == ABSENT:
        ENROLLMENT_FLOW.apply(enrollment, "restore", hand.actor, note=hand.reason)
    elif enrollment.status != ENROLLED:
        raise Conflict(f"该报名状态为“{ENROLLMENT_LABELS[enrollment.status]}”，不能登记时长。")
    new = {"status": ENROLLED, "hours": hours_text(new_hours)}
    record("enrollment", enrollment.id, hand.actor, hand.role, "correct_hours", old["status"], ENROLLED,
           note=hand.reason, data={"old": old, "new": new})
    enrollment.hours = new_hours
    # Setting the hours by hand is the organiser vouching for the presence.
    if enrollment.presence == PRESENCE_PENDING:
        enrollment.presence = PRESENCE_CONFIRMED
    if entry is None:
        _credit_enrollment(activity, enrollment)
    else:
        record("service_hours", entry.id, hand.actor, hand.role, "correct", PENDING, PENDING, note=hand.reason,
               data={"old": {"hours": hours_text(entry.hours)}, "new": {"hours": hours_text(new_hours)}})
        entry.hours = new_hours


def _by_hand_at(hand: _Hand, at: datetime | None, what: str) -> datetime:
    if hand.enrollment.status != ENROLLED:
        raise Conflict(f"该报名状态为“{ENROLLMENT_LABELS[hand.enrollment.status]}”，不能{what}。")
    _require_window(hand.activity, what)
    now = utcnow()
    at = aware(at) if at else now
    if at > now or at < hand.activity.starts_at - CHECK_IN_OPENS:
        opens = local_display(hand.activity.starts_at - CHECK_IN_OPENS)
        raise Invalid(f"时间应在 {opens} 之后、现在之前。", errors={"at": ["时间不在签到签退时段内"]})
    return at


def _check_in_by_hand(hand: _Hand, *, at=None, **_) -> None:
    enrollment = hand.enrollment
    if enrollment.check_in_at is not None:
        raise Conflict(f"已于 {local_display(enrollment.check_in_at)} 签到。")
    enrollment.check_in_at = _by_hand_at(hand, at, "登记签到")
    enrollment.check_in_method, enrollment.check_in_distance_m, enrollment.presence = MANUAL, None, ""
    record("enrollment", enrollment.id, hand.actor, hand.role, "check_in", ENROLLED, ENROLLED, note=hand.reason,
           data={"at": enrollment.check_in_at.isoformat(), "method": MANUAL})


def _check_out_by_hand(hand: _Hand, *, at=None, **_) -> None:
    enrollment = hand.enrollment
    if enrollment.check_in_at is None:
        raise Conflict("该志愿者还没有签到，请先登记签到。")
    if enrollment.check_out_at is not None or hand.entry is not None:
        raise Conflict("该志愿者已签退或已有服务时长，如需调整请用“核定时长”。")
    at = _by_hand_at(hand, at, "登记签退")
    if at < enrollment.check_in_at:
        raise Invalid("签退时间不能早于签到时间。", errors={"at": ["早于签到时间"]})
    _check_out_at(hand.activity, enrollment, at, hand.actor, hand.role, note=hand.reason,
                  data={"method": MANUAL})


def _confirm_presence(hand: _Hand, **_) -> None:
    enrollment = _pending_presence(hand)
    enrollment.presence = PRESENCE_CONFIRMED
    record("enrollment", enrollment.id, hand.actor, hand.role, "confirm_presence", ENROLLED, ENROLLED,
           note=hand.reason, data={"distance_m": enrollment.check_in_distance_m})


def _refuse_presence(hand: _Hand, **kwargs) -> None:
    enrollment = _pending_presence(hand)
    enrollment.presence = PRESENCE_REFUSED
    _mark_absent(hand, **kwargs)


def _pending_presence(hand: _Hand) -> Enrollment:
    if hand.enrollment.presence != PRESENCE_PENDING:
        raise Conflict("该签到不需要确认。")
    return hand.enrollment


ATTENDANCE_ACTIONS = {
    "check_in": _check_in_by_hand,
    "check_out": _check_out_by_hand,
    "confirm_presence": _confirm_presence,
    "refuse_presence": _refuse_presence,
    "absent": _mark_absent,
    "hours": _set_hours,
}
ATTENDANCE_LABELS = {"check_in": "登记签到", "check_out": "登记签退", "confirm_presence": "确认到场",
                     "refuse_presence": "不予确认（记为缺席）", "absent": "登记缺席", "hours": "核定时长"}


def offered_actions(actor: Actor, activity: Activity, enrollments) -> dict[int, tuple[list[str], str]]:
    """For the roster: per enrollment, the attendance steps that would succeed now (the same rules as
    `correct_attendance`), and when there are none, why not, so the console offers nothing that is refused."""
    if not admin_role(actor, activity.area_path):
        return {e.id: ([], "只有活动的组织方可以登记考勤。") for e in enrollments}
    now = utcnow()
    started = now >= activity.starts_at
    window = in_check_window(activity, now)
    user_ids = [e.user_id for e in enrollments]
    entries = {h.user_id: h for h in db.session.scalars(select(ServiceHours).where(
        ServiceHours.source_type == "activity", ServiceHours.source_id == activity.id,
        ServiceHours.user_id.in_(user_ids)))} if user_ids else {}
    offers = {}
    for e in enrollments:
        entry = entries.get(e.user_id)
        if entry is not None and entry.status != PENDING:
            offers[e.id] = ([], f"服务时长已审核（{HOURS_FLOW.labels[entry.status]}），如有错误请在“服务时长”中更正。")
            continue
        if e.status not in (ENROLLED, ABSENT):
            offers[e.id] = ([], f"报名状态为“{ENROLLMENT_LABELS[e.status]}”，无需登记考勤。")
            continue
        enrolled = e.status == ENROLLED
        can = {
            "check_in": enrolled and window and e.check_in_at is None,
            "check_out": enrolled and window and e.check_in_at is not None and e.check_out_at is None and entry is None,
            "confirm_presence": e.presence == PRESENCE_PENDING,
            "refuse_presence": e.presence == PRESENCE_PENDING and enrolled and started,
            "absent": enrolled and started,
            "hours": started,
        }
        actions = [a for a in ATTENDANCE_ACTIONS if can[a]]
        offers[e.id] = (actions, "" if actions else "活动开始后才能登记考勤。")
    return offers


def printed_code(actor: Actor, activity_id: int) -> Activity:
    """The activity whose paper fallback code the organiser prints (its scene); only while that code is on."""
    activity = get_activity(activity_id)
    require_organiser(actor, activity)
    if not activity.fallback_code_enabled:
        raise Conflict("未启用纸质备用签到码：请先在“签到规则”中启用。")
    return activity
