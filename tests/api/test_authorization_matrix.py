"""The authorization matrix: every operation of the OpenAPI document × every role, in and out of scope.

Objects are made in 东城社区 by a resident (the owner). The roles then call every operation on
them. A role the table denies must get 401, 403 or 404 — never a 2xx, and never a 409/422 that
would reveal the object's state. A role the table allows must get past authorization (anything
but 401/403/404). The table must list every operation, so a new endpoint cannot skip it.
"""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from app.core.time import to_local, utcnow
from app.extensions import db

ROLES = ("anonymous", "stranger", "owner", "east_admin", "west_admin", "grid_west1", "dept_wy")
DENIED = {401, 403, 404}

ALL = set(ROLES)
USERS = ALL - {"anonymous"}
OWNER = {"owner"}
EAST = {"east_admin"}
OWNER_OR_EAST = {"owner", "east_admin"}
STAFF = {"east_admin", "west_admin", "grid_west1", "dept_wy"}
ADMINS = {"east_admin", "west_admin"}

# (method, path) → roles allowed past authorization on 东城 objects.
MATRIX: dict[tuple[str, str], set[str]] = {
    # auth and self
    ("POST", "/auth/login"): ALL, ("POST", "/auth/password"): ALL, ("POST", "/auth/phone"): USERS,
    ("POST", "/auth/logout"): USERS, ("GET", "/me"): USERS, ("PATCH", "/me"): USERS,
    ("POST", "/me/certificate-requests"): USERS, ("GET", "/me/certificate-requests"): USERS,
    ("GET", "/me/certificates"): USERS,
    # the privacy notice is public; consents, export and cancellation are the caller's own (staff cannot cancel)
    ("GET", "/privacy"): ALL, ("GET", "/me/consents"): USERS, ("POST", "/me/consents"): USERS,
    ("GET", "/me/export"): USERS, ("POST", "/me/cancellation"): USERS - STAFF,
    ("GET", "/inbox"): USERS, ("POST", "/inbox/read-all"): USERS,
    ("POST", "/inbox/{notification_id}/read"): OWNER,
    ("GET", "/subscriptions"): USERS, ("POST", "/subscriptions"): USERS, ("POST", "/uploads"): USERS,
    # public pages of the product
    ("GET", "/scan/{scene}"): ALL, ("GET", "/representatives"): ALL, ("GET", "/representatives/{rep_id}"): ALL,
    ("GET", "/representatives/scan/{scene}"): ALL, ("GET", "/representatives/{rep_id}/code"): ALL, ("GET", "/certificates/{code}"): ALL,
    ("GET", "/suggestions/board"): ALL, ("GET", "/praises"): ALL, ("GET", "/praises/ranking"): ALL,
    ("GET", "/categories"): ALL, ("GET", "/activities"): USERS, ("GET", "/activities/{activity_id}"): USERS,
    # cases
    ("GET", "/cases"): USERS, ("POST", "/cases"): USERS, ("GET", "/cases/similar"): USERS,
    ("GET", "/cases/export.{fmt}"): USERS,  # each caller exports only what their own list shows
    ("GET", "/cases/{case_id}"): OWNER_OR_EAST,
    # following needs the follow_token of a `similar` lookup at the place (tests/api/test_case_privacy.py),
    # never a bare case id; out-of-scope staff never
    ("POST", "/cases/{case_id}/follow"): {"owner", "east_admin"},
    ("DELETE", "/cases/{case_id}/follow"): {"owner", "stranger", "east_admin"},
    ("POST", "/cases/{case_id}/rating"): OWNER, ("POST", "/cases/{case_id}/transitions"): OWNER_OR_EAST,
    # hand-over to the 12345 hotline: admins over the case
    ("POST", "/cases/{case_id}/hotline"): EAST,
    # categories: county-wide settings; reading is public, changing is for admins
    ("POST", "/categories"): set(), ("PATCH", "/categories/{category_id}"): set(),  # street admins and above
    # canned replies belong to an area: each admin adds for their own; a 东城 reply is 东城's to delete
    ("POST", "/categories/{category_id}/replies"): ADMINS, ("DELETE", "/categories/replies/{reply_id}"): EAST,
    # contact
    ("GET", "/messages"): USERS, ("POST", "/messages"): USERS,
    ("GET", "/messages/{thread_id}"): OWNER_OR_EAST, ("POST", "/messages/{thread_id}/replies"): OWNER_OR_EAST,
    ("POST", "/messages/{thread_id}/callback-phone"): OWNER_OR_EAST,
    # praise
    ("POST", "/praises"): USERS,
    # wishes
    ("GET", "/wishes"): USERS, ("POST", "/wishes"): USERS, ("GET", "/wishes/export.{fmt}"): USERS,
    ("GET", "/wishes/{wish_id}"): OWNER_OR_EAST, ("PATCH", "/wishes/{wish_id}"): EAST,
    ("POST", "/wishes/{wish_id}/transitions"): OWNER_OR_EAST, ("POST", "/wishes/{wish_id}/rating"): OWNER,
    ("GET", "/wishes/{wish_id}/candidates"): EAST,
    # on the world's goods wish (approved, one pledge by member_east): anyone signed in may donate but its requester
    ("POST", "/wishes/{wish_id}/pledges"): USERS - OWNER,
    ("POST", "/wishes/{wish_id}/pledges/{pledge_id}/handover"): EAST,
    # the new groups: a rider's pending registration with 东城; 东城's post, claimed (pending) by the owner
    ("POST", "/new-groups/workers"): USERS, ("GET", "/new-groups/workers"): USERS,
    ("POST", "/new-groups/workers/{worker_id}/transitions"): EAST,
    ("POST", "/new-groups/posts"): USERS, ("GET", "/new-groups/posts"): USERS,  # each lists only what they may see
    ("POST", "/new-groups/posts/{post_id}/close"): EAST,
    ("POST", "/new-groups/posts/{post_id}/claims"): OWNER,  # the owner is a registered worker of 东城
    ("GET", "/new-groups/claims"): USERS, ("POST", "/new-groups/claims/{claim_id}/transitions"): OWNER_OR_EAST,
    ("GET", "/new-groups/places"): USERS, ("POST", "/new-groups/reports"): USERS,
    # party members
    ("GET", "/party-members"): USERS, ("POST", "/party-members"): USERS,
    ("GET", "/party-members/ranking"): EAST,
    ("GET", "/party-members/{member_id}/record"): EAST | {"member"},
    ("GET", "/party-members/{member_id}/report.csv"): EAST | {"member"},
    ("GET", "/party-members/{member_id}/report.pdf"): EAST | {"member"},
    ("POST", "/party-members/{member_id}/transitions"): EAST,
    # volunteering
    ("POST", "/activities"): EAST | {"west_admin"},
    ("GET", "/activities/{activity_id}/code.png"): EAST,
    ("GET", "/activities/{activity_id}/check-in-code"): EAST,
    ("PUT", "/activities/{activity_id}/check-in-rules"): EAST,
    ("POST", "/activities/{activity_id}/attendance"): EAST,
    ("POST", "/activities/{activity_id}/transitions"): EAST,
    ("GET", "/activities/{activity_id}/enrollments"): EAST,
    ("POST", "/activities/{activity_id}/enrollments"): USERS - STAFF | {"east_admin", "west_admin", "grid_west1",
                                                                        "dept_wy"},
    ("DELETE", "/activities/{activity_id}/enrollments"): USERS,
    ("POST", "/activities/{activity_id}/enrollments/cancel"): USERS,
    ("POST", "/activities/{activity_id}/check-in"): USERS, ("POST", "/activities/{activity_id}/check-out"): USERS,
    ("GET", "/service-hours"): USERS, ("GET", "/service-hours/export.csv"): STAFF - {"grid_west1", "dept_wy"},
    ("GET", "/service-hours/export.xlsx"): STAFF - {"grid_west1", "dept_wy"},
    ("GET", "/service-hours/{entry_id}"): EAST | {"member"},
    ("POST", "/service-hours/{entry_id}/transitions"): EAST,
    # corrections: the volunteer asks (here member_east, not one of the roles), the recording community answers
    ("POST", "/service-hours/{entry_id}/correction-requests"): {"member"},
    ("POST", "/service-hours/{entry_id}/corrections"): EAST,
    ("GET", "/service-hours/correction-requests"): ADMINS,
    # proofs: asked by the volunteer, issued by the recording community (谁记录谁证明), downloaded by either
    ("GET", "/certificate-requests"): ADMINS,
    ("POST", "/certificate-requests/{proof_request_id}/issue"): EAST,
    ("GET", "/certificates/{code}/file"): EAST | {"member"},
    ("POST", "/service-hours/correction-requests/{request_id}/decline"): EAST,
    # suggestions (sent by the owner to 张代表, who covers 沁河镇)
    ("GET", "/suggestions"): USERS, ("POST", "/suggestions"): USERS, ("GET", "/suggestions/export.{fmt}"): USERS,
    ("GET", "/suggestions/{suggestion_id}"): OWNER,  # and the addressed representative, not a community admin
    ("POST", "/suggestions/{suggestion_id}/transitions"): set(), ("POST", "/suggestions/{suggestion_id}/rating"): OWNER,
    # admin
    # departments work across their street (沁河镇), so 东城's areas and places are in their scope
    ("GET", "/admin/areas"): STAFF, ("POST", "/admin/areas"): EAST,
    ("GET", "/admin/areas/{area_id}"): EAST | {"dept_wy"},
    ("GET", "/admin/places"): STAFF, ("POST", "/admin/places"): EAST, ("PATCH", "/admin/places/{place_id}"): EAST,
    # boundaries: staff over an area read it; a community's outline is drawn by the street's admins (none here)
    ("GET", "/admin/areas/{area_id}/boundary"): EAST | {"dept_wy"}, ("PUT", "/admin/areas/{area_id}/boundary"): set(),
    ("PUT", "/admin/places/{place_id}/point"): EAST,
    ("GET", "/admin/departments"): STAFF, ("POST", "/admin/departments"): EAST,
    ("GET", "/admin/codes"): STAFF, ("POST", "/admin/codes"): EAST, ("GET", "/admin/codes/sheet"): EAST,
    ("POST", "/admin/codes/{code_id}/disable"): EAST, ("POST", "/admin/codes/{code_id}/rotate"): EAST,
    ("GET", "/admin/codes/{code_id}/image"): EAST,
    ("GET", "/admin/stats"): EAST, ("GET", "/admin/stats/export.csv"): EAST, ("GET", "/admin/stats/export.xlsx"): EAST,
    ("GET", "/admin/stats/monthly.xlsx"): EAST, ("GET", "/admin/stats/monthly-reports"): STAFF - {"dept_wy"},
    ("GET", "/admin/stats/monthly-reports/{report_id}/file"): EAST,
    # moderation: the reviewers of 东城 (its admin, and the street's) decide on its held content; anyone signed in
    # may report public content (the owner's own report is refused with a 422, past authorization)
    ("GET", "/moderation/holds"): ADMINS, ("GET", "/moderation/holds/{hold_id}"): EAST,
    ("POST", "/moderation/holds/{hold_id}/decision"): EAST, ("POST", "/moderation/reports"): USERS,
    # points (积分制): schemes, boards and the supermarket are public; the ledger and decisions are 东城's
    ("GET", "/points/schemes"): ALL, ("GET", "/points/schemes/current"): ALL, ("POST", "/points/schemes"): EAST,
    ("GET", "/points/schemes/{scheme_id}"): ALL, ("POST", "/points/schemes/{scheme_id}/publish"): EAST,
    ("GET", "/points/me"): USERS, ("GET", "/points/me/entries"): USERS, ("GET", "/points/household"): USERS,
    ("POST", "/points/households"): USERS, ("POST", "/points/households/join"): USERS,
    ("POST", "/points/household/leave"): USERS, ("POST", "/points/household/head"): USERS,
    ("GET", "/points/entries"): EAST, ("GET", "/points/entries/export.xlsx"): EAST, ("POST", "/points/entries/{point_entry_id}/reverse"): EAST,
    ("GET", "/points/applications"): USERS, ("POST", "/points/applications"): USERS,
    # the owner applied; an applicant never decides their own application
    ("POST", "/points/applications/{application_id}/decision"): EAST,
    ("GET", "/points/rankings"): ALL,
    ("GET", "/points/shop/items"): ALL, ("POST", "/points/shop/items"): EAST,
    ("POST", "/points/shop/items/{shop_item_id}/restock"): EAST,
    ("POST", "/points/shop/items/{shop_item_id}/redemptions"): USERS,  # anyone signed in may redeem (or lack points)
    ("GET", "/points/redemptions"): USERS, ("POST", "/points/redemptions/pickup"): EAST,
    # monthly evaluation: the demo's is scored by grid_east1 and published by east_admin; only members of a
    # scored household object (none of the roles here is one: member_east objected in the fixture)
    ("GET", "/points/evaluations"): ALL, ("POST", "/points/evaluations"): EAST,
    ("GET", "/points/evaluations/{evaluation_id}"): ALL,
    ("POST", "/points/evaluations/{evaluation_id}/publish"): EAST,
    ("POST", "/points/evaluations/{evaluation_id}/objections"): set(),
    ("POST", "/points/objections/{objection_id}/answer"): EAST,
    ("POST", "/points/evaluations/{evaluation_id}/finalise"): EAST,
    ("GET", "/points/cashouts"): ALL, ("POST", "/points/cashouts"): EAST,
    ("GET", "/points/cashouts/{cashout_id}"): ALL, ("GET", "/points/cashouts/{cashout_id}/export.xlsx"): EAST,
}


