"""Volunteer activities as organisers and volunteers meet them: publish, enroll, waitlist, check in/out, attendance."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core.time import travel, utcnow
from app.extensions import db
from app.notifications.models import Notification


def publish(admin, areas, *, capacity=10, starts_in=timedelta(days=2), hours=3, **overrides):
    starts = utcnow() + starts_in
    body = {"title": "日晷公园环境清洁", "community_id": areas["东城社区"].id, "capacity": capacity,
            "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=hours)).isoformat(),
            "place_text": "日晷公园东门广场", "description": "捡拾垃圾、清理小广告",
            "organiser_name": "东城社区党支部"}
    body.update(overrides)
    res = admin.post("/activities", json=body)
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def code(admin, path) -> str:
    """The check-in code the organiser shows on site right now (it changes every minute)."""
    return admin.get(f"{path}/check-in-code").get_json()["code"]


def delete(api, path):
    return api.client.delete("/mp/v1" + path, headers=api.headers())


def kinds_for(api) -> list[str]:
    me = api.get("/me").get_json()["id"]
    return list(db.session.scalars(select(Notification.kind).where(Notification.user_id == me)
                                   .order_by(Notification.id)))


def test_admin_publishes_and_residents_browse_without_seeing_the_code(login, areas):
    admin = login("east_admin")
    activity = publish(admin, areas)
    assert activity["status"] == "published" and activity["organiser_name"] == "东城社区党支部"
    assert activity["scene"].startswith("a") and activity["can_manage"] is True
    assert activity["starts_at"].endswith("+08:00")

    resident = login.resident()
    seen = resident.get(f"/activities/{activity['id']}").get_json()
    assert seen["scene"] is None, "the check-in code must only be visible on site"
    assert seen["allowed_actions"] == ["enroll"] and seen["remaining"] == 10
    listed = resident.get("/activities", query_string={"community_id": areas["东城社区"].id, "upcoming": "true"})
    assert activity["id"] in [a["id"] for a in listed.get_json()["items"]]
    west = resident.get("/activities", query_string={"community_id": areas["西园社区"].id}).get_json()["items"]
    assert activity["id"] not in [a["id"] for a in west]


def test_publishing_is_scoped_and_validated(login, areas):
    res = login("west_admin").post("/activities", json={
        "title": "越界活动", "community_id": areas["东城社区"].id, "capacity": 5,
        "starts_at": (utcnow() + timedelta(days=1)).isoformat(),
        "ends_at": (utcnow() + timedelta(days=1, hours=2)).isoformat()})
    assert res.status_code == 403
    assert login.resident().post("/activities", json={
        "title": "居民发布", "community_id": areas["东城社区"].id, "capacity": 5,
        "starts_at": (utcnow() + timedelta(days=1)).isoformat(),
        "ends_at": (utcnow() + timedelta(days=1, hours=2)).isoformat()}).status_code == 403
    res = login("east_admin").post("/activities", json={
        "title": "时间颠倒", "community_id": areas["东城社区"].id, "capacity": 5,
        "starts_at": (utcnow() + timedelta(days=1)).isoformat(), "ends_at": utcnow().isoformat()})
    assert res.status_code == 422
    assert res.get_json()["message"] == "结束时间必须晚于开始时间。"
    res = login("east_admin").post("/activities", json={
        "title": "发在网格", "community_id": areas["东城社区第一网格"].id, "capacity": 5,
        "starts_at": (utcnow() + timedelta(days=1)).isoformat(),
        "ends_at": (utcnow() + timedelta(days=1, hours=2)).isoformat()})
    assert res.status_code == 422 and "社区" in res.get_json()["message"]


def test_enrolling_past_capacity_waitlists_and_a_cancellation_promotes_the_first(login, areas):
    activity = publish(login("east_admin"), areas, capacity=2)
    path = f"/activities/{activity['id']}"
    people = [login.resident() for _ in range(4)]
    statuses = [p.post(f"{path}/enrollments").get_json()["status"] for p in people]
    assert statuses == ["enrolled", "enrolled", "waitlisted", "waitlisted"]

    again = people[0].post(f"{path}/enrollments")
    assert again.status_code == 409 and "已报名" in again.get_json()["message"]
    detail = people[2].get(path).get_json()
    assert detail["enrolled_count"] == 2 and detail["waitlist_count"] == 2 and detail["remaining"] == 0
    assert detail["my_enrollment"]["status_label"] == "候补中"
    assert "activity.waitlisted" in kinds_for(people[2]) and "activity.enrolled" in kinds_for(people[0])

    cancelled = delete(people[1], f"{path}/enrollments")
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert people[2].get(path).get_json()["my_enrollment"]["status"] == "enrolled"
    assert people[3].get(path).get_json()["my_enrollment"]["status"] == "waitlisted"
    assert kinds_for(people[2])[-1] == "activity.promoted"

    # A waitlisted person leaving frees no place; the canceller may come back, at the back of the line.
    assert people[3].post(f"{path}/enrollments/cancel").get_json()["status"] == "cancelled"
    back = people[1].post(f"{path}/enrollments")
    assert back.status_code == 201 and back.get_json()["status"] == "waitlisted"
    detail = people[0].get(path).get_json()
    assert (detail["enrolled_count"], detail["waitlist_count"]) == (2, 1)

    roster = login("east_admin").get(f"{path}/enrollments", query_string={"status": "enrolled"}).get_json()
    assert len(roster["items"]) == 2 and all(r["phone"] is None or "****" in r["phone"] for r in roster["items"])
    assert people[0].get(f"{path}/enrollments").status_code == 403


def test_enrollment_closes_at_the_deadline_and_cancelling_stops_at_the_start(login, areas):
    starts = utcnow() + timedelta(days=2)
    activity = publish(login("east_admin"), areas, enroll_deadline=(starts - timedelta(days=1)).isoformat())
    path = f"/activities/{activity['id']}"
    early = login.resident()
    assert early.post(f"{path}/enrollments").status_code == 201
    travel(timedelta(days=1, hours=1))
    late = login.resident().post(f"{path}/enrollments")
    assert late.status_code == 409 and "报名已于" in late.get_json()["message"]
    travel(timedelta(days=1))
    res = delete(early, f"{path}/enrollments")
    assert res.status_code == 409 and "活动已开始" in res.get_json()["message"]


def test_check_in_only_with_the_right_code_inside_the_window(login, areas):
    admin = login("east_admin")
    activity = publish(admin, areas, starts_in=timedelta(hours=3), hours=2)
    path = f"/activities/{activity['id']}"
    volunteer = login.resident()
    volunteer.post(f"{path}/enrollments")

    too_early = volunteer.post(f"{path}/check-in", json={"scene": code(admin, path)})
    assert too_early.status_code == 409 and "签到签退时间为" in too_early.get_json()["message"]

    travel(timedelta(hours=2, minutes=35))  # 25 minutes before the start
    wrong = volunteer.post(f"{path}/check-in", json={"scene": "aNotTheRightCode"})
    assert wrong.status_code == 422 and "签到码不正确" in wrong.get_json()["message"]
    stranger = login.resident().post(f"{path}/check-in", json={"scene": code(admin, path)})
    assert stranger.status_code == 409 and "没有报名" in stranger.get_json()["message"]
    assert volunteer.post(f"{path}/check-out", json={"scene": code(admin, path)}).get_json()["message"] == "您还没有签到，请先签到。"
    ok = volunteer.post(f"{path}/check-in", json={"scene": code(admin, path)})
    assert ok.status_code == 200 and ok.get_json()["check_in_at"]
    twice = volunteer.post(f"{path}/check-in", json={"scene": code(admin, path)})
    assert twice.status_code == 409 and "无需重复签到" in twice.get_json()["message"]

    travel(timedelta(hours=4, minutes=30))  # 2 h 5 min after the end: too late to check out
    late = volunteer.post(f"{path}/check-out", json={"scene": code(admin, path)})
    assert late.status_code == 409 and "现在不能签退" in late.get_json()["message"]


def test_hours_are_counted_inside_the_activity_with_the_clock_moved(login, areas):
    admin = login("east_admin")
    activity = publish(admin, areas, starts_in=timedelta(hours=1), hours=3)
    path = f"/activities/{activity['id']}"
    early, late = login.resident(), login.resident()
    early.post(f"{path}/enrollments")
    late.post(f"{path}/enrollments")

    travel(timedelta(minutes=40))  # 20 minutes before the start
    assert early.post(f"{path}/check-in", json={"scene": code(admin, path)}).status_code == 200
    travel(timedelta(minutes=50))  # 30 minutes after the start
    assert late.post(f"{path}/check-in", json={"scene": code(admin, path)}).status_code == 200
    travel(timedelta(hours=1, minutes=30))  # 2 h after the start
    out = early.post(f"{path}/check-out", json={"scene": code(admin, path)})
    assert out.status_code == 200 and out.get_json()["hours"] == 2.0
    travel(timedelta(hours=2))  # 1 h after the end: only time inside the activity counts
    out = late.post(f"{path}/check-out", json={"scene": code(admin, path)})
    assert out.get_json()["hours"] == 2.5
    assert late.post(f"{path}/check-out", json={"scene": code(admin, path)}).status_code == 409

    mine = late.get("/service-hours").get_json()
    assert [(i["hours"], i["status"], i["organiser_name"]) for i in mine["items"]] == [(2.5, "pending", "东城社区党支部")]
    assert mine["totals"]["pending_hours"] == 2.5 and mine["totals"]["approved_hours"] == 0


def test_organiser_marks_absent_and_corrects_hours_with_an_audited_reason(login, areas):
    admin = login("east_admin")
    activity = publish(admin, areas, starts_in=timedelta(hours=1), hours=3)
    path = f"/activities/{activity['id']}"
    present, absent, forgot = login.resident(), login.resident(), login.resident()
    ids = {}
    for name, api in (("present", present), ("absent", absent), ("forgot", forgot)):
        ids[name] = api.post(f"{path}/enrollments").get_json()["user_id"]

    early = admin.post(f"{path}/attendance", json={"user_id": ids["absent"], "action": "absent", "reason": "未到"})
    assert early.status_code == 409 and "活动开始后" in early.get_json()["message"]

    travel(timedelta(hours=1))
    present.post(f"{path}/check-in", json={"scene": code(admin, path)})
    travel(timedelta(hours=3))
    assert present.post(f"{path}/check-out", json={"scene": code(admin, path)}).get_json()["hours"] == 3.0

    no_reason = admin.post(f"{path}/attendance", json={"user_id": ids["absent"], "action": "absent", "reason": " "})
    assert no_reason.status_code == 422 and no_reason.get_json()["message"] == "请填写原因。"
    assert present.post(f"{path}/attendance", json={
        "user_id": ids["absent"], "action": "absent", "reason": "未到"}).status_code == 403
    assert login("west_admin").post(f"{path}/attendance", json={
        "user_id": ids["absent"], "action": "absent", "reason": "未到"}).status_code == 403

    marked = admin.post(f"{path}/attendance", json={"user_id": ids["absent"], "action": "absent",
                                                      "reason": "全程未到场"}).get_json()
    assert marked["status"] == "absent" and marked["correction_reason"] == "全程未到场"
    event = marked["timeline"][-1]
    assert event["action"] == "mark_absent" and event["note"] == "全程未到场"
    assert event["data"] == {"old": {"status": "enrolled", "hours": None}, "new": {"status": "absent", "hours": "0.00"}}
    assert absent.get("/service-hours").get_json()["items"] == []

    fixed = admin.post(f"{path}/attendance", json={"user_id": ids["present"], "action": "hours", "hours": 2.5,
                                                     "reason": "中途离开半小时"}).get_json()
    assert fixed["hours"] == 2.5
    assert fixed["timeline"][-1]["data"] == {"old": {"status": "enrolled", "hours": "3.00"},
                                             "new": {"status": "enrolled", "hours": "2.50"}}
    assert present.get("/service-hours").get_json()["items"][0]["hours"] == 2.5

    # Someone who forgot to scan gets hours entered by the organiser; no more than the activity lasted.
    too_many = admin.post(f"{path}/attendance", json={"user_id": ids["forgot"], "action": "hours", "hours": 5,
                                                        "reason": "忘记扫码"})
    assert too_many.status_code == 422 and "不超过活动时长" in too_many.get_json()["message"]
    admin.post(f"{path}/attendance", json={"user_id": ids["forgot"], "action": "hours", "hours": 3,
                                           "reason": "忘记扫码，现场签到表为证"})
    entry = forgot.get("/service-hours").get_json()["items"][0]
    assert (entry["hours"], entry["status"]) == (3.0, "pending")

    # Once approved, the hours are certified and no longer corrected here.
    assert admin.post(f"/service-hours/{entry['id']}/transitions", json={"action": "approve"}).status_code == 200
    locked = admin.post(f"{path}/attendance", json={"user_id": ids["forgot"], "action": "hours", "hours": 1,
                                                      "reason": "改错"})
    assert locked.status_code == 409 and "已审核" in locked.get_json()["message"]


def test_reminder_goes_to_the_enrolled_once(login, areas):
    from tasks.volunteering import remind_upcoming

    activity = publish(login("east_admin"), areas, capacity=1, starts_in=timedelta(hours=30))
    path = f"/activities/{activity['id']}"
    enrolled, waiting = login.resident(), login.resident()
    enrolled.post(f"{path}/enrollments")
    waiting.post(f"{path}/enrollments")
    remind_upcoming()
    assert "activity.reminder" not in kinds_for(enrolled), "30 hours ahead is too early"
    travel(timedelta(hours=8))
    remind_upcoming()
    remind_upcoming()
    assert kinds_for(enrolled).count("activity.reminder") == 1
    assert "activity.reminder" not in kinds_for(waiting)


def test_cancelling_an_activity_tells_everyone_and_closes_it(login, areas):
    admin = login("east_admin")
    activity = publish(admin, areas, capacity=1)
    path = f"/activities/{activity['id']}"
    first, second = login.resident(), login.resident()
    first.post(f"{path}/enrollments")
    second.post(f"{path}/enrollments")
    assert admin.post(f"{path}/transitions", json={"action": "cancel"}).status_code == 422
    res = admin.post(f"{path}/transitions", json={"action": "cancel", "reason": "暴雨预警"})
    assert res.status_code == 200 and res.get_json()["status_label"] == "已取消"
    assert kinds_for(first)[-1] == kinds_for(second)[-1] == "activity.cancelled"
    closed = login.resident().post(f"{path}/enrollments")
    assert closed.status_code == 409 and closed.get_json()["message"] == "活动已取消，不能报名。"


def test_code_image_is_for_the_organiser(login, areas):
    admin = login("east_admin")
    activity = publish(admin, areas)
    res = admin.get(f"/activities/{activity['id']}/code.png")
    assert res.status_code == 200 and res.data.startswith(b"\x89PNG")
    assert login.resident().get(f"/activities/{activity['id']}/code.png").status_code == 403
