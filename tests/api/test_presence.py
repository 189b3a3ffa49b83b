"""Check-in that proves presence: a code that changes every minute, a printed fallback the organiser enables,
the place and radius, and the organiser's hand on attendance (with a reason, on the audit log)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core.audit import AuditLog
from app.core.time import travel, utcnow
from app.extensions import db

# 日晷公园东门广场 (GCJ-02) and two points: ~80 m and ~1.1 km away.
PARK = {"place_lat": "36.500000", "place_lng": "112.360000", "place_radius_m": 200}
NEAR = {"lat": 36.5007, "lng": 112.3603}
FAR = {"lat": 36.5100, "lng": 112.3600}


def started_activity(login, areas, *volunteers, hours=3):
    """An activity of east_admin that started a minute ago, each volunteer enrolled; (admin, path)."""
    admin = login("east_admin")
    starts = utcnow() + timedelta(hours=1)
    activity = admin.post("/activities", json={
        "title": "日晷公园环境清洁", "community_id": areas["东城社区"].id, "capacity": 10,
        "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=hours)).isoformat(),
        "place_text": "日晷公园东门广场"}).get_json()
    path = f"/activities/{activity['id']}"
    for volunteer in volunteers:
        assert volunteer.post(f"{path}/enrollments").status_code == 201
    travel(timedelta(hours=1, minutes=1))
    return admin, path, activity


def put(api, path, body):
    return api.client.put("/mp/v1" + path, json=body, headers=api.headers())


def shown(admin, path) -> str:
    res = admin.get(f"{path}/check-in-code")
    assert res.status_code == 200, res.get_json()
    body = res.get_json()
    assert 0 < body["seconds_left"] <= 60 and body["expires_at"].endswith("+08:00")
    return body["code"]


def test_a_current_code_works_and_a_photo_of_it_fails_two_minutes_later(login, areas):
    on_time, late_friend = login.resident(), login.resident()
    admin, path, _ = started_activity(login, areas, on_time, late_friend)
    code = shown(admin, path)
    assert login.resident().get(f"{path}/check-in-code").status_code == 403
    assert login("west_admin").get(f"{path}/check-in-code").status_code == 403

    ok = on_time.post(f"{path}/check-in", json={"scene": code})
    assert ok.status_code == 200 and ok.get_json()["check_in_method"] == "code"

    # The photo of the code, sent to the group chat, is used two minutes later from home.
    travel(timedelta(minutes=2))
    stale = late_friend.post(f"{path}/check-in", json={"scene": code})
    assert stale.status_code == 422
    assert stale.get_json()["message"] == "签到码已过期（现场签到码每分钟更换），请扫描组织方现场展示的最新签到码。"
    # The code on the organiser's screen now works, and so does the one of a minute ago (one step of skew).
    previous = shown(admin, path)
    travel(timedelta(minutes=1))
    assert shown(admin, path) != previous
    assert late_friend.post(f"{path}/check-in", json={"scene": previous}).status_code == 200


def test_a_forged_or_foreign_code_is_refused(login, areas):
    volunteer = login.resident()
    admin, path, activity = started_activity(login, areas, volunteer)
    other_admin, other_path, _ = started_activity(login, areas)
    code = shown(admin, path)
    step, _, signature = code.partition(".")
    for forged in (f"{int(step) + 1}.{signature}", f"{step}.AAAAAAAAAA", shown(other_admin, other_path)):
        res = volunteer.post(f"{path}/check-in", json={"scene": forged})
        assert res.status_code == 422 and res.get_json()["message"] == "签到码不正确，请扫描活动现场的签到码。"


def test_the_printed_fallback_code_works_only_once_enabled(login, areas):
    volunteer = login.resident()
    admin, path, activity = started_activity(login, areas, volunteer)
    printed = activity["scene"]
    refused = volunteer.post(f"{path}/check-in", json={"scene": printed})
    assert refused.status_code == 422 and "未启用纸质备用签到码" in refused.get_json()["message"]

    assert put(volunteer, f"{path}/check-in-rules", {"fallback_code_enabled": True}).status_code == 403
    rules = put(admin, f"{path}/check-in-rules", {"fallback_code_enabled": True})
    assert rules.status_code == 200 and rules.get_json()["fallback_code_enabled"] is True
    ok = volunteer.post(f"{path}/check-in", json={"scene": printed})
    assert ok.status_code == 200 and ok.get_json()["check_in_method"] == "fallback"

    put(admin, f"{path}/check-in-rules", {"fallback_code_enabled": False})
    travel(timedelta(hours=3))
    assert volunteer.post(f"{path}/check-out", json={"scene": printed}).status_code == 422
    assert volunteer.post(f"{path}/check-out", json={"scene": shown(admin, path)}).status_code == 200


def test_outside_the_radius_the_check_in_waits_for_the_organiser(login, areas):
    near, far, silent = login.resident(), login.resident(), login.resident()
    admin, path, _ = started_activity(login, areas, near, far, silent)
    half = put(admin, f"{path}/check-in-rules", {"fallback_code_enabled": False, "place_lat": "36.5"})
    assert half.status_code == 422
    rules = put(admin, f"{path}/check-in-rules", {"fallback_code_enabled": False, **PARK}).get_json()
    assert rules["place_radius_m"] == 200 and rules["place_lat"] == 36.5

    near_in = near.post(f"{path}/check-in", json={"scene": shown(admin, path), **NEAR}).get_json()
    assert near_in["presence"] == "" and 50 < near_in["check_in_distance_m"] < 120
    far_in = far.post(f"{path}/check-in", json={"scene": shown(admin, path), **FAR}).get_json()
    assert far_in["presence"] == "pending" and far_in["presence_label"] == "待组织方确认"
    assert far_in["check_in_distance_m"] > 1000
    silent_in = silent.post(f"{path}/check-in", json={"scene": shown(admin, path)}).get_json()
    assert silent_in["presence"] == "pending" and silent_in["check_in_distance_m"] is None

    travel(timedelta(hours=3))
    for volunteer in (near, far, silent):
        assert volunteer.post(f"{path}/check-out", json={"scene": shown(admin, path)}).status_code == 200
    entries = {e["user_id"]: e["id"] for e in admin.get("/service-hours", query_string={"mine": "false"})
               .get_json()["items"]}
    ids = {name: api.get("/me").get_json()["id"] for name, api in (("near", near), ("far", far),
                                                                    ("silent", silent))}
    assert admin.post(f"/service-hours/{entries[ids['near']]}/transitions", json={"action": "approve"}).status_code == 200
    blocked = admin.post(f"/service-hours/{entries[ids['far']]}/transitions", json={"action": "approve"})
    assert blocked.status_code == 409 and "请先在考勤中确认到场" in blocked.get_json()["message"]

    confirmed = admin.post(f"{path}/attendance", json={"user_id": ids["far"], "action": "confirm_presence",
                                                       "reason": "在公园西门集合点服务，现场见到"}).get_json()
    assert confirmed["presence"] == "confirmed" and confirmed["timeline"][-1]["action"] == "confirm_presence"
    assert admin.post(f"/service-hours/{entries[ids['far']]}/transitions", json={"action": "approve"}).status_code == 200

    refused = admin.post(f"{path}/attendance", json={"user_id": ids["silent"], "action": "refuse_presence",
                                                     "reason": "现场无人见到"}).get_json()
    assert refused["status"] == "absent" and refused["presence"] == "refused"
    mine = silent.get("/service-hours").get_json()
    assert mine["items"][0]["status"] == "rejected" and mine["totals"]["approved_hours"] == 0
    again = admin.post(f"{path}/attendance", json={"user_id": ids["near"], "action": "confirm_presence",
                                                   "reason": "x"})
    assert again.status_code == 409


def test_the_organiser_checks_people_in_and_out_by_hand_with_an_audited_reason(login, areas):
    forgot_phone = login.resident()
    admin, path, _ = started_activity(login, areas, forgot_phone)
    user_id = forgot_phone.get("/me").get_json()["id"]
    no_reason = admin.post(f"{path}/attendance", json={"user_id": user_id, "action": "check_in", "reason": " "})
    assert no_reason.status_code == 422 and no_reason.get_json()["message"] == "请填写原因。"
    assert forgot_phone.post(f"{path}/attendance", json={"user_id": user_id, "action": "check_in",
                                                         "reason": "我来了"}).status_code == 403

    checked_in = admin.post(f"{path}/attendance", json={"user_id": user_id, "action": "check_in",
                                                        "reason": "手机没电，现场登记"})
    assert checked_in.status_code == 200, checked_in.get_json()
    body = checked_in.get_json()
    assert body["check_in_method"] == "manual" and body["check_in_at"]
    assert body["timeline"][-1]["note"] == "手机没电，现场登记"
    audit = db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert audit.action == "attendance.check_in" and audit.detail["acts"][0]["user_id"] == user_id

    travel(timedelta(hours=2))
    out = admin.post(f"{path}/attendance", json={"user_id": user_id, "action": "check_out",
                                                 "reason": "提前离场，现场登记"}).get_json()
    assert out["check_out_at"] and out["hours"] == 2.0
    assert forgot_phone.get("/service-hours").get_json()["totals"]["pending_hours"] == 2.0
    audit = db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert audit.action == "attendance.check_out"
    twice = admin.post(f"{path}/attendance", json={"user_id": user_id, "action": "check_out", "reason": "再来"})
    assert twice.status_code == 409