def _operations(app):
    spec = app.test_client().get("/mp/v1/openapi.json").get_json()
    ops = []
    for path, methods in spec["paths"].items():
        for method in methods:
            if method in ("get", "post", "patch", "delete", "put"):
                ops.append((method.upper(), path.removeprefix("/mp/v1")))
    return sorted(ops)


def test_the_matrix_lists_every_operation(app):
    ops = set(_operations(app))
    assert ops - set(MATRIX) == set(), "add the new operations to MATRIX"
    assert set(MATRIX) - ops == set(), "MATRIX lists operations that no longer exist"


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 120, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def world(app, login, areas):
    """东城 objects owned by one resident, plus an api client for every role."""
    from app.areas.models import Place
    from app.cases.models import Category
    from app.codes.models import Code
    from app.members.models import PartyMember
    from app.stats.service import generate_monthly_reports
    from app.suggestions.models import Representative
    from app.volunteering.models import Activity, ServiceHours

    east = areas["东城社区"]
    place = db.session.scalar(select(Place).where(Place.name == "东城小区1号楼"))
    code = db.session.scalar(select(Code).where(Code.place_id == place.id, Code.active.is_(True)))
    category = db.session.scalar(select(Category).order_by(Category.id))
    rep = db.session.scalar(select(Representative).where(Representative.user_id.is_not(None)))
    activity = db.session.scalar(select(Activity).where(Activity.area_path.startswith(east.path)))
    hours = db.session.scalar(select(ServiceHours).where(ServiceHours.area_path.startswith(east.path),
                                                         ServiceHours.status == "approved"))
    member = db.session.scalar(select(PartyMember).where(PartyMember.area_path.startswith(east.path)))
    report_id = generate_monthly_reports("2026-10")[0]
    from app.points.models import Evaluation, PointEntry, PointScheme, ShopItem

    scheme = db.session.scalar(select(PointScheme).where(PointScheme.community_id == east.id,
                                                         PointScheme.status == "published"))
    point_entry = db.session.scalar(select(PointEntry).where(PointEntry.community_id == east.id,
                                                             PointEntry.kind == "earn"))
    shop_item = db.session.scalar(select(ShopItem).where(ShopItem.community_id == east.id))
    evaluation = db.session.scalar(select(Evaluation).where(Evaluation.community_id == east.id))

    owner = login.resident(openid="o_matrix_owner")
    case = owner.post("/cases", json={"place_id": place.id, "category_id": category.id,
                                      "description": "楼道灯坏了，晚上看不见路。"}).get_json()
    wish = owner.post("/wishes", json={
        "title": "想请人帮忙修水龙头", "detail": "厨房水龙头漏水", "category": "repair",
        "desired_date": (to_local(utcnow()).date() + timedelta(days=7)).isoformat(),
        "community_id": east.id, "address": "东城小区1号楼2单元301", "contact_phone": "13700001111"}).get_json()
    suggestion = owner.post("/suggestions", json={"representative_id": rep.id, "title": "建议增设停车位",
                                                  "body": "小区停车难，建议规划新的车位。"}).get_json()
    thread = owner.post("/messages", json={"scene": code.scene, "to_role": "grid_worker",
                                           "body": "网格员您好，楼下有积水。"}).get_json()
    # WeChat asks for a human review of this praise (tests/fake_wechat.py): it waits in 东城's moderation queue.
    held_praise = owner.post("/praises", json={"scene": code.scene, "target_type": "place",
                                               "message": "保洁阿姨很负责，待核实的表扬"}).get_json()
    hold = owner.get("/praises?mine=true").get_json()["items"][0]
    assert hold["id"] == held_praise["id"] and hold["review_notice"] == "审核中"
    from app.moderation.models import Hold

    hold_id = db.session.scalar(select(Hold.id).where(Hold.kind == "praise", Hold.subject_id == held_praise["id"]))
    from app.notifications.service import notify

    notify([owner.get("/me").get_json()["id"]], "case_accepted", title="您的事件已受理")
    inbox = owner.get("/inbox").get_json()["items"]
    application = owner.post("/points/applications", json={
        "item_id": next(i.id for i in scheme.items if i.kind == "applied"), "note": "帮邻居老人买菜"}).get_json()
    for created in (case, wish, suggestion, thread, application):
        assert "id" in created, created
    assert inbox, "the owner should have been notified of something"

    member_api = login("member_east")
    proof_requests = member_api.post("/me/certificate-requests", json={"id_number": "11010519491231002X"})
    assert proof_requests.status_code == 201, proof_requests.get_json()
    proof_request_id = proof_requests.get_json()[0]["id"]
    issued = login("east_admin").post(f"/certificate-requests/{proof_request_id}/issue")
    assert issued.status_code == 200, issued.get_json()
    cert_code = issued.get_json()["code"]
    asked = member_api.post(f"/service-hours/{hours.id}/correction-requests", json={"reason": "服务日期记错了"})
    assert asked.status_code == 201, asked.get_json()
    cashout = login("east_admin").post("/points/cashouts", json={
        "community_id": east.id, "year": to_local(utcnow()).year, "income": "50000"})
    assert cashout.status_code == 201, cashout.get_json()
    objection = member_api.post(f"/points/evaluations/{evaluation.id}/objections",
                                json={"reason": "我家环保卫生一项分数偏低"})
    assert objection.status_code == 201, objection.get_json()
    goods = owner.post("/wishes", json={
        "title": "孩子需要两个新书包", "category": "goods", "quantity": 9,
        "desired_date": (to_local(utcnow()).date() + timedelta(days=7)).isoformat(),
        "community_id": east.id, "address": "东城小区1号楼2单元301", "contact_phone": "13700001111"}).get_json()
    login("east_admin").post(f"/wishes/{goods['id']}/transitions", json={"action": "approve"})
    pledged = member_api.post(f"/wishes/{goods['id']}/pledges", json={"quantity": 1})
    assert pledged.status_code == 201, pledged.get_json()
    worker = owner.post("/new-groups/workers", json={"name": "马骁", "kind": "rider", "platform": "美团外卖",
                                                     "work_area": "东城片区", "community_id": east.id}).get_json()
    login("east_admin").post(f"/new-groups/workers/{worker['id']}/transitions", json={"action": "approve"})
    post = login("east_admin").post("/new-groups/posts", json={"community_id": east.id, "kind": "roving",
                                                               "duties": "随手上报隐患", "places": 3}).get_json()
    claim = owner.post(f"/new-groups/posts/{post['id']}/claims", json={}).get_json()
    pending_worker = login.resident(openid="o_matrix_rider").post("/new-groups/workers", json={
        "name": "牛师傅", "kind": "courier", "platform": "顺丰速运", "work_area": "东城", "community_id": east.id}).get_json()
    clients = {name: login(name) for name in ("east_admin", "west_admin", "grid_west1", "dept_wy")}
    clients["owner"] = owner
    clients["stranger"] = login.resident(openid="o_matrix_stranger")
    clients["anonymous"] = login.anonymous()
    reply = clients["east_admin"].post(f"/categories/{category.id}/replies",
                                       json={"title": "东城模板", "body": "您好，东城社区已收到。"}).get_json()
    params = {
        "case_id": case["id"], "wish_id": wish["id"], "suggestion_id": suggestion["id"],
        "thread_id": thread["id"], "notification_id": inbox[0]["id"], "scene": code.scene,
        "rep_id": rep.id, "code_id": code.id, "place_id": place.id, "area_id": east.id,
        "activity_id": activity.id, "entry_id": hours.id, "member_id": member.id, "report_id": report_id,
        "category_id": category.id, "reply_id": reply["id"], "code": cert_code, "fmt": "csv",
        "request_id": asked.get_json()["id"], "proof_request_id": proof_request_id,
        "hold_id": hold_id, "praise_id": held_praise["id"],
        "scheme_id": scheme.id, "point_entry_id": point_entry.id, "application_id": application["id"],
        "shop_item_id": shop_item.id, "evaluation_id": evaluation.id, "objection_id": objection.get_json()["id"],
        "cashout_id": cashout.get_json()["id"],
        "goods_wish_id": goods["id"], "pledge_id": pledged.get_json()["pledges"][0]["id"],
        "worker_id": pending_worker["id"], "post_id": post["id"], "claim_id": claim["id"],
    }
    return {"clients": clients, "params": params, "rep_scene": rep.scene, "place": place, "category": category, "east": east,
            "activity": activity, "code": code, "member": member}


