"""Verbs of volunteering: publish, enroll, cancel, check in/out, correct attendance, credit and decide hours."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import ADMIN_ROLES
from app.areas.models import COMMUNITY, Area
from app.areas.service import area_chain, get_area
from app.core.crypto import mask_name
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, OutOfScope
from app.core.ids import new_scene
from app.core.pagination import Page, paginate
from app.core.scoping import Actor, require_scope, scope_filter
from app.core.time import SHANGHAI, local_display, to_local, utcnow
from app.core.workflow import record
from app.extensions import db
from app.notifications.service import notify
from app.points import sources as points
from app.volunteering.models import Activity, Enrollment, LedgerCorrection, ServiceHours
from app.volunteering.states import (
    ABSENT,
    ACTIVITY_FLOW,
    APPROVED,
    CANCELLED,
    ENROLLED,
    ENROLLMENT_FLOW,
    ENROLLMENT_LABELS,
    HOURS_FLOW,
    PENDING,
    PUBLISHED,
    REJECTED,
    SYSTEM,
    VOLUNTEER,
    WAITLISTED,
    admin_role,
)

CHECK_IN_OPENS = timedelta(minutes=30)
CHECK_OUT_CLOSES = timedelta(hours=2)
SOURCE_TYPES = ("activity", "wish")
CENT = Decimal("0.01")
SYSTEM_ACTOR = Actor(user_id=None)


# -- activities -----------------------------------------------------------------------------

def aware(value: datetime) -> datetime:
    """A time without an offset is read as Beijing time, as the front end shows it."""
    return value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value


def create_activity(actor: Actor, *, title: str, community_id: int, starts_at: datetime, ends_at: datetime,
                    capacity: int, description: str = "", place_text: str = "",
                    enroll_deadline: datetime | None = None, organiser_name: str | None = None) -> Activity:
    area = get_area(community_id)
    require_scope(actor, area.path, ADMIN_ROLES)
    if area.level != COMMUNITY:
        raise Invalid("活动须由社区（村）发布。", errors={"community_id": ["应为社区/村"]})
    starts_at, ends_at = aware(starts_at), aware(ends_at)
    enroll_deadline = aware(enroll_deadline) if enroll_deadline else starts_at
    if ends_at <= starts_at:
        raise Invalid("结束时间必须晚于开始时间。", errors={"ends_at": ["结束时间必须晚于开始时间。"]})
    if starts_at <= utcnow():
        raise Invalid("开始时间必须在当前时间之后。", errors={"starts_at": ["开始时间必须在当前时间之后。"]})
    if enroll_deadline > starts_at:
        raise Invalid("报名截止时间不能晚于活动开始时间。", errors={"enroll_deadline": ["不能晚于开始时间。"]})
    activity = Activity(
        title=title.strip(), description=description.strip(), place_text=place_text.strip(),
        starts_at=starts_at, ends_at=ends_at, capacity=capacity, enroll_deadline=enroll_deadline,
        area_id=area.id, area_path=area.path, organiser_name=(organiser_name or "").strip() or area.name,
        scene=new_scene("a"), status=PUBLISHED, created_by=actor.user_id,
    )
    db.session.add(activity)
    db.session.flush()
    record("activity", activity.id, actor, admin_role(area.path, actor), "publish", None, PUBLISHED)
    return decorate(actor, activity)


def get_activity(activity_id: int) -> Activity:
    activity = db.session.get(Activity, activity_id)
    if activity is None:
        raise NotFound("活动不存在。")
    return activity


def activity_detail(actor: Actor, activity_id: int) -> Activity:
    return decorate(actor, get_activity(activity_id))


def _lock_activity(activity_id: int) -> Activity:
    """The activity row, locked until commit: enrollments on one activity run one at a time."""
    activity = db.session.scalar(
        select(Activity).where(Activity.id == activity_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if activity is None:
        raise NotFound("活动不存在。")
    return activity


def list_activities(actor: Actor, *, community_id: int | None = None, upcoming: bool = False,
                    mine: bool = False, limit: int | None = None, cursor: str | None = None) -> Page:
    """Activities are public to every signed-in user; `mine` keeps those I enrolled in."""
    stmt = select(Activity)
    if community_id is not None:
        stmt = stmt.where(Activity.area_path.startswith(get_area(community_id).path, autoescape=True))
    if upcoming:
        stmt = stmt.where(Activity.ends_at >= utcnow(), Activity.status == PUBLISHED)
    if mine:
        stmt = stmt.where(Activity.id.in_(
            select(Enrollment.activity_id).where(Enrollment.user_id == actor.user_id,
                                                 Enrollment.status != CANCELLED)))
    page = paginate(stmt, Activity.id, limit=limit, cursor=cursor)
    decorate(actor, *page.items)
    return page


def decorate(actor: Actor, *activities: Activity) -> Activity | None:
    """Attach what this viewer sees: their enrollment, whether they organise it, what they can do."""
    ids = [a.id for a in activities]
    mine = {}
    if ids and actor.user_id is not None:
        mine = {e.activity_id: e for e in db.session.scalars(
            select(Enrollment).where(Enrollment.activity_id.in_(ids), Enrollment.user_id == actor.user_id))}
    now = utcnow()
    for activity in activities:
        enrollment = mine.get(activity.id)
        activity.my_enrollment = enrollment
        activity.can_manage = bool(admin_role(activity.area_path, actor))
        activity.allowed_actions = _activity_actions(activity, enrollment, now)
    return activities[0] if activities else None


def _activity_actions(activity: Activity, enrollment: Enrollment | None, now: datetime) -> list[str]:
    actions = []
    open_ = activity.status == PUBLISHED
    status = enrollment.status if enrollment else None
    if open_ and now <= activity.enroll_deadline and status in (None, CANCELLED):
        actions.append("enroll")
    if open_ and now < activity.starts_at and status in (ENROLLED, WAITLISTED):
        actions.append("cancel_enrollment")
    if open_ and status == ENROLLED and _in_window(activity, now):
        if enrollment.check_in_at is None:
            actions.append("check_in")
        elif enrollment.check_out_at is None:
            actions.append("check_out")
    if activity.can_manage:
        actions.append("attendance")
        if open_ and now < activity.ends_at:
            actions.append("cancel")
    return actions


def transition_activity(actor: Actor, activity_id: int, action: str, *, reason: str = "") -> Activity:
    """Cancel an activity: everyone enrolled or waiting is told."""
    activity = _lock_activity(activity_id)
    if action == "cancel" and not reason.strip():
        raise Invalid("请填写取消活动的原因。", errors={"reason": ["必填"]})
    ACTIVITY_FLOW.apply(activity, action, actor, note=reason)
    people = list(db.session.scalars(select(Enrollment).where(
        Enrollment.activity_id == activity.id, Enrollment.status.in_((ENROLLED, WAITLISTED)))))
    _tell([e.user_id for e in people], activity, "cancelled", "已取消", title=f"活动已取消：{activity.title}",
          body=f"原因：{reason.strip()}")
    return decorate(actor, activity)


def _activity_page(activity: Activity) -> str:
    return f"pages/activity/detail?id={activity.id}"


def _tell(user_ids, activity: Activity, event: str, status: str, *, title: str, body: str) -> None:
    notify(user_ids, f"activity.{event}", title=title, body=body, page=_activity_page(activity),
           data={"subject": activity.title, "status": status, "start_time": activity.starts_at.isoformat(),
                 "place": activity.place_text},
           subject=("activity", activity.id))


def require_organiser(actor: Actor, activity: Activity) -> str:
    role = admin_role(activity.area_path, actor)
    if not role:
        raise OutOfScope("只有活动的组织方（所属社区管理员）可以执行此操作。")
    return role


def list_enrollments(actor: Actor, activity_id: int, *, status: str | None = None,
                     limit: int | None = None, cursor: str | None = None) -> Page:
    """The roster, for the organiser."""
    require_organiser(actor, get_activity(activity_id))
    stmt = select(Enrollment).where(Enrollment.activity_id == activity_id)
    if status:
        stmt = stmt.where(Enrollment.status == status)
    return paginate(stmt, Enrollment.id, limit=limit, cursor=cursor)


# -- enrollment ------------------------------------------------------------------------------

def _find_enrollment(activity_id: int, user_id: int | None) -> Enrollment | None:
    return db.session.scalar(select(Enrollment).where(
        Enrollment.activity_id == activity_id, Enrollment.user_id == user_id))


def enroll(actor: Actor, activity_id: int) -> Enrollment:
    """Take a place, or join the waitlist when the activity is full. Never overbooks."""
    activity = _lock_activity(activity_id)
    if activity.status != PUBLISHED:
        raise Conflict("活动已取消，不能报名。")
    if utcnow() > activity.enroll_deadline:
        raise Conflict(f"报名已于 {local_display(activity.enroll_deadline)} 截止。")
    enrollment = _find_enrollment(activity.id, actor.user_id)
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
        _tell([actor.user_id], activity, "waitlisted", "候补中", title=f"已进入候补：{activity.title}",
              body=f"名额已满，您排在候补第 {ahead} 位。有人取消时将按顺序递补并通知您。")
    else:
        activity.enrolled_count += 1
        _tell([actor.user_id], activity, "enrolled", "报名成功", title=f"报名成功：{activity.title}",
              body=f"活动时间 {local_display(activity.starts_at)}，地点：{activity.place_text}。请准时到场扫码签到。")
    db.session.flush()
    return enrollment


def cancel_enrollment(actor: Actor, activity_id: int) -> Enrollment:
    """Give up a place before the start; the first on the waitlist moves up."""
    activity = _lock_activity(activity_id)
    enrollment = _find_enrollment(activity.id, actor.user_id)
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
        _tell([first.user_id], activity, "promoted", "候补成功", title=f"候补成功：{activity.title}",
              body=f"有人取消报名，您已由候补转为正式报名。活动时间 {local_display(activity.starts_at)}。")


# -- check-in / check-out ----------------------------------------------------------------------

def _in_window(activity: Activity, now: datetime) -> bool:
    return activity.starts_at - CHECK_IN_OPENS <= now <= activity.ends_at + CHECK_OUT_CLOSES


def _scanned_enrollment(actor: Actor, activity_id: int, scene: str, what: str) -> tuple[Activity, Enrollment]:
    activity = get_activity(activity_id)
    if scene.strip() != activity.scene:
        raise Invalid("活动码不正确，请扫描活动现场的签到码。", errors={"scene": ["与该活动不符"]})
    if activity.status != PUBLISHED:
        raise Conflict("活动已取消。")
    now = utcnow()
    if not _in_window(activity, now):
        opens = local_display(activity.starts_at - CHECK_IN_OPENS)
        closes = local_display(activity.ends_at + CHECK_OUT_CLOSES)
        raise Conflict(f"现在不能{what}：签到签退时间为 {opens} 至 {closes}。")
    enrollment = _find_enrollment(activity.id, actor.user_id)
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
    enrollment = _find_enrollment(activity.id, user_id)
    if enrollment is None:
        raise NotFound("该用户没有报名此活动。")
    entry = _find_entry(user_id, "activity", activity.id)
    if entry is not None and entry.status != PENDING:
        raise Conflict(f"该服务时长已审核（{HOURS_FLOW.labels[entry.status]}），不能再更正。")
    old = {"status": enrollment.status, "hours": _text(enrollment.hours)}
    if action == "absent":
        new = {"status": ABSENT, "hours": "0.00"}
        ENROLLMENT_FLOW.apply(enrollment, "mark_absent", actor, note=reason, data={"old": old, "new": new})
        enrollment.hours = Decimal("0.00")
        if entry is not None:
            _decide(entry, "reject", actor, note=f"登记为缺席：{reason}")
    elif action == "hours":
        new_hours = _hours_value(hours)
        limit = served_hours(activity, activity.starts_at, activity.ends_at)
        if new_hours <= 0 or new_hours > limit:
            raise Invalid(f"服务时长应大于 0 且不超过活动时长 {limit} 小时。", errors={"hours": [f"0–{limit}"]})
        if enrollment.status == ABSENT:
            ENROLLMENT_FLOW.apply(enrollment, "restore", actor, note=reason)
        elif enrollment.status != ENROLLED:
            raise Conflict(f"该报名状态为“{ENROLLMENT_LABELS[enrollment.status]}”，不能登记时长。")
        new = {"status": ENROLLED, "hours": _text(new_hours)}
        record("enrollment", enrollment.id, actor, role, "correct_hours", old["status"], ENROLLED,
               note=reason, data={"old": old, "new": new})
        enrollment.hours = new_hours
        if entry is None:
            _credit_enrollment(activity, enrollment)
        else:
            record("service_hours", entry.id, actor, role, "correct", PENDING, PENDING, note=reason,
                   data={"old": {"hours": _text(entry.hours)}, "new": {"hours": _text(new_hours)}})
            entry.hours = new_hours
    else:
        raise Invalid("未知的考勤操作。", errors={"action": ["应为 absent 或 hours"]})
    enrollment.corrected_by = actor.user_id
    enrollment.correction_reason = reason
    db.session.flush()
    return enrollment


def _hours_value(value) -> Decimal:
    try:
        return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise Invalid("服务时长须为数字。", errors={"hours": ["须为数字"]}) from exc


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(Decimal(value).quantize(CENT))


# -- the service-hours ledger -------------------------------------------------------------------

def _find_entry(user_id: int, source_type: str, source_id: int) -> ServiceHours | None:
    return db.session.scalar(select(ServiceHours).where(
        ServiceHours.user_id == user_id, ServiceHours.source_type == source_type,
        ServiceHours.source_id == source_id))


def credit_hours(*, user_id: int, source_type: str, source_id: int, hours, area_path: str, description: str,
                 organiser_area_id: int | None = None, organiser_name: str | None = None,
                 served_on: date | None = None, place: str = "", started_at: datetime | None = None,
                 ended_at: datetime | None = None, recorded_by: int | None = None) -> ServiceHours:
    """Record hours as pending. Idempotent: the same person and source always give the same row."""
    existing = _find_entry(user_id, source_type, source_id)
    if existing is not None:
        return existing
    if source_type not in SOURCE_TYPES:
        raise Invalid("未知的服务时长来源。", errors={"source_type": [f"应为 {'、'.join(SOURCE_TYPES)}"]})
    value = _hours_value(hours)
    if value <= 0:
        raise Invalid("服务时长必须大于 0。", errors={"hours": ["必须大于 0"]})
    entry = ServiceHours(
        user_id=user_id, source_type=source_type, source_id=source_id, hours=value, area_path=area_path,
        organiser_area_id=organiser_area_id, organiser_name=organiser_name or _organiser_of(area_path,
                                                                                          organiser_area_id),
        description=(description or "")[:200], served_on=served_on or to_local(utcnow()).date(), status=PENDING,
        place=(place or "")[:200], started_at=started_at, ended_at=ended_at, recorded_by=recorded_by,
        recorded_at=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(entry)
            db.session.flush()
    except IntegrityError:
        # Someone credited the same source a moment ago: theirs is the one row.
        found = _find_entry(user_id, source_type, source_id)
        if found is None:
            raise
        return found
    record("service_hours", entry.id, SYSTEM_ACTOR, SYSTEM, "credit", None, PENDING, data={"hours": _text(value)})
    return entry


def _organiser_of(area_path: str, area_id: int | None) -> str:
    if area_id is not None:
        area = db.session.get(Area, area_id)
        if area is not None:
            return area.name
    chain = area_chain(area_path)
    area = chain.get(COMMUNITY) or next(iter(sorted(chain.values(), key=lambda a: -len(a.path))), None)
    return area.name if area else ""


@dataclass
class HoursPage:
    items: list[ServiceHours]
    next_cursor: str | None
    totals: dict


def list_hours(actor: Actor, *, mine: bool = True, status: str | None = None, community_id: int | None = None,
               limit: int | None = None, cursor: str | None = None) -> HoursPage:
    """My ledger with my totals, or (mine=false) the entries an admin may decide, pending by default."""
    if mine:
        where = [ServiceHours.user_id == actor.user_id]
    else:
        if not actor.has_role(*ADMIN_ROLES):
            raise Forbidden("只有社区管理员可以审核服务时长。")
        where = [scope_filter(actor, ServiceHours.area_path, ADMIN_ROLES)]
        status = status or PENDING
    if community_id is not None:
        where.append(ServiceHours.area_path.startswith(get_area(community_id).path, autoescape=True))
    totals = _totals(where)
    stmt = select(ServiceHours).where(*where)
    if status:
        stmt = stmt.where(ServiceHours.status == status)
    page = paginate(stmt, ServiceHours.id, limit=limit, cursor=cursor)
    for entry in page.items:
        entry.allowed_actions = HOURS_FLOW.allowed_actions(entry, actor)
    return HoursPage(items=page.items, next_cursor=page.next_cursor, totals=totals)


def _totals(where: list) -> dict:
    rows = db.session.execute(
        select(ServiceHours.status, func.count(), func.coalesce(func.sum(ServiceHours.hours), 0))
        .where(*where).group_by(ServiceHours.status)).all()
    by_status = {status: (count, Decimal(total)) for status, count, total in rows}
    totals = {}
    for status in (APPROVED, PENDING, REJECTED):
        count, total = by_status.get(status, (0, Decimal(0)))
        totals[f"{status}_hours"] = float(Decimal(total).quantize(CENT))
        totals[f"{status}_count"] = count
    return totals


def totals_for(user_id: int) -> dict:
    """A person's totals: approved, pending and rejected hours and counts."""
    return _totals([ServiceHours.user_id == user_id])


