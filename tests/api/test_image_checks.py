"""Images: every upload goes to mediaCheckAsync v2; the result comes back as a signed message push (plain or
safe mode), applied once per trace_id; a risky image disappears from its public address at once; without
WeChat an image waits for the reviewers of the record that uses it."""
from __future__ import annotations

import base64
import io
import os

import pytest
from PIL import Image
from sqlalchemy import select

from app.areas.models import Place
from app.cases.models import Category
from app.codes.models import Code
from app.extensions import db
from app.media.models import Upload
from app.moderation.models import Hold
from app.privacy.notice import VERSION as PRIVACY_VERSION
from tests.console_client import Console

TOKEN = "push-token-for-tests"
AES_KEY = base64.b64encode(os.urandom(32)).decode().rstrip("=")


@pytest.fixture
def push_configured(app, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_PUSH_TOKEN", TOKEN)
    monkeypatch.setitem(app.config, "WECHAT_PUSH_AES_KEY", AES_KEY)


def _jpeg(color=(30, 120, 60)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, "JPEG")
    return buffer.getvalue()


def _upload(api) -> dict:
    res = api.client.post("/mp/v1/uploads", data={"file": (io.BytesIO(_jpeg()), "a.jpg")},
                          headers=api.headers(), content_type="multipart/form-data")
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def _report_with(api, photo_id: int) -> dict:
    place = db.session.scalar(select(Place.id).where(Place.name == "东城小区1号楼"))
    category = db.session.scalar(select(Category.id).where(Category.name == "环境卫生"))
    res = api.post("/cases", json={"place_id": place, "category_id": category, "description": "垃圾堆在楼道里",
                                   "photo_ids": [photo_id]})
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def _status(client, url: str) -> int:
    """Whether an image answers at its public address (the file is closed after)."""
    res = client.get(url)
    res.close()
    return res.status_code


def _push(client, args: dict, body: bytes):
    return client.post("/wechat/push", query_string=args, data=body, content_type="application/json")


def test_a_risky_image_is_hidden_at_once_by_a_signed_push_and_a_replay_changes_nothing(
        app, client, login, fake_wechat, push_configured):
    resident = login.resident(openid="o_photo_risky")
    photo = _upload(resident)
    asked = fake_wechat.state.media_checks[-1]
    assert (asked["version"], asked["media_type"], asked["openid"]) == (2, 2, "o_photo_risky")
    assert asked["media_url"].endswith(photo["url"])
    upload = db.session.get(Upload, photo["id"])
    assert upload.check == "pending" and upload.trace_id == asked["trace_id"]
    case = _report_with(resident, photo["id"])
    assert _status(client, photo["url"]) == 200

    # A push with a wrong signature is refused and changes nothing.
    args, body = fake_wechat.media_check_push(asked["trace_id"], "risky", token="not-our-token")
    assert _push(client, args, body).status_code == 403
    assert db.session.get(Upload, photo["id"]).check == "pending"

    args, body = fake_wechat.media_check_push(asked["trace_id"], "risky", token=TOKEN)
    res = _push(client, args, body)
    assert res.status_code == 200 and res.get_data(as_text=True) == "success"
    assert _status(client, photo["url"]) == 404 and _status(client, photo["thumb_url"]) == 404
    upload = db.session.get(Upload, photo["id"])
    assert upload.check == "risky"
    hold = db.session.scalar(select(Hold).where(Hold.kind == "image", Hold.subject_id == photo["id"]))
    assert (hold.status, hold.suggest, hold.label, hold.area_path) == ("hidden", "risky", 20002, upload.area_path)

    # WeChat retries a push it believes failed: the same trace_id again changes nothing.
    args, body = fake_wechat.media_check_push(asked["trace_id"], "pass", token=TOKEN)
    assert _push(client, args, body).status_code == 200
    assert db.session.get(Upload, photo["id"]).check == "risky"

    # A false alarm: 东城's reviewer releases it, and the image is back at its address.
    east = login("east_admin")
    hidden = east.get("/moderation/holds?status=hidden&kind=image").get_json()["items"]
    assert [h["subject_id"] for h in hidden] == [photo["id"]]
    res = east.post(f"/moderation/holds/{hold.id}/decision", json={"action": "release", "reason": "误判，图片正常"})
    assert res.status_code == 200
    assert _status(client, photo["url"]) == 200
    assert case["id"]


def test_safe_mode_push_is_decrypted_with_wechatpy_and_a_passing_image_stays(
        app, client, login, fake_wechat, push_configured):
    resident = login.resident(openid="o_photo_safe")
    photo = _upload(resident)
    trace_id = fake_wechat.state.media_checks[-1]["trace_id"]
    args, body = fake_wechat.media_check_push(trace_id, "pass", token=TOKEN, aes_key=AES_KEY)
    assert "Encrypt" in body.decode() and "trace_id" not in body.decode()
    tampered = dict(args, msg_signature="0" * 40)
    assert _push(client, tampered, body).status_code == 403
    assert _push(client, args, body).status_code == 200
    assert db.session.get(Upload, photo["id"]).check == "pass"
    assert _status(client, photo["url"]) == 200


def test_the_push_url_answers_wechats_server_check(client, push_configured, fake_wechat):
    args, _ = fake_wechat.media_check_push("t", "pass", token=TOKEN)
    res = client.get("/wechat/push", query_string={**args, "echostr": "echo-123"})
    assert res.status_code == 200 and res.get_data(as_text=True) == "echo-123"
    assert client.get("/wechat/push", query_string={**args, "signature": "x", "echostr": "e"}).status_code == 403


def test_without_wechat_an_image_waits_for_the_reviewers(app, client, login, fake_wechat):
    # The portal has no openid: the photo of a report cannot be sent to WeChat.
    place = db.session.scalar(select(Place).where(Place.name == "东城小区1号楼"))
    scene = db.session.scalar(select(Code.scene).where(Code.place_id == place.id, Code.active.is_(True)))
    category = db.session.scalar(select(Category.id).where(Category.name == "环境卫生"))
    portal = Console(app.test_client())
    portal.token_from(f"/s/{scene}/report")
    res = portal.post(f"/s/{scene}/report", data={"privacy_version": PRIVACY_VERSION,
        "phone": "13912345673", "category_id": category, "description": "路面塌陷",
        "photos": (io.BytesIO(_jpeg((200, 40, 40))), "road.jpg")}, content_type="multipart/form-data")
    assert res.status_code == 302, res.get_data(as_text=True)[:300]
    assert fake_wechat.state.media_checks == []
    upload = db.session.scalar(select(Upload).order_by(Upload.id.desc()))
    assert upload.check == "unchecked" and upload.area_path == place.area_path
    hold = db.session.scalar(select(Hold).where(Hold.kind == "image", Hold.subject_id == upload.id))
    assert (hold.status, hold.source) == ("held", "unchecked")
    east = login("east_admin")
    items = east.get("/moderation/holds?kind=image").get_json()["items"]
    assert [(i["kind_label"], i["source_label"]) for i in items if i["subject_id"] == upload.id] == [
        ("图片", "未能检查（网页提交或微信暂不可用）")]
    west = login("west_admin").get("/moderation/holds?kind=image").get_json()["items"]
    assert upload.id not in [i["subject_id"] for i in west]
    res = east.post(f"/moderation/holds/{hold.id}/decision", json={"action": "hide", "reason": "含有他人面部"})
    assert res.status_code == 200
    assert _status(client, upload.url) == 404


def test_with_wechat_down_an_upload_still_succeeds_and_waits_for_review(login, fake_wechat):
    resident = login.resident(openid="o_photo_down")
    fake_wechat.fail_next("wxa/media_check_async", {"http": 502})
    photo = _upload(resident)
    assert db.session.get(Upload, photo["id"]).check == "unchecked"
    _report_with(resident, photo["id"])
    assert db.session.scalar(select(Hold.status).where(Hold.kind == "image", Hold.subject_id == photo["id"])) == "held"