def _body(method, path, world):
    p, east = world["params"], world["east"]
    bodies = {
        "/auth/login": {"code": "not-a-real-code"},
        "/auth/password": {"username": "nobody", "password": "wrong-password"},
        "/auth/phone": {"code": "not-a-real-code"},
        "/subscriptions": {"accepted": ["case_progress"]},
        "/me": {"display_name": "矩阵"},
        "/me/consents": {"version": "2026-12-02"}, "/me/cancellation": {"confirm": True},
        "/cases": {"place_id": p["place_id"], "category_id": p["category_id"], "description": "矩阵测试"},
        "/cases/{case_id}/rating": {"score": 5},
        "/cases/{case_id}/transitions": {"action": "accept"},
        "/categories": {"name": "矩阵测试类别", "accept_hours": 24, "handle_hours": 72},
        "/categories/{category_id}": {"accept_hours": 24},
        "/categories/{category_id}/replies": {"title": "模板", "body": "您好，已收到。"},
        "/messages": {"scene": p["scene"], "to_role": "grid_worker", "body": "您好"},
        "/messages/{thread_id}/replies": {"body": "收到"},
        "/praises": {"scene": p["scene"], "target_type": "place", "target_id": p["place_id"], "message": "干净"},
        "/wishes": {"title": "矩阵心愿", "category": "daily", "community_id": east.id, "address": "某处", "contact_phone": "13700001111",
                    "desired_date": (to_local(utcnow()).date() + timedelta(days=3)).isoformat()},
        "/wishes/{wish_id}": {"public_title": "帮忙修水龙头"},
        "/wishes/{wish_id}/transitions": {"action": "approve"},
        "/wishes/{wish_id}/rating": {"score": 5},
        "/wishes/{wish_id}/pledges": {"quantity": 1},
        "/new-groups/workers": {"name": "矩阵", "kind": "courier", "platform": "京东", "work_area": "东城",
                                "community_id": east.id},
        "/new-groups/workers/{worker_id}/transitions": {"action": "approve"},
        "/new-groups/posts": {"community_id": east.id, "kind": "policy", "duties": "宣传", "places": 1},
        "/new-groups/claims/{claim_id}/transitions": {"action": "approve"},
        "/new-groups/reports": {"place_id": p["place_id"], "category_id": p["category_id"], "description": "矩阵"},
        "/party-members": {"name": "测试", "org_name": "某单位党支部", "community_id": east.id},
        "/party-members/{member_id}/transitions": {"action": "approve"},
        "/activities": {"title": "矩阵活动", "community_id": east.id, "capacity": 5,
                        "starts_at": (utcnow() + timedelta(days=2)).isoformat(),
                        "ends_at": (utcnow() + timedelta(days=2, hours=2)).isoformat()},
        "/activities/{activity_id}/attendance": {"user_id": 1, "action": "absent", "reason": "未到"},
        "/activities/{activity_id}/transitions": {"action": "cancel", "reason": "天气"},
        "/activities/{activity_id}/check-in": {"scene": world["activity"].scene},
        "/activities/{activity_id}/check-out": {"scene": world["activity"].scene},
        "/activities/{activity_id}/check-in-rules": {"fallback_code_enabled": True},
        "/service-hours/{entry_id}/transitions": {"action": "approve"},
        "/service-hours/{entry_id}/correction-requests": {"reason": "时长记少了"},
        "/service-hours/{entry_id}/corrections": {"reason": "核对签到记录", "hours": "1.25"},
        "/service-hours/correction-requests/{request_id}/decline": {"answer": "经核对无误"},
        "/suggestions": {"area_id": east.id, "title": "矩阵建议", "body": "内容"},
        "/suggestions/{suggestion_id}/transitions": {"action": "accept"},
        "/suggestions/{suggestion_id}/rating": {"score": 5},
        "/admin/areas": {"name": "矩阵网格", "level": "grid", "parent_id": east.id},
        "/admin/places": {"grid_id": world["place"].grid_id, "name": "矩阵楼", "kind": "building"},
        "/admin/places/{place_id}": {"address": "新地址"},
        "/cases/{case_id}/hotline": {"platform_id": 1, "note": "矩阵"},
        "/admin/places/{place_id}/point": {"latitude": 36.5, "longitude": 112.34},
        "/admin/areas/{area_id}/boundary": {"geojson": {"type": "Polygon", "coordinates": [
            [[112.33, 36.49], [112.35, 36.49], [112.35, 36.51], [112.33, 36.49]]]}},
        "/admin/departments": {"name": "矩阵部门", "area_id": east.id},
        "/admin/codes": {"place_ids": [p["place_id"]]},
        "/moderation/holds/{hold_id}/decision": {"action": "release", "reason": "内容无不妥"},
        "/moderation/reports": {"kind": "praise", "subject_id": p["praise_id"], "reason": "矩阵"},
        "/points/schemes": {"community_id": east.id, "items": [
            {"code": "B01", "name": "矩阵项目", "points": 1, "kind": "applied"}]},
        "/points/households": {"place_id": p["place_id"], "room": "矩阵101"},
        "/points/households/join": {"join_code": "ZZZZZZ"},
        "/points/household/head": {"user_id": 1},
        "/points/entries/{point_entry_id}/reverse": {"reason": "矩阵冲正"},
        "/points/applications": {"item_id": 1, "note": "矩阵申请"},
        "/points/applications/{application_id}/decision": {"approve": True},
        "/points/shop/items": {"community_id": east.id, "name": "矩阵商品", "price": 1, "stock": 1},
        "/points/shop/items/{shop_item_id}/restock": {"add": 1},
        "/points/redemptions/pickup": {"code": "00000000"},
        "/points/evaluations": {"community_id": east.id, "period": "2026-01", "scores": [{"household_id": 1,
                                                                                           "scores": {}}]},
        "/points/evaluations/{evaluation_id}/objections": {"reason": "矩阵异议"},
        "/points/objections/{objection_id}/answer": {"uphold": False, "answer": "矩阵答复"},
        "/points/cashouts": {"community_id": east.id, "year": 2026, "income": "1000"},
    }
    return bodies.get(path, {}) if method in ("POST", "PATCH", "PUT") else None