def volunteer_name(actor: Actor, entry: ServiceHours) -> str:
    """The organisation that decides the hours needs the real name; anyone else sees it masked."""
    if actor.user_id == entry.user_id or admin_role(entry.area_path, actor):
        return entry.user.person_name
    return mask_name(entry.user.person_name)


def get_entry(actor: Actor, entry_id: int) -> ServiceHours:
    entry = db.session.get(ServiceHours, entry_id)
    if entry is None or (entry.user_id != actor.user_id and not admin_role(entry.area_path, actor)):
        raise NotFound("服务时长记录不存在。")
    entry.allowed_actions = HOURS_FLOW.allowed_actions(entry, actor)
    return entry


def transition_hours(actor: Actor, entry_id: int, action: str, *, reason: str = "",
                     evaluation: str = "") -> ServiceHours:
    """Approve (with an optional evaluation) or reject (with a reason) an entry."""
    entry = db.session.scalar(select(ServiceHours).where(ServiceHours.id == entry_id).with_for_update()
                              .execution_options(populate_existing=True))
    if entry is None:
        raise NotFound("服务时长记录不存在。")
    if action == "reject" and not reason.strip():
        raise Invalid("请填写不通过的原因。", errors={"reason": ["必填"]})
    if evaluation.strip():
        entry.evaluation = evaluation.strip()
    _decide(entry, action, actor, note=reason.strip() or evaluation.strip())
    entry.allowed_actions = HOURS_FLOW.allowed_actions(entry, actor)
    return entry


