"""Activities: publish, list, cancel, the roster and the reminder before the start."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.accounts.models import ADMIN_ROLES
from app.areas.models import COMMUNITY
from app.areas.service import get_area
from app.core.errors import Invalid, NotFound, OutOfScope
from app.core.ids import new_scene
from app.core.pagination import Page, paginate
from app.core.scoping import AREA_ADMIN_ROLES, Actor, admin_role, require_scope, scope_filter
from app.core.time import SHANGHAI, local_display, utcnow
from app.core.workflow import record
from app.extensions import db
from app.notifications.service import notify
from app.volunteering.certificates import qr_png
from app.volunteering.models import Activity, Enrollment
from app.volunteering.states import (
    ACTIVITY_FLOW,
    CANCELLED,
    ENROLLED,
    PUBLISHED,
    WAITLISTED,
)

CHECK_IN_OPENS = timedelta(minutes=30)
CHECK_OUT_CLOSES = timedelta(hours=2)


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
    record("activity", activity.id, actor, admin_role(actor, area.path), "publish", None, PUBLISHED)
    return decorate(actor, activity)


def get_activity(activity_id: int) -> Activity:
    activity = db.session.get(Activity, activity_id)
    if activity is None:
        raise NotFound("活动不存在。")
    return activity


def activity_detail(actor: Actor, activity_id: int) -> Activity:
    return decorate(actor, get_activity(activity_id))


def lock_activity(activity_id: int) -> Activity:
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


def list_managed_activities(actor: Actor, *, limit: int | None = None, cursor: str | None = None) -> Page:
    """The console's list: only the activities this staff member organises (their areas), newest first,
    each with its phase (报名中 / 进行中 / 已结束 / 已取消) as of now."""
    stmt = select(Activity).where(scope_filter(actor, Activity.area_path, AREA_ADMIN_ROLES))
    page = paginate(stmt, Activity.id, limit=limit, cursor=cursor)
    decorate(actor, *page.items)
    return page


PHASE_LABELS = {"upcoming": "未开始", "running": "进行中", "ended": "已结束", "cancelled": "已取消"}


def phase(activity: Activity, now: datetime) -> str:
    """Where an activity stands in time: a published activity is upcoming, running or ended."""
    if activity.status != PUBLISHED:
        return "cancelled"
    if now < activity.starts_at:
        return "upcoming"
    return "running" if now <= activity.ends_at else "ended"


def in_check_window(activity: Activity, now: datetime) -> bool:
    return activity.starts_at - CHECK_IN_OPENS <= now <= activity.ends_at + CHECK_OUT_CLOSES


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
        activity.can_manage = bool(admin_role(actor, activity.area_path))
        activity.allowed_actions = _activity_actions(activity, enrollment, now)
        activity.phase = phase(activity, now)
        activity.phase_label = PHASE_LABELS[activity.phase]
    return activities[0] if activities else None


def _activity_actions(activity: Activity, enrollment: Enrollment | None, now: datetime) -> list[str]:
    actions = []
    open_ = activity.status == PUBLISHED
    status = enrollment.status if enrollment else None
    if open_ and now <= activity.enroll_deadline and status in (None, CANCELLED):
        actions.append("enroll")
    if open_ and now < activity.starts_at and status in (ENROLLED, WAITLISTED):
        actions.append("cancel_enrollment")
    if open_ and status == ENROLLED and in_check_window(activity, now):
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
    activity = lock_activity(activity_id)
    if action == "cancel" and not reason.strip():
        raise Invalid("请填写取消活动的原因。", errors={"reason": ["必填"]})
    ACTIVITY_FLOW.apply(activity, action, actor, note=reason)
    people = list(db.session.scalars(select(Enrollment).where(
        Enrollment.activity_id == activity.id, Enrollment.status.in_((ENROLLED, WAITLISTED)))))
    tell([e.user_id for e in people], activity, "cancelled", "已取消", title=f"活动已取消：{activity.title}",
         body=f"原因：{reason.strip()}")
    return decorate(actor, activity)


def _activity_page(activity: Activity) -> str:
    return f"pages/activity/detail?id={activity.id}"


def tell(user_ids, activity: Activity, event: str, status: str, *, title: str, body: str) -> None:
    notify(user_ids, f"activity.{event}", title=title, body=body, page=_activity_page(activity),
           data={"subject": activity.title, "status": status, "start_time": activity.starts_at.isoformat(),
                 "place": activity.place_text},
           subject=("activity", activity.id))


def require_organiser(actor: Actor, activity: Activity) -> str:
    role = admin_role(actor, activity.area_path)
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
        tell(user_ids, activity, "reminder", "即将开始", title=f"活动即将开始：{activity.title}",
             body=f"{local_display(activity.starts_at)} 在 {activity.place_text} 开始，请准时到场扫码签到。")
        activity.reminded_at = now
    db.session.flush()
    return len(activities)


def activity_code_png(actor: Actor, activity_id: int) -> bytes:
    """The activity's check-in code as a plain QR (read with wx.scanCode in the mini-program)."""
    activity = get_activity(activity_id)
    require_organiser(actor, activity)
    return qr_png(activity.scene).getvalue()