QUERIES = {
    "/cases/similar": "category_id={category_id}&scene={scene}",
    "/admin/codes/sheet": "ids={code_id}",
    "/admin/stats": "area_id={area_id}", "/admin/stats/export.csv": "area_id={area_id}",
    "/admin/stats/export.xlsx": "area_id={area_id}", "/admin/stats/monthly.xlsx": "area_id={area_id}&month=2026-10",
    "/party-members/ranking": "community_id={area_id}",
    "/points/schemes": "community_id={area_id}", "/points/schemes/current": "community_id={area_id}",
    "/points/entries": "community_id={area_id}", "/points/entries/export.xlsx": "community_id={area_id}&year=2026",
    "/points/rankings": "community_id={area_id}",
    "/points/shop/items": "community_id={area_id}", "/points/evaluations": "community_id={area_id}",
    "/points/cashouts": "community_id={area_id}",
}


OWNER_BODIES = {"/cases/{case_id}/transitions": {"action": "withdraw"},
                "/new-groups/claims/{claim_id}/transitions": {"action": "withdraw"},
                "/wishes/{wish_id}/transitions": {"action": "cancel"}}
# Operations on the caller's own enrollment or following: a 404 there means "you have none".
SELF_RELATIVE = {("DELETE", "/activities/{activity_id}/enrollments"),
                 ("POST", "/activities/{activity_id}/enrollments/cancel"),
                 ("DELETE", "/cases/{case_id}/follow"), ("POST", "/activities/{activity_id}/attendance"),
                 ("DELETE", "/categories/replies/{reply_id}")}