def _decide(entry: ServiceHours, action: str, actor: Actor, *, note: str) -> None:
    was = entry.status
    HOURS_FLOW.apply(entry, action, actor, note=note, data={"hours": _text(entry.hours)})
    entry.decided_by = actor.user_id
    entry.decided_at = utcnow()
    if entry.status == APPROVED and entry.recorded_by is None:
        # A wish's hours are recorded by the community admin who approves them.
        entry.recorded_by, entry.recorded_at = actor.user_id, entry.decided_at
    if entry.status == REJECTED:
        entry.decision_note = note
        if was == APPROVED:
            from app.volunteering.certificates import revoke_covering

            revoke_covering(entry, reason=f"其中一条服务时长（{entry.description}）被撤销：{note}")
        _tell_hours(entry, "rejected", "未通过", body=f"{entry.hours} 小时未通过审核。原因：{note}")
    else:
        _tell_hours(entry, "approved", "已通过", body=f"{entry.hours} 小时已由{entry.organiser_name}审核通过。")
    db.session.flush()
    points.service_hours_decided(entry)


def _tell_hours(entry: ServiceHours, event: str, status: str, *, body: str) -> None:
    notify([entry.user_id], f"service_hours.{event}", title=f"服务时长{status}：{entry.description[:40]}",
           body=body, page=f"pages/hours/detail?id={entry.id}",
           data={"subject": entry.description, "status": status, "time": utcnow().isoformat(), "note": body},
           subject=("service_hours", entry.id))


