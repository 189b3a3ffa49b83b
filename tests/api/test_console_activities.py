"""The console's activity list and roster as an organiser meets them: only their own activities, a past one
shown as ended, and attendance steps offered only when they can succeed."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.accounts.models import User
from app.accounts.service import actor_for, portal_resident
from app.core.time import travel, utcnow
from app.extensions import db
from app.volunteering import attendance, ledger
from app.volunteering.activities import create_activity
from app.volunteering.enrolling import enroll
from tests.console_client import Console


def _admin(username: str):
    return actor_for(db.session.scalar(select(User).where(User.username == username)))


def _activity(areas, username: str, community: str, title: str, starts_in: timedelta):
    start = utcnow() + starts_in
    activity = create_activity(_admin(username), title=title, community_id=areas[community].id, starts_at=start,
                               ends_at=start + timedelta(hours=2), capacity=10, place_text="社区活动室")
    db.session.flush()
    return activity


def _row(page: str, title: str) -> str:
    match = re.search(r"<tr>(?:(?!</tr>).)*" + re.escape(title) + r"(?:(?!</tr>).)*</tr>", page, re.S)
    assert match, title
    return match.group(0)


def test_the_activity_list_shows_only_my_activities_and_a_past_one_as_ended(app, areas):
    _activity(areas, "east_admin", "东城社区", "东城上周的义诊", timedelta(hours=1))
    _activity(areas, "east_admin", "东城社区", "东城下周的清扫", timedelta(days=14))
    _activity(areas, "west_admin", "西园社区", "西园的读书会", timedelta(days=10))
    db.session.commit()
    travel(timedelta(days=7))
    page = Console(app.test_client(), "east_admin").get("/console/activities").get_data(as_text=True)
    assert "西园的读书会" not in page  # another community's activity: not listed (it would answer 403)
    assert "已结束" in _row(page, "东城上周的义诊") and "进行中" not in _row(page, "东城上周的义诊")
    assert "未开始" in _row(page, "东城下周的清扫")
    street = Console(app.test_client(), "street_admin").get("/console/activities").get_data(as_text=True)
    assert "西园的读书会" in street and "东城下周的清扫" in street  # the street sees its communities'


def _actions(page: str, name: str) -> list[str]:
    row = _row(page, name)
    return re.findall(r'<option value="([a-z_]+)"', row)


def test_attendance_is_offered_only_when_it_can_succeed(app, areas):
    activity = _activity(areas, "east_admin", "东城社区", "东城楼道清扫", timedelta(hours=3))
    volunteer = portal_resident("13500003333", "孙志愿")
    enroll(actor_for(volunteer), activity.id)
    db.session.commit()
    east = Console(app.test_client(), "east_admin")
    url = f"/console/activities/{activity.id}"

    page = east.get(url).get_data(as_text=True)  # hours before it starts: nothing can be recorded yet
    assert _actions(page, "孙志愿") == [] and "活动开始后才能登记考勤" in _row(page, "孙志愿")

    travel(timedelta(hours=3, minutes=15))  # under way: check-in, absent and hours can all succeed
    east = Console(app.test_client(), "east_admin")
    page = east.get(url).get_data(as_text=True)
    assert set(_actions(page, "孙志愿")) == {"check_in", "absent", "hours"}
    for action in _actions(page, "孙志愿"):  # each offered step succeeds
        if action == "check_in":
            east.post(url, data={"user_id": volunteer.id, "action": action, "reason": "现场扫码失败，手工登记"})
    assert ("success", "已登记签到，并记入活动纪实。") in east.flashes()

    attendance.correct_attendance(_admin("east_admin"), activity.id, user_id=volunteer.id, action="hours",
                                  reason="按记录核定", hours=1.5)
    entry = ledger.find_entry(volunteer.id, "activity", activity.id)
    ledger.transition_hours(_admin("east_admin"), entry.id, "approve")
    db.session.commit()
    page = east.get(url).get_data(as_text=True)  # hours approved: a correction here would be refused
    assert _actions(page, "孙志愿") == [] and "服务时长已审核" in _row(page, "孙志愿")
    refused = east.post(url, data={"user_id": volunteer.id, "action": "hours", "hours": "1", "reason": "再改"})
    assert refused.status_code == 302 and any(kind == "error" for kind, _ in east.flashes())
