"""三单制 to the letter: 派单 → 接单 or decline, silent offers lapse, the community takes back or reassigns,
stalled claims are reminded then returned, residents dispute a fulfilment, goods wishes with donors' pledges."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core.time import travel
from app.core.timeline import TimelineEvent
from app.extensions import db
from tests.api.wishflow import act, inbox, me, new_member, photo, post_wish


def _events(wish_id: int, action: str) -> list[TimelineEvent]:
    return list(db.session.scalars(select(TimelineEvent).where(
        TimelineEvent.subject_type == "wish", TimelineEvent.subject_id == wish_id, TimelineEvent.action == action)))


def test_a_dispatched_wish_declined_and_re_offered(login, areas):
    resident = login.resident()
    admin = login("east_admin")
    first, first_reg = new_member(login, areas, name="钱师傅", skills=["水电维修"])
    second, second_reg = new_member(login, areas, name="孔老师")
    wish = post_wish(resident, areas)
    act(admin, wish["id"], "approve")

    offered = act(admin, wish["id"], "dispatch", member_id=first_reg["id"], note="您离得最近")
    assert offered["status"] == "offered" and offered["status_label"] == "待接单"
    assert offered["offer_expires_at"] and offered["claimed"] is False
    assert inbox(me(first)["id"], "wish_offered")
    # The member sees it among the offers to them, not yet with the resident's address.
    seen = first.get(f"/wishes/{wish['id']}").get_json()
    assert seen["offered_to_me"] is True and set(seen["allowed_actions"]) == {"accept", "decline"}
    assert seen["contact"] is None
    assert [w["id"] for w in first.get("/wishes?offered_to_me=true").get_json()["items"]] == [wish["id"]]
    # Someone else cannot accept it; a plain claim is not possible while it is offered.
    assert second.post(f"/wishes/{wish['id']}/transitions", json={"action": "accept"}).status_code == 403
    assert act(second, wish["id"], "claim", 409)["errors"]["allowed_actions"] == []

    assert "拒绝接单的原因" in act(first, wish["id"], "decline", 422)["message"]
    declined = act(first, wish["id"], "decline", reason="本周在外地出差")
    assert declined["status"] == "approved" and declined["offered_to_me"] is False
    told = inbox(me(admin)["id"], "wish_declined")
    assert told and "本周在外地出差" in told[0].body

    act(admin, wish["id"], "dispatch", member_id=second_reg["id"])
    accepted = act(second, wish["id"], "accept")
    assert accepted["status"] == "claimed" and accepted["claimed_by_me"] is True
    assert accepted["contact"]["address"] == "东城小区2号楼1单元301"
    assert inbox(me(resident)["id"], "wish_claimed")
    actions = [e["action"] for e in resident.get(f"/wishes/{wish['id']}").get_json()["timeline"]]
    assert actions == ["submit", "approve", "dispatch", "decline", "dispatch", "accept"]
    labels = [e["action_label"] for e in resident.get(f"/wishes/{wish['id']}").get_json()["timeline"]]
    assert labels[3:] == ["拒绝接单", "社区派单", "接单"]


def test_a_silent_offer_lapses_back_to_the_community(app, login, areas):
    from tasks.wishes import lapse_wish_offers

    resident = login.resident()
    admin = login("east_admin")
    member, reg = new_member(login, areas)
    wish = post_wish(resident, areas)
    act(admin, wish["id"], "approve")
    act(admin, wish["id"], "dispatch", member_id=reg["id"])
    hours = app.config["WISH_OFFER_HOURS"]
    travel(timedelta(hours=hours - 1))
    assert lapse_wish_offers() == 0
    travel(timedelta(hours=2))
    assert lapse_wish_offers() == 2  # this offer and the demo's
    admin = login("east_admin")
    seen = admin.get(f"/wishes/{wish['id']}").get_json()
    assert seen["status"] == "approved" and "dispatch" in seen["allowed_actions"]
    assert seen["timeline"][-1]["action_label"] == "派单超时未接" and seen["timeline"][-1]["actor_role_label"] == "系统"
    assert inbox(me(admin)["id"], "wish_offer_lapsed")
    assert lapse_wish_offers() == 0


def test_the_community_takes_back_or_reassigns_with_a_reason(login, areas):
    resident = login.resident()
    admin = login("east_admin")
    holder, _ = new_member(login, areas, name="周立新")
    other, other_reg = new_member(login, areas, name="李红梅")
    wish = post_wish(resident, areas)
    act(admin, wish["id"], "approve")
    act(holder, wish["id"], "claim")
    assert set(admin.get(f"/wishes/{wish['id']}").get_json()["allowed_actions"]) == {"take_back", "reassign"}

    assert "改派原因" in act(admin, wish["id"], "reassign", 422, member_id=other_reg["id"])["message"]
    reassigned = act(admin, wish["id"], "reassign", member_id=other_reg["id"], reason="原认领党员联系不上")
    assert reassigned["status"] == "offered" and reassigned["claimer"] is None
    assert inbox(me(holder)["id"], "wish_taken_back") and inbox(me(other)["id"], "wish_offered")
    assert holder.get(f"/wishes/{wish['id']}").get_json()["contact"] is None

    taken = act(admin, wish["id"], "take_back", reason="居民改约时间，重新安排")
    assert taken["status"] == "approved" and taken["offered_to_me"] is False
    assert other.get("/wishes?offered_to_me=true").get_json()["items"] == []
    # A member may not take the community's steps.
    act(holder, wish["id"], "claim")
    assert holder.post(f"/wishes/{wish['id']}/transitions",
                       json={"action": "take_back", "reason": "x"}).status_code == 403


def test_a_stalled_claim_is_reminded_then_returned_to_the_pool(app, login, areas):
    from tasks.wishes import sweep_stalled_wish_claims

    resident = login.resident()
    member, _ = new_member(login, areas)
    member_id = me(member)["id"]
    wish = post_wish(resident, areas)
    act(login("east_admin"), wish["id"], "approve")
    act(member, wish["id"], "claim")
    remind, back = app.config["WISH_STALL_REMIND_DAYS"], app.config["WISH_STALL_RETURN_DAYS"]
    travel(timedelta(days=remind) - timedelta(hours=1))
    assert sweep_stalled_wish_claims() == {"reminded": 0, "returned": 0}
    travel(timedelta(hours=2))
    assert sweep_stalled_wish_claims() == {"reminded": 1, "returned": 0}
    assert sweep_stalled_wish_claims() == {"reminded": 0, "returned": 0}  # one reminder, not one a run
    assert len(inbox(member_id, "wish_stall_reminder")) == 1
    travel(timedelta(days=back - remind))
    assert sweep_stalled_wish_claims() == {"reminded": 0, "returned": 1}
    admin = login("east_admin")
    seen = admin.get(f"/wishes/{wish['id']}").get_json()
    assert seen["status"] == "approved" and seen["claimed"] is False
    assert [e["action_label"] for e in seen["timeline"]][-2:] == ["提醒办理", "超期未办退回"]
    assert inbox(member_id, "wish_stall_returned") and inbox(me(admin)["id"], "wish_stall_returned")


def test_a_disputed_fulfilment_reviewed_by_the_community(login, areas):
    resident = login.resident()
    admin = login("east_admin")
    member, _ = new_member(login, areas)
    wish = post_wish(resident, areas)
    act(admin, wish["id"], "approve")
    act(member, wish["id"], "claim")
    act(member, wish["id"], "fulfil", note="已更换接头", hours=1, photo_ids=[photo(member)])

    assert "异议原因" in act(resident, wish["id"], "dispute", 422)["message"]
    disputed = act(resident, wish["id"], "dispute", reason="水管还在漏水，没有修好")
    assert disputed["status"] == "disputed" and disputed["dispute_reason"] == "水管还在漏水，没有修好"
    assert inbox(me(admin)["id"], "wish_disputed") and inbox(me(member)["id"], "wish_disputed")
    assert set(admin.get(f"/wishes/{wish['id']}").get_json()["allowed_actions"]) == {"redo", "close"}
    assert resident.post(f"/wishes/{wish['id']}/transitions", json={"action": "confirm"}).status_code == 409

    redo = act(admin, wish["id"], "redo", reason="电话核实确有漏水，请再上门")
    assert redo["status"] == "claimed"
    act(member, wish["id"], "fulfil", note="换了整段水管", hours=2, photo_ids=[photo(member)])
    act(resident, wish["id"], "dispute", reason="还是有点滴水")
    closed = act(admin, wish["id"], "close", reason="上门查看已不漏水，按办结处理")
    assert closed["status"] == "confirmed"
    from app.volunteering.models import ServiceHours

    entries = db.session.scalars(select(ServiceHours).where(
        ServiceHours.source_type == "wish", ServiceHours.source_id == wish["id"])).all()
    assert len(entries) == 1 and float(entries[0].hours) == 2
    assert inbox(me(resident)["id"], "wish_closed")


def test_one_rating_one_timeline_event(login, areas):
    resident = login.resident()
    member, _ = new_member(login, areas)
    wish = post_wish(resident, areas)
    act(login("east_admin"), wish["id"], "approve")
    act(member, wish["id"], "claim")
    act(member, wish["id"], "fulfil", note="修好了", hours=1, photo_ids=[photo(member)])
    act(resident, wish["id"], "confirm", rating=4, comment="很及时")
    rates = _events(wish["id"], "rate")
    assert len(rates) == 1 and rates[0].data == {"score": 4} and rates[0].note == "很及时"
    assert resident.post(f"/wishes/{wish['id']}/rating", json={"score": 5}).status_code == 409
    assert len(_events(wish["id"], "rate")) == 1


def test_permission_before_the_body(login, areas):
    resident = login.resident()
    member, _ = new_member(login, areas)
    bystander, _ = new_member(login, areas, name="旁观者")
    wish = post_wish(resident, areas)
    act(login("east_admin"), wish["id"], "approve")
    act(member, wish["id"], "claim")
    # No photo, no note: the bystander is told they may not, not that the photo is missing.
    res = bystander.post(f"/wishes/{wish['id']}/transitions", json={"action": "fulfil"})
    assert res.status_code == 403 and "完成心愿" in res.get_json()["message"]
    assert act(member, wish["id"], "fulfil", 422, note="x", hours=1)["errors"]["photo_ids"]


def test_a_goods_wish_with_two_donors(login, areas):
    resident = login.resident()
    admin = login("east_admin")
    donor_a, donor_b, late = login.resident(), login.resident(), login.resident()
    wish = post_wish(resident, areas, category="goods", title="孩子上学需要书包和文具", quantity=3)
    assert wish["quantity"] == 3
    act(admin, wish["id"], "approve")
    member, _ = new_member(login, areas)
    assert member.post(f"/wishes/{wish['id']}/transitions", json={"action": "claim"}).status_code == 403
    assert "dispatch" not in admin.get(f"/wishes/{wish['id']}").get_json()["allowed_actions"]

    res = donor_a.post(f"/wishes/{wish['id']}/pledges", json={"quantity": 2, "donor_name": "王阿姨"})
    assert res.status_code == 201, res.get_json()
    assert res.get_json()["pledged"] == 2 and res.get_json()["pledges"][0]["mine"] is True
    too_many = donor_b.post(f"/wishes/{wish['id']}/pledges", json={"quantity": 2})
    assert too_many.status_code == 409 and "只剩 1 件" in too_many.get_json()["message"]
    assert donor_b.post(f"/wishes/{wish['id']}/pledges", json={"quantity": 1, "note": "新书包一个"}).status_code == 201
    full = late.post(f"/wishes/{wish['id']}/pledges", json={"quantity": 1})
    assert full.status_code == 409 and "已全部认捐" in full.get_json()["message"]
    # Others see masked donor names; the community sees them in full.
    seen = late.get(f"/wishes/{wish['id']}").get_json()
    assert seen["pledges"][0]["donor_name"] != "王阿姨" and seen["contact"] is None
    pledges = admin.get(f"/wishes/{wish['id']}").get_json()["pledges"]
    assert [p["donor_name"] for p in pledges][0] == "王阿姨"

    assert donor_a.post(f"/wishes/{wish['id']}/pledges/{pledges[0]['id']}/handover", json={}).status_code == 403
    first = admin.post(f"/wishes/{wish['id']}/pledges/{pledges[0]['id']}/handover", json={"note": "已送到社区"})
    assert first.status_code == 200 and first.get_json()["status"] == "approved"
    assert inbox(me(donor_a)["id"], "wish_handover")
    done = admin.post(f"/wishes/{wish['id']}/pledges/{pledges[1]['id']}/handover", json={}).get_json()
    assert done["status"] == "fulfilled"
    assert inbox(me(resident)["id"], "wish_fulfilled")
    again = admin.post(f"/wishes/{wish['id']}/pledges/{pledges[1]['id']}/handover", json={})
    assert again.status_code == 409
    confirmed = act(resident, wish["id"], "confirm", rating=5)
    assert confirmed["status"] == "confirmed"
    assert [e["action"] for e in confirmed["timeline"]] == [
        "submit", "approve", "pledge", "pledge", "handover", "handover", "deliver", "confirm", "rate"]
    from app.volunteering.models import ServiceHours

    assert not db.session.scalars(select(ServiceHours).where(ServiceHours.source_id == wish["id"],
                                                             ServiceHours.source_type == "wish")).all()


def test_permission_before_the_ranges_of_the_body(login, areas):
    resident = login.resident()
    member, _ = new_member(login, areas)
    bystander, _ = new_member(login, areas, name="旁观者")
    wish = post_wish(resident, areas)
    act(login("east_admin"), wish["id"], "approve")
    act(member, wish["id"], "claim")
    res = bystander.post(f"/wishes/{wish['id']}/transitions", json={"action": "fulfil", "hours": 99})
    assert res.status_code == 403
    assert "不超过 24 小时" in act(member, wish["id"], "fulfil", 422, note="x", hours=99,
                                  photo_ids=[photo(member)])["message"]