# -- corrections (更正) ---------------------------------------------------------------------------

CORRECTABLE = ("hours", "description", "place", "served_on")
REQUESTED, CORRECTED, DECLINED = "requested", "corrected", "declined"
CORRECTION_LABELS = {REQUESTED: "待答复", CORRECTED: "已更正", DECLINED: "不予更正"}


def _values(entry: ServiceHours) -> dict:
    return {"hours": _text(entry.hours), "description": entry.description, "place": entry.place,
            "served_on": entry.served_on.isoformat()}


def request_correction(actor: Actor, entry_id: int, *, reason: str) -> LedgerCorrection:
    """申请更正: the volunteer asks the recording organisation to correct one of their entries."""
    entry = db.session.get(ServiceHours, entry_id)
    if entry is None or entry.user_id != actor.user_id:
        raise NotFound("服务时长记录不存在。")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("请说明需要更正的内容和原因。", errors={"reason": ["必填"]})
    if entry.status == REJECTED:
        raise Conflict("该记录未通过审核，不能申请更正；如有异议请联系组织方。")
    if db.session.scalar(select(LedgerCorrection.id).where(
            LedgerCorrection.service_hours_id == entry.id, LedgerCorrection.status == REQUESTED)):
        raise Conflict("该记录已有一条待答复的更正申请。")
    correction = LedgerCorrection(service_hours_id=entry.id, service_hours=entry, requested_by=actor.user_id,
                                  request_reason=reason, status=REQUESTED, old_values=_values(entry))
    db.session.add(correction)
    db.session.flush()
    record("service_hours", entry.id, actor, VOLUNTEER, "request_correction", entry.status, entry.status,
           note=reason)
    return correction