def _call(api, method, path, world, role=None):
    params = dict(world["params"])
    if path.startswith("/representatives/scan/"):
        params["scene"] = world["rep_scene"]
    if "/pledges" in path:  # pledges belong to the world's goods wish
        params["wish_id"] = params["goods_wish_id"]
    url = re.sub(r"\{(\w+)\}", lambda m: str(params[m.group(1)]), path)
    if path in QUERIES:
        url += "?" + QUERIES[path].format(**params)
    if path == "/uploads":
        return api.client.post("/mp/v1/uploads", data={"file": (io.BytesIO(_jpeg()), "a.jpg")},
                               headers=api.headers(), content_type="multipart/form-data")
    body = OWNER_BODIES.get(path) if role == "owner" and path in OWNER_BODIES else _body(method, path, world)
    res = api.client.open("/mp/v1" + url, method=method, json=body, headers=api.headers())
    res.close()
    return res


OBJECT_OPS = sorted(k for k in MATRIX if "{" in k[1])


@pytest.mark.parametrize("op", OBJECT_OPS, ids=[f"{m} {p}" for m, p in OBJECT_OPS])
def test_object_operations_allow_exactly_the_table(world, op):
    method, path = op
    allowed = MATRIX[op]
    leaks, refusals = [], []
    # Denied roles first, so a destructive call by an allowed role cannot hide a leak.
    for role in sorted(ROLES, key=lambda r: r in allowed):
        res = _call(world["clients"][role], method, path, world, role)
        assert res.status_code < 500, (role, op, res.get_data(as_text=True)[:300])
        refused = res.status_code in ({401, 403} if op in SELF_RELATIVE else DENIED)
        if role in allowed and refused:
            refusals.append((role, res.status_code))
        if role not in allowed and res.status_code not in DENIED:
            leaks.append((role, res.status_code))
    assert leaks == [], f"{method} {path} let through roles the table denies: {leaks}"
    assert refusals == [], f"{method} {path} refused roles the table allows: {refusals}"


