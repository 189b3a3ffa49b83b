"""Micro-wishes as residents, members and admins meet them: post, review, pool, claim, fulfil, confirm, sweeps."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core.time import to_local, travel, utcnow
from app.core.timeline import TimelineEvent
from app.extensions import db
from tests.api.wishflow import act, inbox, me, new_member, photo, post_wish


def test_a_wish_from_posting_to_confirmation(login, areas):
    resident = login.resident()
    admin = login("east_admin")
    member, registration = new_member(login, areas, skills=["水电维修"])
    other, _ = new_member(login, areas, name="李红梅")

    too_long = resident.post("/wishes", json={"title": "很" * 31, "category": "repair"})
    assert too_long.status_code == 422
    wish = post_wish(resident, areas)
    assert wish["status"] == "submitted" and wish["allowed_actions"] == ["cancel"]
    assert inbox(me(admin)["id"], "wish_submitted")

    # Not in the pool until the community approves it; the admin cleans the public text.
    assert wish["id"] not in [w["id"] for w in member.get("/wishes?pool=true").get_json()["items"]]
    approved = act(admin, wish["id"], "approve", public_title="厨房水管漏水需要维修",
                   public_detail="厨房水管接头漏水。")
    assert approved["status"] == "approved" and approved["title"] == "厨房水管漏水需要维修"
    assert inbox(me(resident)["id"], "wish_approved")
    # One fan-out to every approved member of the community (the demo member included).
    for uid in (me(member)["id"], me(other)["id"]):
        assert len(inbox(uid, "wish_pool")) == 1
    assert not inbox(me(resident)["id"], "wish_pool")

    pool = member.get("/wishes?pool=true").get_json()["items"]
    assert wish["id"] in [w["id"] for w in pool]
    assert all(w["status"] == "approved" for w in pool)
    claimed = act(member, wish["id"], "claim")
    assert claimed["status"] == "claimed" and claimed["claimed_by_me"] is True
    assert set(claimed["allowed_actions"]) == {"release", "fulfil"}
    assert inbox(me(resident)["id"], "wish_claimed")
    late = other.post(f"/wishes/{wish['id']}/transitions", json={"action": "claim"})
    assert late.status_code in (404, 409)

    no_photo = act(member, wish["id"], "fulfil", 422, note="换了新的接头", hours=1.5)
    assert "照片" in no_photo["message"]
    fulfilled = act(member, wish["id"], "fulfil", note="换了新的接头，已不再漏水。", hours=1.5,
                    photo_ids=[photo(member)])
    assert fulfilled["status"] == "fulfilled" and fulfilled["hours"] == 1.5
    assert inbox(me(resident)["id"], "wish_fulfilled")

    assert resident.get(f"/wishes/{wish['id']}").get_json()["allowed_actions"] == ["confirm", "dispute"]
    confirmed = act(resident, wish["id"], "confirm", rating=5, comment="党员同志手艺好！")
    assert confirmed["status"] == "confirmed" and confirmed["rating"] == 5
    # One rating, one timeline event, whether given on confirming or afterwards.
    assert [e["action"] for e in confirmed["timeline"]] == ["submit", "approve", "claim", "fulfil", "confirm", "rate"]
    assert confirmed["timeline"][2]["actor_role_label"] == "在职党员"
    again = resident.post(f"/wishes/{wish['id']}/rating", json={"score": 4})
    assert again.status_code == 409 and "评价过" in again.get_json()["message"]

    # The hours land once in the shared service-hours ledger, and count in the 纪实 once the community approves.
    from app.volunteering.models import ServiceHours

    ledger = db.session.scalars(select(ServiceHours).where(
        ServiceHours.source_type == "wish", ServiceHours.source_id == wish["id"])).all()
    assert len(ledger) == 1 and ledger[0].user_id == me(member)["id"] and float(ledger[0].hours) == 1.5
    record = member.get(f"/party-members/{registration['id']}/record").get_json()
    assert record["wishes_fulfilled"] == 0 and record["hours"] == 0 and record["pending_hours"] == 1.5
    login("east_admin").post(f"/service-hours/{ledger[0].id}/transitions", json={"action": "approve"})
    record = member.get(f"/party-members/{registration['id']}/record").get_json()
    assert record["wishes_fulfilled"] == 1 and record["hours"] == 1.5 and record["rating_average"] == 5


def test_address_and_phone_only_for_the_claimer(login, areas):
    resident = login.resident()
    claimer, _ = new_member(login, areas)
    bystander, _ = new_member(login, areas, name="周立新")
    stranger = login.resident()
    wish = post_wish(resident, areas, address="东城小区9号楼2单元702", contact_phone="13811112222")
    act(login("east_admin"), wish["id"], "approve")

    seen = bystander.get(f"/wishes/{wish['id']}")
    assert seen.status_code == 200 and seen.get_json()["contact"] is None
    assert seen.get_json()["requester_name"] == "孙*芳"
    pool = bystander.get("/wishes?pool=true")
    for res in (seen, pool):
        assert "13811112222" not in res.get_data(as_text=True)
        assert "9号楼2单元702" not in res.get_data(as_text=True)
    assert stranger.get(f"/wishes/{wish['id']}").status_code == 404
    assert stranger.get("/wishes?pool=true").status_code == 403

    mine = act(claimer, wish["id"], "claim")
    assert mine["contact"] == {"name": "孙桂芳", "phone": "13811112222", "address": "东城小区9号楼2单元702"}
    after = bystander.get(f"/wishes/{wish['id']}")
    assert after.get_json()["contact"] is None and after.get_json()["timeline"] == []
    assert "13811112222" not in after.get_data(as_text=True)
    admin_view = login("east_admin").get(f"/wishes/{wish['id']}").get_json()
    assert admin_view["contact"]["phone"] == "13811112222"


def test_pool_is_per_community(login, areas):
    resident = login.resident()
    east_member, _ = new_member(login, areas)
    west_member, _ = new_member(login, areas, community="西园社区", name="吴海燕")
    wish = post_wish(resident, areas)
    act(login("east_admin"), wish["id"], "approve")
    assert wish["id"] in [w["id"] for w in east_member.get("/wishes?pool=true").get_json()["items"]]
    assert wish["id"] not in [w["id"] for w in west_member.get("/wishes?pool=true").get_json()["items"]]
    assert west_member.get(f"/wishes/{wish['id']}").status_code == 404
    assert west_member.post(f"/wishes/{wish['id']}/transitions", json={"action": "claim"}).status_code == 404
    assert login("west_admin").post(f"/wishes/{wish['id']}/transitions",
                                    json={"action": "reject", "reason": "x"}).status_code == 404


def test_dispatch_uses_ranked_candidates_with_reasons(login, areas):
    resident = login.resident()
    admin = login("east_admin")
    handy, handy_reg = new_member(login, areas, name="钱师傅", grid="东城社区第一网格", skills=["水电维修", "木工"])
    tutor, tutor_reg = new_member(login, areas, name="孔老师", grid="东城社区第二网格", skills=["英语辅导"])
    wish = post_wish(resident, areas, category="repair", grid_id=areas["东城社区第一网格"].id)

    assert handy.get(f"/wishes/{wish['id']}/candidates").status_code in (403, 404)
    res = admin.get(f"/wishes/{wish['id']}/candidates")
    assert res.status_code == 200
    items = res.get_json()["items"]
    ranked = [c["member_id"] for c in items]
    assert ranked.index(handy_reg["id"]) < ranked.index(tutor_reg["id"])
    # The demo member (水电维修, same grid, active lately) and 钱师傅 lead; the tutor trails.
    assert {c["member_id"] for c in items[:2]} >= {handy_reg["id"]}
    assert items[-1]["member_id"] == tutor_reg["id"] and items[0]["rank"] == 1
    top = next(c for c in items if c["member_id"] == handy_reg["id"])
    assert "擅长“水电维修、木工”，与“维修帮忙”对口" in top["reason"] and "同在东城社区第一网格" in top["reason"]
    tutor_item = next(c for c in items if c["member_id"] == tutor_reg["id"])
    assert "无直接对应" in tutor_item["reason"] and "不在同一网格" in tutor_item["reason"]

    act(admin, wish["id"], "approve")
    missing = act(admin, wish["id"], "dispatch", 422)
    assert "选择党员" in missing["message"]
    dispatched = act(admin, wish["id"], "dispatch", member_id=handy_reg["id"])
    assert dispatched["status"] == "offered" and dispatched["claimer"] is None
    assert inbox(me(handy)["id"], "wish_offered")
    assert act(handy, wish["id"], "accept")["claimer"]["name"] == "钱师傅"
    assert inbox(me(resident)["id"], "wish_claimed")
    assert handy.get(f"/wishes/{wish['id']}").get_json()["contact"]["address"] == "东城小区2号楼1单元301"
    assert handy.get("/wishes?claimed_by_me=true").get_json()["items"][0]["id"] == wish["id"]
    # Load counts: the dispatched member now has one wish in hand.
    second = post_wish(resident, areas, title="楼道灯不亮想请人换")
    after = admin.get(f"/wishes/{second['id']}/candidates").get_json()["items"]
    assert next(c for c in after if c["member_id"] == handy_reg["id"])["open_claims"] == 1
    assert "当前有 1 个心愿在办" in next(c for c in after if c["member_id"] == handy_reg["id"])["reason"]


def test_release_needs_a_reason_and_returns_the_wish_to_the_pool(login, areas):
    resident = login.resident()
    member, _ = new_member(login, areas)
    wish = post_wish(resident, areas)
    act(login("east_admin"), wish["id"], "approve")
    act(member, wish["id"], "claim")
    res = act(member, wish["id"], "release", 422)
    assert "退回原因" in res["message"]
    released = act(member, wish["id"], "release", reason="临时出差，无法按时上门")
    assert released["status"] == "approved" and released["claimed"] is False
    assert released["contact"] is None
    assert inbox(me(login("east_admin"))["id"], "wish_released")


def test_cancel_only_before_a_claim_and_rejection_needs_a_reason(login, areas):
    resident = login.resident()
    admin = login("east_admin")
    member, _ = new_member(login, areas)
    first = post_wish(resident, areas)
    assert act(resident, first["id"], "cancel")["status"] == "cancelled"

    second = post_wish(resident, areas)
    assert "驳回原因" in act(admin, second["id"], "reject", 422)["message"]
    rejected = act(admin, second["id"], "reject", reason="请补充具体需求")
    assert rejected["status"] == "rejected"
    assert resident.get(f"/wishes/{second['id']}").get_json()["reject_reason"] == "请补充具体需求"

    third = post_wish(resident, areas)
    act(admin, third["id"], "approve")
    act(member, third["id"], "claim")
    res = resident.post(f"/wishes/{third['id']}/transitions", json={"action": "cancel"})
    assert res.status_code == 409
    assert res.get_json()["errors"]["allowed_actions"] == []
    assert "已认领" in res.get_json()["message"]


def test_a_member_cannot_claim_their_own_wish(login, areas):
    member, _ = new_member(login, areas)
    wish = post_wish(member, areas)
    act(login("east_admin"), wish["id"], "approve")
    res = member.post(f"/wishes/{wish['id']}/transitions", json={"action": "claim"})
    assert res.status_code == 403
    assert "claim" not in member.get(f"/wishes/{wish['id']}").get_json()["allowed_actions"]


def test_unclaimed_wish_expires_after_its_date_and_grace(login, areas):
    from tasks.wishes import expire_wishes

    resident = login.resident()
    today = to_local(utcnow()).date()
    wish = post_wish(resident, areas, desired_date=today.isoformat())
    act(login("east_admin"), wish["id"], "approve")
    travel(timedelta(days=3))
    assert expire_wishes() == 0
    assert resident.get(f"/wishes/{wish['id']}").get_json()["status"] == "approved"
    travel(timedelta(days=1, hours=1))
    assert expire_wishes() == 1
    seen = resident.get(f"/wishes/{wish['id']}").get_json()
    assert seen["status"] == "expired" and seen["timeline"][-1]["actor_role_label"] == "系统"
    assert inbox(me(resident)["id"], "wish_expired")
    assert expire_wishes() == 0


def test_silent_resident_is_confirmed_automatically_after_seven_days(login, areas, fake_wechat):
    from tasks.wishes import auto_confirm_wishes

    openid = "o_silent_resident"
    resident = login.resident(openid)
    member, registration = new_member(login, areas)
    wish = post_wish(resident, areas)
    act(login("east_admin"), wish["id"], "approve")
    act(member, wish["id"], "claim")
    act(member, wish["id"], "fulfil", note="已上门修好", hours=2, photo_ids=[photo(member)])

    travel(timedelta(days=6, hours=23))
    assert auto_confirm_wishes() == 0
    travel(timedelta(hours=2))
    assert auto_confirm_wishes() == 1
    resident = login.resident(openid)  # the old token has expired with the clock
    seen = resident.get(f"/wishes/{wish['id']}").get_json()
    assert seen["status"] == "confirmed" and seen["auto_confirmed"] is True and seen["can_rate"] is True
    rated = resident.post(f"/wishes/{wish['id']}/rating", json={"score": 4, "comment": "很好"})
    assert rated.status_code == 200 and rated.get_json()["rating"] == 4
    member = login("east_admin")
    record = member.get(f"/party-members/{registration['id']}/record").get_json()
    assert record["hours"] == 0 and record["pending_hours"] == 2  # recorded; the community still decides it
    from app.volunteering.models import ServiceHours

    entry = db.session.scalar(select(ServiceHours).where(ServiceHours.source_type == "wish",
                                                         ServiceHours.source_id == wish["id"]))
    login("east_admin").post(f"/service-hours/{entry.id}/transitions", json={"action": "approve"})
    record = member.get(f"/party-members/{registration['id']}/record").get_json()
    assert record["hours"] == 2 and record["rating_average"] == 4
    events = db.session.scalars(select(TimelineEvent).where(
        TimelineEvent.subject_type == "wish", TimelineEvent.subject_id == wish["id"],
        TimelineEvent.action == "confirm")).all()
    assert len(events) == 1 and events[0].actor_role == "system" and events[0].actor_id is None


def test_admin_lists_are_scoped_and_paginated(login, areas):
    resident = login.resident()
    for n in range(3):
        post_wish(resident, areas, title=f"心愿{n}")
    east = login("east_admin").get("/wishes?status=submitted&limit=2").get_json()
    assert len(east["items"]) == 2 and east["next_cursor"]
    rest = login("east_admin").get(f"/wishes?status=submitted&limit=2&cursor={east['next_cursor']}").get_json()
    assert rest["items"]
    assert login("west_admin").get("/wishes?status=submitted").get_json()["items"] == []
    assert [w["title"] for w in resident.get("/wishes?mine=true").get_json()["items"]][:3] == ["心愿2", "心愿1", "心愿0"]
