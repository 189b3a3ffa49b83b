"""Demo volunteering: an activity already served and approved, and two upcoming ones to enroll in."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.accounts.service import actor_for
from app.core.ids import new_scene
from app.core.time import SHANGHAI, to_local, utcnow
from app.core.workflow import record
from app.extensions import db
from app.volunteering import activities, attendance, enrolling, ledger
from app.volunteering.models import Activity, Enrollment
from app.volunteering.states import ENROLLED, PUBLISHED, VOLUNTEER


def _day(offset: int) -> date:
    return to_local(utcnow()).date() + timedelta(days=offset)


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def _past_activity(areas, users) -> Activity:
    """Served last week: member_east checked in and out, and the community approved the hours."""
    east, admin = areas["东城社区"], actor_for(users["east_admin"])
    day = _day(-7)
    starts, ends = _at(day, 9), _at(day, 11)
    activity = Activity(
        title="重阳节敬老院陪伴", description="陪伴沁河镇敬老院老人聊天、读报、包饺子。", starts_at=starts,
        ends_at=ends, place_text="沁河镇敬老院", capacity=10, enroll_deadline=starts, area_id=east.id,
        area_path=east.path, organiser_name="东城社区党支部", scene=new_scene("a"), status=PUBLISHED,
        created_by=users["east_admin"].id, enrolled_count=1, next_position=2, reminded_at=starts - timedelta(hours=20),
    )
    db.session.add(activity)
    db.session.flush()
    record("activity", activity.id, admin, "community_admin", "publish", None, PUBLISHED)
    member = users["member_east"]
    enrollment = Enrollment(activity=activity, activity_id=activity.id, user_id=member.id, status=ENROLLED,
                            position=1, check_in_at=starts - timedelta(minutes=10),
                            check_out_at=ends + timedelta(minutes=5))
    enrollment.hours = attendance.served_hours(activity, enrollment.check_in_at, enrollment.check_out_at)
    db.session.add(enrollment)
    db.session.flush()
    record("enrollment", enrollment.id, actor_for(member), VOLUNTEER, "enroll", None, ENROLLED)
    entry = ledger.credit_hours(
        user_id=member.id, source_type="activity", source_id=activity.id, hours=enrollment.hours,
        area_path=activity.area_path, description=activity.title, organiser_area_id=east.id,
        organiser_name=activity.organiser_name, served_on=day, place=activity.place_text,
        started_at=enrollment.check_in_at, ended_at=ends, recorded_by=users["east_admin"].id)
    ledger.transition_hours(admin, entry.id, "approve", evaluation="服务热情，老人们很喜欢。")
    return activity


def seed_demo(*, areas, users, **_context) -> list[str]:
    if db.session.scalar(select(Activity.id).where(Activity.title == "重阳节敬老院陪伴").limit(1)):
        return []
    _past_activity(areas, users)
    east_admin, west_admin = actor_for(users["east_admin"]), actor_for(users["west_admin"])
    day = _day(3)
    upcoming = activities.create_activity(
        east_admin, title="日晷公园环境清洁", community_id=areas["东城社区"].id, organiser_name="东城社区党支部",
        starts_at=_at(day, 9), ends_at=_at(day, 12), capacity=20, place_text="日晷公园东门广场",
        description="捡拾垃圾、清理小广告、劝导文明遛狗。请穿轻便服装，手套和垃圾袋由社区提供。")
    enrolling.enroll(actor_for(users["member_east"]), upcoming.id)
    day = _day(5)
    activities.create_activity(
        west_admin, title="西园菜市场垃圾分类宣传", community_id=areas["西园社区"].id,
        organiser_name="西园社区新时代文明实践站", starts_at=_at(day, 14), ends_at=_at(day, 16), capacity=8,
        place_text="西园菜市场", description="向商户和居民讲解垃圾分类，发放宣传册。")
    return ["志愿活动 3 个（已结束 1、报名中 2），已审核服务时长 1 条（刘党员 2 小时）"]