def correct_entry(actor: Actor, entry_id: int, *, reason: str, request_id: int | None = None,
                  **changes) -> LedgerCorrection:
    """The recording organisation corrects an approved entry; the old and the new values stay on the record."""
    entry = db.session.scalar(select(ServiceHours).where(ServiceHours.id == entry_id).with_for_update()
                              .execution_options(populate_existing=True))
    if entry is None:
        raise NotFound("服务时长记录不存在。")
    role = admin_role(entry.area_path, actor)
    if not role:
        raise OutOfScope("只有记录该服务的组织方可以更正。")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("请填写更正原因。", errors={"reason": ["必填"]})
    if entry.status != APPROVED:
        raise Conflict(f"只能更正已通过的记录（当前：{HOURS_FLOW.labels[entry.status]}）。待审核的记录请在考勤中更正。")
    correction = _open_request(entry, request_id) if request_id else None
    old = _values(entry)
    new_values = {k: v for k, v in changes.items() if k in CORRECTABLE and v is not None}
    if "hours" in new_values:
        value = _hours_value(new_values["hours"])
        if value <= 0:
            raise Invalid("服务时长必须大于 0。", errors={"hours": ["必须大于 0"]})
        entry.hours = value
    if "description" in new_values:
        entry.description = str(new_values["description"]).strip()[:200] or entry.description
    if "place" in new_values:
        entry.place = str(new_values["place"]).strip()[:200]
    if "served_on" in new_values:
        entry.served_on = new_values["served_on"]
    new = _values(entry)
    if new == old:
        raise Invalid("更正后的内容与原记录相同。", errors={"hours": ["没有变化"]})
    if correction is None:
        correction = LedgerCorrection(service_hours_id=entry.id, service_hours=entry, status=CORRECTED)
        db.session.add(correction)
    correction.status, correction.old_values, correction.new_values = CORRECTED, old, new
    correction.answer, correction.answered_by, correction.answered_at = reason, actor.user_id, utcnow()
    record("service_hours", entry.id, actor, role, "correct", APPROVED, APPROVED, note=reason,
           data={"old": old, "new": new})
    from app.volunteering.certificates import revoke_covering

    revoke_covering(entry, reason=f"其中一条服务记录（{entry.description}）已更正：{reason}，请重新申请证明。")
    _tell_hours(entry, "corrected", "已更正", body=f"组织方更正了该服务记录。原因：{reason}")
    db.session.flush()
    points.service_hours_decided(entry)
    return correction


