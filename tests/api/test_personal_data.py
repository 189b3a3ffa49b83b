"""Personal data through its life, as a new user and an auditor would check it: the notice and consent,
export, cancellation (注销), the claimer's access to a wish's contact, and no phone in plain text anywhere."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

from sqlalchemy import JSON, String, Text, select

from app.accounts.models import User
from app.areas.models import Place
from app.cases.models import Case, Category
from app.codes.models import Code
from app.contact.models import MessageThread
from app.core.audit import AuditLog
from app.core.time import to_local, utcnow
from app.core.timeline import TimelineEvent
from app.extensions import db
from app.praise.models import Praise
from app.privacy.models import Consent, PrivacyRequest
from app.privacy.notice import VERSION
from app.wishes.models import Wish
from tests.api.wishflow import act, new_member, photo, post_wish
from tests.console_client import Console

PHONE = "13955550123"
ADDRESS = "东城小区2号楼1单元301"


def _place():
    place = db.session.scalar(select(Place).where(Place.name == "东城小区1号楼"))
    scene = db.session.scalar(select(Code.scene).where(Code.place_id == place.id, Code.active.is_(True)))
    category = db.session.scalar(select(Category).order_by(Category.id))
    return place, scene, category


def _resident_with_records(login, fake_wechat, areas, openid="o_pd", description="楼道灯坏了，晚上看不见路。"):
    """A resident with a phone, a case with a photo, a wish, a message and a praise."""
    resident = login.resident(openid=openid)
    assert resident.post("/auth/phone", json={"code": fake_wechat.issue_phone_code(PHONE)}).status_code == 200
    place, scene, category = _place()
    photo_id = photo(resident)
    case = resident.post("/cases", json={"place_id": place.id, "category_id": category.id, "photo_ids": [photo_id],
                                         "description": description}).get_json()
    wish = post_wish(resident, areas, contact_phone=PHONE, address=ADDRESS)
    thread = resident.post("/messages", json={"scene": scene, "to_role": "grid_worker", "body": "楼下有积水。"})
    assert thread.status_code == 201, thread.get_json()
    praised = resident.post("/praises", json={"scene": scene, "target_type": "place", "target_id": place.id,
                                              "message": "很干净"})
    assert praised.status_code == 201, praised.get_json()
    return resident, case, wish


# -- the notice and consent -------------------------------------------------------------------------

def test_the_notice_names_controller_contact_purposes_retention_rights_and_processors(client, app):
    res = client.get("/mp/v1/privacy")
    assert res.status_code == 200
    body = res.get_json()
    assert body["version"] == VERSION
    assert body["controller"]["name"] == app.config["PRIVACY_CONTROLLER"] and body["controller"]["contact"]
    assert body["purposes"] and any("手机号" in i["item"] for i in body["items"])
    kinds = {r["kind"]: r for r in body["retention"]}
    assert {"cases", "wishes", "suggestions", "messages", "praise", "enrollments", "notifications",
            "audit_logs"} <= set(kinds)
    assert kinds["cases"]["months"] == app.config["RETENTION_MONTHS"] and "撤回" in kinds["cases"]["starts"]
    assert any("微信" in p["name"] for p in body["processors"])
    assert any(r["right"] == "删除、注销账号" for r in body["rights"])
    assert any("已注销用户" in line for line in body["cancellation"])
    page = client.get("/privacy").get_data(as_text=True)
    for text in (VERSION, app.config["PRIVACY_CONTROLLER"], "注销账号后", "委托处理与第三方", "申请查阅、更正或注销"):
        assert text in page


def test_consent_to_the_current_version_is_recorded(login):
    resident = login.resident(openid="o_consent")
    assert resident.get("/me/consents").get_json()["accepted_current"] is False
    stale = resident.post("/me/consents", json={"version": "2020-01-01"})
    assert stale.status_code == 422 and VERSION in stale.get_json()["message"]
    res = resident.post("/me/consents", json={"version": VERSION})
    assert res.status_code == 201 and res.get_json()["version"] == VERSION and res.get_json()["channel"] == "mp"
    mine = resident.get("/me/consents").get_json()
    assert mine["accepted_current"] is True and mine["current_version"] == VERSION
    assert [c["version"] for c in mine["items"]] == [VERSION] and mine["items"][0]["accepted_at"]


def test_a_portal_submission_carries_its_consent(app):
    _, scene, category = _place()
    visitor = Console(app.test_client())
    visitor.token_from(f"/s/{scene}/report")
    form = {"phone": "13700005555", "category_id": category.id, "description": "路灯坏了"}
    refused = visitor.post(f"/s/{scene}/report", data=form)
    assert refused.status_code == 200 and "请先阅读并勾选同意《隐私保护指引》" in refused.get_data(as_text=True)
    assert db.session.scalar(select(Case.id).where(Case.description == "路灯坏了")) is None
    done = visitor.post(f"/s/{scene}/report", data=form | {"privacy_version": VERSION})
    assert done.status_code == 302
    case = db.session.scalar(select(Case).where(Case.description == "路灯坏了"))
    consent = db.session.scalar(select(Consent).where(Consent.user_id == case.reporter_id))
    assert consent.notice_version == VERSION and consent.channel == "portal"


# -- export -----------------------------------------------------------------------------------------

def test_export_gives_everything_held_with_the_photos(login, fake_wechat, areas):
    resident, case, wish = _resident_with_records(login, fake_wechat, areas)
    res = resident.get("/me/export")
    assert res.status_code == 200 and res.mimetype == "application/zip"
    assert "attachment" in res.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(res.data)) as archive:
        held = json.loads(archive.read("data.json"))
        photos = [n for n in archive.namelist() if n.startswith("photos/")]
    assert held["account"]["phone"] == PHONE and held["notice_version"] == VERSION
    assert [c["id"] for c in held["cases_reported"]] == [case["id"]]
    assert held["wishes_made"][0]["address"] == ADDRESS and held["wishes_made"][0]["phone"] == PHONE
    assert held["message_threads"] and held["messages_written"] and held["praise_given"]
    assert "password_hash" not in held["account"] and "phone_hash" not in held["account"]
    assert len(photos) == 1  # the photo as stored (EXIF already stripped)
    user_id = held["account"]["id"]
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.actor_id == user_id)
                             .order_by(AuditLog.id.desc())) == "privacy.export"


def test_a_claimer_does_not_export_the_requesters_contact(login, areas):
    requester = login.resident()
    member, _ = new_member(login, areas)
    wish = post_wish(requester, areas, contact_phone=PHONE, address=ADDRESS)
    act(login("east_admin"), wish["id"], "approve")
    act(member, wish["id"], "claim")
    with zipfile.ZipFile(io.BytesIO(member.get("/me/export").data)) as archive:
        text = archive.read("data.json").decode()
    assert json.loads(text)["wishes_claimed"][0]["id"] == wish["id"]
    assert PHONE not in text and ADDRESS not in text


# -- cancellation -----------------------------------------------------------------------------------

def test_cancellation_erases_the_person_and_keeps_the_record_under_a_pseudonym(login, fake_wechat, areas):
    resident, case, wish = _resident_with_records(login, fake_wechat, areas,
                                                  description=f"楼道灯坏了，晚上看不见路。电话{PHONE}")
    user_id = resident.get("/me").get_json()["id"]
    unconfirmed = resident.post("/me/cancellation", json={"confirm": False})
    assert unconfirmed.status_code == 422
    res = resident.post("/me/cancellation", json={"confirm": True})
    assert res.status_code == 200, res.get_json()
    assert any("已注销用户" in line for line in res.get_json()["remains"])
    assert resident.get("/me").status_code == 401  # every token revoked

    user = db.session.get(User, user_id)
    db.session.refresh(user)
    assert (user.openid, user.phone_encrypted, user.phone_hash, user.is_active) == (None, None, None, False)
    assert user.display_name == "已注销用户" and user.cancelled_at is not None
    kept = db.session.get(Case, case["id"])
    db.session.refresh(kept)
    assert kept.reporter_id == user_id and kept.anonymous  # the record stays, nameless
    assert kept.description == "楼道灯坏了，晚上看不见路。电话139****0123"  # with the number typed in masked
    assert db.session.scalar(select(TimelineEvent.id).where(TimelineEvent.subject_type == "case",
                                                            TimelineEvent.subject_id == case["id"]))
    gone = db.session.get(Wish, wish["id"])
    db.session.refresh(gone)
    assert gone.status == "cancelled" and gone.phone_encrypted is None and gone.address_encrypted is None
    assert gone.photos == [] and gone.contact_name == ""
    assert db.session.scalar(select(MessageThread.id).where(MessageThread.resident_id == user_id)) is None
    assert db.session.scalar(select(Praise.id).where(Praise.user_id == user_id)) is None
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.actor_id == user_id)
                             .order_by(AuditLog.id.desc())) == "privacy.cancel_account"

    again = login.resident(openid="o_pd")  # the same WeChat user comes back: a new, empty account
    assert again.get("/me").get_json()["id"] != user_id
    assert again.get("/cases?mine=true").get_json()["items"] == []


def test_a_cancelled_claimer_returns_the_wish_to_the_pool(login, areas):
    requester = login.resident()
    member, _ = new_member(login, areas)
    wish = post_wish(requester, areas)
    act(login("east_admin"), wish["id"], "approve")
    act(member, wish["id"], "claim")
    assert member.post("/me/cancellation", json={"confirm": True}).status_code == 200
    back = requester.get(f"/wishes/{wish['id']}").get_json()
    assert back["status"] == "approved" and back["claimed"] is False
    assert back["timeline"][-1]["note"] == "认领的党员已注销账号，心愿退回心愿池。"


def test_staff_cannot_cancel_their_own_account(login):
    res = login("east_admin").post("/me/cancellation", json={"confirm": True})
    assert res.status_code == 403 and "工作人员" in res.get_json()["message"]


def test_a_portal_resident_asks_and_staff_cancel_within_the_deadline(app):
    _, scene, category = _place()
    visitor = Console(app.test_client())
    visitor.token_from(f"/s/{scene}/report")
    visitor.post(f"/s/{scene}/report", data={"phone": "13700006666", "category_id": category.id,
                                             "description": "井盖松动", "privacy_version": VERSION})
    visitor.token_from("/privacy")
    unknown = visitor.post("/privacy/requests", data={"phone": "13700009999", "kind": "cancellation"})
    known = visitor.post("/privacy/requests", data={"phone": "13700006666", "kind": "cancellation",
                                                    "detail": "不再使用，请注销"})
    assert unknown.status_code == known.status_code == 302  # the same answer: the form tells nobody who is known
    requests = list(db.session.scalars(select(PrivacyRequest)))
    assert len(requests) == 1 and requests[0].detail == "不再使用，请注销"
    request = requests[0]
    case = db.session.scalar(select(Case).where(Case.description == "井盖松动"))
    assert request.area_path == case.area_path

    west = Console(app.test_client(), "west_admin")
    assert west.get(f"/console/privacy-requests/{request.id}").status_code == 404
    east = Console(app.test_client(), "east_admin")
    listing = east.get("/console/privacy-requests").get_data(as_text=True)
    assert "注销账号、删除个人信息" in listing
    revealed = east.post(f"/console/privacy-requests/{request.id}/phone").get_data(as_text=True)
    assert "13700006666" in revealed
    assert db.session.scalar(select(AuditLog.action).order_by(AuditLog.id.desc())) == "personal.read_phone"
    east.post(f"/console/privacy-requests/{request.id}/handle", data={"outcome": "done", "answer": "已致电核实本人"})
    db.session.refresh(request)
    assert request.status == "done" and request.handled_by is not None
    reporter = db.session.get(User, case.reporter_id)
    db.session.refresh(reporter)
    assert reporter.cancelled_at is not None and reporter.phone_encrypted is None
    assert db.session.scalar(select(AuditLog.action).order_by(AuditLog.id.desc())) == "privacy.cancel_account"


# -- minimal access -----------------------------------------------------------------------------------

def test_the_claimer_loses_the_contact_once_the_wish_is_done(login, areas):
    requester = login.resident()
    member, _ = new_member(login, areas)
    wish = post_wish(requester, areas, contact_phone=PHONE, address=ADDRESS)
    act(login("east_admin"), wish["id"], "approve")
    act(member, wish["id"], "claim")
    assert member.get(f"/wishes/{wish['id']}").get_json()["contact"]["phone"] == PHONE
    act(member, wish["id"], "fulfil", note="已修好", photo_ids=[photo(member)], hours=1.5)
    after = member.get(f"/wishes/{wish['id']}").get_json()
    assert after["status"] == "fulfilled" and after["contact"] is None
    assert requester.get(f"/wishes/{wish['id']}").get_json()["contact"]["phone"] == PHONE  # their own, still


# -- no plain text anywhere ---------------------------------------------------------------------------

def test_no_phone_or_address_in_plain_text_anywhere_in_the_database(login, fake_wechat, areas, app):
    resident, _, _ = _resident_with_records(login, fake_wechat, areas)
    soon = (to_local(utcnow()).date() + timedelta(days=3)).isoformat()
    keyed = resident.post("/wishes", headers={"Idempotency-Key": "pd-wish-1"}, json={
        "title": "想请人修门锁", "category": "repair", "community_id": areas["东城社区"].id,
        "desired_date": soon, "address": ADDRESS, "contact_phone": PHONE})
    assert keyed.status_code == 201, keyed.get_json()
    replay = resident.post("/wishes", headers={"Idempotency-Key": "pd-wish-1"}, json={
        "title": "想请人修门锁", "category": "repair", "community_id": areas["东城社区"].id,
        "desired_date": soon, "address": ADDRESS, "contact_phone": PHONE})
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.get_json()["contact"]["phone"] == PHONE
    _, scene, category = _place()
    visitor = Console(app.test_client())
    visitor.token_from(f"/s/{scene}/report")
    visitor.post(f"/s/{scene}/report", data={"phone": "13700007777", "category_id": category.id,
                                             "description": "路面塌陷", "privacy_version": VERSION})
    found = []
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
        if not columns:
            continue
        for row in db.session.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
                if text and any(secret in text for secret in (PHONE, "13700007777", ADDRESS)):
                    found.append(f"{table.name}.{column.name}")
    assert found == []