LIST_OPS = {"/cases": "case_id", "/wishes": "wish_id", "/suggestions": "suggestion_id",
            "/messages": "thread_id", "/admin/places": "place_id", "/admin/codes": "code_id",
            "/admin/areas": "area_id", "/service-hours?mine=false&status=approved": "entry_id",
            "/party-members?status=approved": "member_id", "/moderation/holds": "hold_id",
            "/points/applications?mine=false": "application_id",
            "/new-groups/workers": "worker_id",
            "/new-groups/posts": "post_id", "/new-groups/claims": "claim_id"}
STREET_WIDE = ("/admin/places", "/admin/areas", "/admin/codes")  # departments cover the whole street


@pytest.mark.parametrize("path", sorted(LIST_OPS))
def test_lists_show_nothing_of_another_community(world, path):
    params = world["params"]
    target = params[LIST_OPS[path]]
    joiner = "&" if "?" in path else "?"
    outsiders = ("stranger", "west_admin", "grid_west1") + (() if path in STREET_WIDE else ("dept_wy",))
    for role in outsiders:
        res = world["clients"][role].get(path + joiner + "limit=100")
        assert res.status_code in (200, 403), (role, path, res.status_code)
        if res.status_code == 200:
            ids = [item.get("id") for item in res.get_json()["items"]]
            assert target not in ids, f"{role} sees 东城 object {target} in {path}"
    east = world["clients"]["east_admin"].get(path + joiner + "limit=100")
    if path not in ("/messages", "/suggestions"):
        assert target in [item.get("id") for item in east.get_json()["items"]], f"east_admin misses it in {path}"


@pytest.mark.parametrize("op", sorted(k for k in MATRIX if "{" not in k[1]),
                         ids=[f"{m} {p}" for m, p in sorted(k for k in MATRIX if "{" not in k[1])])
def test_anonymous_callers_are_refused_everywhere_but_public_operations(world, op):
    method, path = op
    res = _call(world["clients"]["anonymous"], method, path, world)
    assert res.status_code < 500
    if path.startswith("/auth/"):
        assert res.status_code in (401, 422), (op, res.status_code)  # credentials are checked, not a session
    elif "anonymous" in MATRIX[op]:
        assert res.status_code != 401, op
    else:
        assert res.status_code == 401, (op, res.status_code)