def decline_correction(actor: Actor, request_id: int, *, answer: str) -> LedgerCorrection:
    correction = db.session.get(LedgerCorrection, request_id)
    if correction is None:
        raise NotFound("更正申请不存在。")
    entry = correction.service_hours
    role = admin_role(entry.area_path, actor)
    if not role:
        raise OutOfScope("只有记录该服务的组织方可以答复更正申请。")
    answer = (answer or "").strip()
    if not answer:
        raise Invalid("请填写不予更正的理由。", errors={"answer": ["必填"]})
    _open_request(entry, correction.id)
    correction.status, correction.answer = DECLINED, answer
    correction.answered_by, correction.answered_at = actor.user_id, utcnow()
    record("service_hours", entry.id, actor, role, "decline_correction", entry.status, entry.status, note=answer)
    _tell_hours(entry, "correction_declined", "不予更正", body=f"您的更正申请未被采纳。理由：{answer}")
    db.session.flush()
    return correction


def _open_request(entry: ServiceHours, request_id: int) -> LedgerCorrection:
    correction = db.session.get(LedgerCorrection, request_id)
    if correction is None or correction.service_hours_id != entry.id:
        raise NotFound("更正申请不存在。")
    if correction.status != REQUESTED:
        raise Conflict(f"该更正申请已答复（{CORRECTION_LABELS[correction.status]}）。")
    return correction


