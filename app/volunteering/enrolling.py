"""Enrollment: take a place or wait for one, give it up, and move the waitlist up. Never overbooks."""
from __future__ import annotations

from sqlalchemy import select

from app.core.errors import Conflict, NotFound
from app.core.scoping import Actor
from app.core.time import local_display, utcnow
from app.core.workflow import record
from app.extensions import db
from app.volunteering.activities import lock_activity, tell
from app.volunteering.models import Activity, Enrollment
from app.volunteering.states import (
    CANCELLED,
    ENROLLED,
    ENROLLMENT_FLOW,
    ENROLLMENT_LABELS,
    PUBLISHED,
    VOLUNTEER,
    WAITLISTED,
)


def find_enrollment(activity_id: int, user_id: int | None) -> Enrollment | None:
    return db.session.scalar(select(Enrollment).where(
        Enrollment.activity_id == activity_id, Enrollment.user_id == user_id))


def enroll(actor: Actor, activity_id: int) -> Enrollment:
    """Take a place, or join the waitlist when the activity is full. Never overbooks."""
    activity = lock_activity(activity_id)
    if activity.status != PUBLISHED:
        raise Conflict("活动已取消，不能报名。")
    if utcnow() > activity.enroll_deadline:
        raise Conflict(f"报名已于 {local_display(activity.enroll_deadline)} 截止。")
    enrollment = find_enrollment(activity.id, actor.user_id)
    if enrollment is not None and enrollment.status != CANCELLED:
        raise Conflict(f"您已报名该活动（{ENROLLMENT_LABELS[enrollment.status]}）。")
    full = activity.enrolled_count >= activity.capacity
    position = activity.next_position
    activity.next_position += 1
    if enrollment is None:
        enrollment = Enrollment(activity=activity, activity_id=activity.id, user_id=actor.user_id,
                                status=WAITLISTED if full else ENROLLED, position=position)
        db.session.add(enrollment)
        db.session.flush()
        record("enrollment", enrollment.id, actor, VOLUNTEER, "enroll", None, enrollment.status)
    else:
        ENROLLMENT_FLOW.apply(enrollment, "enroll_waitlist" if full else "enroll", actor)
        enrollment.position = position
        enrollment.check_in_at = enrollment.check_out_at = enrollment.hours = None
    if full:
        activity.waitlist_count += 1
        ahead = activity.waitlist_count
        tell([actor.user_id], activity, "waitlisted", "候补中", title=f"已进入候补：{activity.title}",
             body=f"名额已满，您排在候补第 {ahead} 位。有人取消时将按顺序递补并通知您。")
    else:
        activity.enrolled_count += 1
        tell([actor.user_id], activity, "enrolled", "报名成功", title=f"报名成功：{activity.title}",
             body=f"活动时间 {local_display(activity.starts_at)}，地点：{activity.place_text}。请准时到场扫码签到。")
    db.session.flush()
    return enrollment


def cancel_enrollment(actor: Actor, activity_id: int) -> Enrollment:
    """Give up a place before the start; the first on the waitlist moves up."""
    activity = lock_activity(activity_id)
    enrollment = find_enrollment(activity.id, actor.user_id)
    if enrollment is None:
        raise NotFound("您没有报名该活动。")
    if utcnow() >= activity.starts_at:
        raise Conflict("活动已开始，不能取消报名。如无法参加请联系组织方。")
    was = enrollment.status
    ENROLLMENT_FLOW.apply(enrollment, "cancel", actor)
    if was == ENROLLED:
        activity.enrolled_count -= 1
        _promote_waitlist(activity, actor)
    else:
        activity.waitlist_count -= 1
    db.session.flush()
    return enrollment


def _promote_waitlist(activity: Activity, actor: Actor) -> None:
    while activity.enrolled_count < activity.capacity and activity.waitlist_count > 0:
        first = db.session.scalar(
            select(Enrollment).where(Enrollment.activity_id == activity.id, Enrollment.status == WAITLISTED)
            .order_by(Enrollment.position).limit(1))
        if first is None:
            return
        ENROLLMENT_FLOW.apply(first, "promote", actor, note="有人取消报名，候补递补。")
        activity.enrolled_count += 1
        activity.waitlist_count -= 1
        tell([first.user_id], activity, "promoted", "候补成功", title=f"候补成功：{activity.title}",
             body=f"有人取消报名，您已由候补转为正式报名。活动时间 {local_display(activity.starts_at)}。")