def corrections_of(entry_id: int) -> list[LedgerCorrection]:
    return list(db.session.scalars(select(LedgerCorrection).where(
        LedgerCorrection.service_hours_id == entry_id).order_by(LedgerCorrection.id)))


def open_correction_requests(actor: Actor, *, limit: int | None = None, cursor: str | None = None) -> Page:
    """The requests the actor's organisation has to answer."""
    if not actor.has_role(*ADMIN_ROLES):
        raise Forbidden("只有社区管理员可以答复更正申请。")
    stmt = (select(LedgerCorrection).join(ServiceHours, ServiceHours.id == LedgerCorrection.service_hours_id)
            .where(LedgerCorrection.status == REQUESTED, scope_filter(actor, ServiceHours.area_path, ADMIN_ROLES)))
    return paginate(stmt, LedgerCorrection.id, limit=limit, cursor=cursor)


# -- reminders ---------------------------------------------------------------------------------

def remind_upcoming(within: timedelta = timedelta(hours=24)) -> int:
    """Remind everyone enrolled in an activity that starts within `within`; each activity once."""
    now = utcnow()
    activities = db.session.scalars(
        select(Activity).where(Activity.status == PUBLISHED, Activity.reminded_at.is_(None),
                               Activity.starts_at > now, Activity.starts_at <= now + within)
        .with_for_update(skip_locked=True)).all()
    for activity in activities:
        user_ids = db.session.scalars(select(Enrollment.user_id).where(
            Enrollment.activity_id == activity.id, Enrollment.status == ENROLLED)).all()
        _tell(user_ids, activity, "reminder", "即将开始", title=f"活动即将开始：{activity.title}",
              body=f"{local_display(activity.starts_at)} 在 {activity.place_text} 开始，请准时到场扫码签到。")
        activity.reminded_at = now
    db.session.flush()
    return len(activities)


# -- certificates (rendered in certificates.py) ------------------------------------------------

def verify_certificate(code: str) -> dict:
    """The public facts of a certificate, the holder's name masked; raises NotFound for a bad code."""
    from app.volunteering.certificates import verify

    return verify(code)


def activity_code_png(actor: Actor, activity_id: int) -> bytes:
    """The activity's check-in code as a plain QR (read with wx.scanCode in the mini-program)."""
    from app.volunteering.certificates import qr_png

    activity = get_activity(activity_id)
    require_organiser(actor, activity)
    return qr_png(activity.scene).getvalue()


def activity_for_scene(scene: str) -> Activity | None:
    """The activity whose check-in code carries `scene` (scenes of activity codes start with "a")."""
    return db.session.scalar(select(Activity).where(Activity.scene == scene.strip()))
