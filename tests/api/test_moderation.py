"""Content safety on every front door: each kind of user text through the API (with WeChat's msgSecCheck on
the fake server) and through the portal (no openid), held items in the reviewers' queue, decisions that tell
the author, abuse reports, and WeChat down during all of it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.areas.models import Place
from app.cases.models import Case, Category
from app.codes.models import Code
from app.content_safety.policy import RULES
from app.core.audit import AuditLog
from app.core.time import to_local, travel, utcnow
from app.extensions import db
from app.moderation.models import Hold
from app.notifications.models import Notification
from app.praise.models import Praise
from app.privacy.notice import VERSION as PRIVACY_VERSION
from app.suggestions.models import Representative, Suggestion
from tests.console_client import Console

FLAGGED = "楼下有人赌博，天天吵到半夜"       # WeChat (the fake) says risky: a real complaint with a flagged word
DOUBTFUL = "保洁很用心，待核实的一句表扬"    # WeChat says review


def scene_of(place_name: str) -> str:
    return db.session.scalar(select(Code.scene).join(Place, Place.id == Code.place_id)
                             .where(Place.name == place_name, Code.active.is_(True)))


def place_id(name: str) -> int:
    return db.session.scalar(select(Place.id).where(Place.name == name))


def category_id(name: str = "噪音扰民") -> int:
    return db.session.scalar(select(Category.id).where(Category.name == name))


def hold_of(kind: str, subject_id: int) -> Hold | None:
    return db.session.scalar(select(Hold).where(Hold.kind == kind, Hold.subject_id == subject_id))


def notes(user_id: int, kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user_id,
                                                              Notification.kind == kind)))


def praises_of(login, user_id: int) -> int:
    ranking = login.anonymous().get("/praises/ranking?target_type=grid_worker&limit=100").get_json()["items"]
    return next((r["count"] for r in ranking if r["target_id"] == user_id), 0)


def me(api) -> int:
    return api.get("/me").get_json()["id"]


def decide(api, hold_id: int, action: str, reason: str = "核实无误", status: int = 200):
    res = api.post(f"/moderation/holds/{hold_id}/decision", json={"action": action, "reason": reason})
    assert res.status_code == status, res.get_json()
    return res.get_json()


# -- the one table --------------------------------------------------------------------------------

def test_one_rule_for_every_kind_of_user_text():
    assert set(RULES) == {"case", "follow_up", "praise", "message", "wish", "suggestion", "enrollment",
                          "display_name", "real_name", "image", "point_application"}
    for kind, rule in RULES.items():
        assert rule.scene in (1, 2, 3, 4), kind
        if rule.public:  # risky text never reaches a public place
            assert rule.risky != "publish" and rule.review != "publish", kind
    assert RULES["case"].risky == "hold" and RULES["case"].unchecked == "hold"  # never refused, never lost
    assert RULES["praise"].unchecked == "hold"  # waits for review before the public wall


# -- reports (上报) ----------------------------------------------------------------------------------

def test_a_flagged_report_is_held_told_to_its_reporter_and_released_into_the_loop(login, fake_wechat):
    resident = login.resident()
    res = resident.post("/cases", json={"place_id": place_id("东城小区1号楼"), "category_id": category_id(),
                                        "description": FLAGGED})
    assert res.status_code == 201, res.get_json()
    case = res.get_json()
    check = fake_wechat.state.sec_checks[-1]
    assert (check["version"], check["scene"], check["content"]) == (2, 3, FLAGGED)
    assert case["review_notice"] == "审核中" and case["due_at"] is None  # no clock runs while it is held

    # Never public: a neighbour at the place finds nothing to follow.
    neighbour = login.resident()
    similar = neighbour.get(f"/cases/similar?scene={scene_of('东城小区1号楼')}&category_id={category_id()}")
    assert case["id"] not in [c["id"] for c in similar.get_json()]

    # The reviewers of 东城 see it with what WeChat said; 西园's do not.
    east, west = login("east_admin"), login("west_admin")
    held = east.get("/moderation/holds?kind=case").get_json()["items"]
    item = next(h for h in held if h["subject_id"] == case["id"])
    assert (item["suggest"], item["label"], item["source"], item["kind_label"]) == ("risky", 20001, "wechat", "上报")
    assert item["id"] not in [h["id"] for h in west.get("/moderation/holds").get_json()["items"]]
    assert west.get(f"/moderation/holds/{item['id']}").status_code == 403
    assert login("grid_east1").get("/moderation/holds").status_code == 403

    travel(timedelta(hours=30))
    released_at = utcnow()
    decided = decide(east, item["id"], "release", "居民反映的是真实的治安问题")
    assert decided["status"] == "released" and decided["status_label"] == "已放行"
    after = resident.get(f"/cases/{case['id']}").get_json()
    assert after["review_notice"] is None and after["due_at"] is not None
    row = db.session.get(Case, case["id"])
    assert row.moderation == "pass" and row.due_at > released_at  # the deadline counts from the release
    assert [n.title for n in notes(me(resident), "moderation_release")] == ["您的上报已通过审核"]
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "moderation.release"))
    assert audit is not None and audit.detail["acts"][0]["subject_id"] == case["id"]
    # Decided once: deciding again says so in Chinese.
    again = east.post(f"/moderation/holds/{item['id']}/decision", json={"action": "release", "reason": "再次"})
    assert again.status_code == 409 and again.get_json()["message"] == "该内容已放行，不能放行。"


def test_a_hidden_report_tells_its_reporter_why_and_is_still_handled(login):
    resident = login.resident()
    case = resident.post("/cases", json={"place_id": place_id("东城小区1号楼"), "category_id": category_id(),
                                         "description": "这里有违禁词"}).get_json()
    east = login("east_admin")
    hold = hold_of("case", case["id"])
    bad = east.post(f"/moderation/holds/{hold.id}/decision", json={"action": "hide", "reason": " "})
    assert bad.status_code == 422 and bad.get_json()["message"] == "请填写审核理由。"
    decide(east, hold.id, "hide", "含有不文明用语，不予公开")
    mine = resident.get(f"/cases/{case['id']}").get_json()
    assert mine["review_notice"] == "已隐藏：含有不文明用语，不予公开"
    assert mine["due_at"] is not None  # still a report the community must accept or reject
    told = notes(me(resident), "moderation_hide")
    assert [n.body for n in told] == ["您提交的上报未予公开。原因：含有不文明用语，不予公开"]


def test_a_report_from_the_portal_is_held_and_its_reporter_reads_审核中(app, fake_wechat):
    scene = scene_of("东城小区1号楼")
    resident = Console(app.test_client())
    resident.token_from(f"/s/{scene}/report")
    res = resident.post(f"/s/{scene}/report", data={"privacy_version": PRIVACY_VERSION, "phone": "13912345670", "name": "陈女士",
                                                    "category_id": category_id(), "description": FLAGGED})
    assert res.status_code == 302, res.get_data(as_text=True)[:300]
    assert fake_wechat.state.sec_checks == []  # no openid: WeChat cannot be asked
    case = db.session.scalar(select(Case).order_by(Case.id.desc()))
    assert case.moderation == "review" and hold_of("case", case.id).source == "unchecked"
    page = resident.get(res.headers["Location"]).get_data(as_text=True)
    assert "审核中" in page and "审核通过后开始计算受理期限" in page  # the clock that starts is acceptance's
    # The community sees it held, with the way to the queue.
    staff_page = Console(app.test_client(), "east_admin").get(f"/console/cases/{case.id}")
    assert staff_page.status_code == 200
    assert "待人工审核" in staff_page.get_data(as_text=True) and "到内容审核处理" in staff_page.get_data(as_text=True)


# -- praise ----------------------------------------------------------------------------------------

def test_praise_risky_is_refused_doubtful_waits_for_review_before_the_wall(login, fake_wechat):
    resident = login.resident()
    scene = scene_of("东城小区1号楼")
    risky = resident.post("/praises", json={"scene": scene, "target_type": "place", "message": FLAGGED})
    assert risky.status_code == 422 and risky.get_json()["message"] == "点赞留言含有不当信息，请修改后再提交。"
    grid_worker = db.session.scalar(select(User).where(User.username == "grid_east1"))
    before = praises_of(login, grid_worker.id)
    doubtful = resident.post("/praises", json={"scene": scene, "target_type": "grid_worker",
                                               "target_id": grid_worker.id, "message": DOUBTFUL})
    assert doubtful.status_code == 201 and doubtful.get_json()["review_notice"] == "审核中"
    praise_id = doubtful.get_json()["id"]
    wall = login.anonymous().get("/praises?limit=100").get_json()["items"]
    assert praise_id not in [p["id"] for p in wall]
    assert praises_of(login, grid_worker.id) == before  # nor counted in the ranking before it is released
    assert notes(grid_worker.id, "praise_received") == []  # the person praised hears of it on release
    assert [p["review_notice"] for p in resident.get("/praises?mine=true").get_json()["items"]] == ["审核中"]

    decide(login("east_admin"), hold_of("praise", praise_id).id, "release", "正常表扬")
    wall = login.anonymous().get("/praises?limit=100").get_json()["items"]
    assert praise_id in [p["id"] for p in wall]
    assert len(notes(grid_worker.id, "praise_received")) == 1
    assert praises_of(login, grid_worker.id) == before + 1


def test_praise_from_the_portal_waits_for_review_and_a_hidden_one_never_shows(app, login):
    scene = scene_of("东城小区1号楼")
    resident = Console(app.test_client())
    resident.token_from(f"/s/{scene}/praise")
    res = resident.post(f"/s/{scene}/praise", data={"privacy_version": PRIVACY_VERSION, "phone": "13912345671", "name": "李先生",
                                                    "target": f"place:{place_id('东城小区1号楼')}",
                                                    "message": "楼道打扫得真干净"})
    assert res.status_code == 302
    assert ("success", "点赞成功！您的留言将在工作人员审核后展示在点赞墙上。") in resident.flashes()
    praise = db.session.scalar(select(Praise).order_by(Praise.id.desc()))
    assert "楼道打扫得真干净" not in resident.get("/praise").get_data(as_text=True)

    console = Console(app.test_client(), "east_admin")
    queue = console.get("/console/moderation?kind=praise").get_data(as_text=True)
    assert "楼道打扫得真干净" in queue and "未能检查" in queue
    hold = hold_of("praise", praise.id)
    console.post(f"/console/moderation/{hold.id}/decision", data={"action": "hide", "reason": "与实际不符"})
    assert ("success", "已隐藏，并已告知作者原因。") in console.flashes()
    assert hold_of("praise", praise.id).status == "hidden"
    assert "楼道打扫得真干净" not in resident.get("/praise").get_data(as_text=True)
    console.post(f"/console/moderation/{hold.id}/decision", data={"action": "release", "reason": "复核后同意公开"})
    assert "楼道打扫得真干净" in resident.get("/praise").get_data(as_text=True)


# -- messages and replies --------------------------------------------------------------------------

def test_messages_risky_refused_doubtful_delivered_portal_delivered(app, login, fake_wechat):
    scene = scene_of("东城小区1号楼")
    resident = login.resident()
    risky = resident.post("/messages", json={"scene": scene, "to_role": "grid_worker", "body": "这里有违禁词"})
    assert risky.status_code == 422 and risky.get_json()["message"] == "留言含有不当信息，请修改后再提交。"
    assert fake_wechat.state.sec_checks[-1]["scene"] == 2
    # A message is read only by the staff it is addressed to: a doubtful one reaches them.
    doubtful = resident.post("/messages", json={"scene": scene, "to_role": "grid_worker", "body": "待核实：楼道灯不亮"})
    assert doubtful.status_code == 201
    thread = doubtful.get_json()["id"]
    reply = resident.post(f"/messages/{thread}/replies", json={"body": "补充：违禁词"})
    assert reply.status_code == 422
    # Staff answer under their own name: published.
    assert login("grid_east1").post(f"/messages/{thread}/replies", json={"body": "明天上午去看"}).status_code == 201

    portal = Console(app.test_client())
    portal.token_from(f"/s/{scene}/message")
    checks = len(fake_wechat.state.sec_checks)
    res = portal.post(f"/s/{scene}/message", data={"privacy_version": PRIVACY_VERSION, "phone": "13912345672", "name": "王女士",
                                                   "to_role": "grid_worker", "body": "单元门坏了"})
    assert res.status_code == 302 and len(fake_wechat.state.sec_checks) == checks


# -- wishes, suggestions, the reporter's later words, registration and names -------------------------

def _wish(api, community_id: int, title: str):
    res = api.post("/wishes", json={
        "title": title, "detail": "", "category": "repair", "community_id": community_id, "address": "东城小区1号楼",
        "contact_phone": "13700001111",
        "desired_date": (to_local(utcnow()).date() + timedelta(days=7)).isoformat()})
    assert res.status_code == 201, res.get_json()
    return res.get_json()["id"]


def test_a_flagged_wish_stays_out_of_the_pool_until_released(app, login, areas):
    east = areas["东城社区"]
    resident = login.resident()
    wish_id = _wish(resident, east.id, "想请人劝劝楼下赌博的邻居")
    admin = login("east_admin")
    assert admin.post(f"/wishes/{wish_id}/transitions", json={"action": "approve"}).status_code == 200
    member = login("member_east")
    pool = member.get("/wishes?pool=true&limit=100").get_json()["items"]
    assert wish_id not in [w["id"] for w in pool]
    decide(admin, hold_of("wish", wish_id).id, "release", "属于邻里调解，可以公开")
    pool = member.get("/wishes?pool=true&limit=100").get_json()["items"]
    assert wish_id in [w["id"] for w in pool]


def test_a_flagged_suggestion_is_kept_off_the_public_board(login):
    resident = login.resident()
    rep = db.session.scalar(select(Representative.id).where(Representative.name == "张代表"))
    res = resident.post("/suggestions", json={"representative_id": rep, "title": "整治赌博",
                                              "body": "建议加强对楼下赌博的整治"})
    assert res.status_code == 201
    suggestion = db.session.get(Suggestion, res.get_json()["id"])
    suggestion.status, suggestion.allow_publication = "closed", True  # as if answered and closed
    db.session.flush()
    board = login.anonymous().get("/suggestions/board?limit=100").get_json()["items"]
    assert suggestion.id not in [s["id"] for s in board]
    decide(login("street_admin"), hold_of("suggestion", suggestion.id).id, "release", "建议内容正当")
    board = login.anonymous().get("/suggestions/board?limit=100").get_json()["items"]
    assert suggestion.id in [s["id"] for s in board]


def test_the_reporters_later_words_are_checked(login):
    resident = login.resident()
    case = resident.post("/cases", json={"place_id": place_id("东城小区1号楼"), "category_id": category_id(),
                                         "description": "路灯坏了"}).get_json()

    def close():  # as if handled and verified (a failed request rolls back the test's own changes too)
        row = db.session.get(Case, case["id"])
        row.status, row.closed_at = "closed", utcnow()
        db.session.flush()

    close()
    bad = resident.post(f"/cases/{case['id']}/rating", json={"score": 1, "comment": "处理的人都是违禁词"})
    assert bad.status_code == 422 and bad.get_json()["message"] == "事件追评含有不当信息，请修改后再提交。"
    close()
    assert resident.post(f"/cases/{case['id']}/rating", json={"score": 5, "comment": "很及时"}).status_code == 200


def test_registration_and_names_are_checked(login, areas, fake_wechat):
    resident = login.resident()
    res = resident.post("/party-members", json={"name": "张三", "org_name": "违禁词党支部",
                                                "community_id": areas["东城社区"].id})
    assert res.status_code == 422 and fake_wechat.state.sec_checks[-1]["scene"] == 1
    for field, value in (("display_name", "违禁词"), ("display_name", "待核实"), ("real_name", "违禁词")):
        res = resident.patch("/me", json={field: value})
        assert res.status_code == 422, (field, value)
        assert field in res.get_json()["errors"], res.get_json()
    assert resident.patch("/me", json={"display_name": "老张"}).status_code == 200


# -- WeChat down -----------------------------------------------------------------------------------

@pytest.mark.parametrize("failure", [{"http": 500}, {"errcode": -1}, {"sleep": 3}])
def test_with_wechat_down_each_kind_follows_its_rule_and_nothing_fails(login, fake_wechat, failure):
    resident = login.resident()
    scene = scene_of("东城小区1号楼")
    fake_wechat.fail_next("wxa/msg_sec_check", *[failure] * 3)
    case = resident.post("/cases", json={"place_id": place_id("东城小区1号楼"), "category_id": category_id(),
                                         "description": "井盖松动了"})
    assert case.status_code == 201 and case.get_json()["review_notice"] == "审核中"
    assert hold_of("case", case.get_json()["id"]).source == "unchecked"
    message = resident.post("/messages", json={"scene": scene, "to_role": "grid_worker", "body": "井盖松动"})
    assert message.status_code == 201  # no more 503: a message reaches the staff it is addressed to
    praise = resident.post("/praises", json={"scene": scene, "target_type": "place", "message": "很干净"})
    assert praise.status_code == 201 and praise.get_json()["review_notice"] == "审核中"


# -- abuse reports (举报) ----------------------------------------------------------------------------

def test_three_residents_reporting_a_praise_hide_it_pending_review(login):
    author = login.resident()
    scene = scene_of("东城小区1号楼")
    praise = author.post("/praises", json={"scene": scene, "target_type": "place", "message": "点赞"}).get_json()
    public = lambda: [p["id"] for p in login.anonymous().get("/praises?limit=100").get_json()["items"]]  # noqa: E731
    assert praise["id"] in public()
    own = author.post("/moderation/reports", json={"kind": "praise", "subject_id": praise["id"]})
    assert own.status_code == 422
    reporters = [login.resident() for _ in range(3)]
    first = reporters[0].post("/moderation/reports", json={"kind": "praise", "subject_id": praise["id"],
                                                           "reason": "内容不实"})
    assert first.status_code == 201 and first.get_json() == {"reports": 1, "hidden": False}
    twice = reporters[0].post("/moderation/reports", json={"kind": "praise", "subject_id": praise["id"]})
    assert twice.status_code == 409 and "已举报" in twice.get_json()["message"]
    reporters[1].post("/moderation/reports", json={"kind": "praise", "subject_id": praise["id"]})
    assert praise["id"] in public()
    third = reporters[2].post("/moderation/reports", json={"kind": "praise", "subject_id": praise["id"]})
    assert third.get_json() == {"reports": 3, "hidden": True}
    assert praise["id"] not in public()
    item = login("east_admin").get("/moderation/holds?kind=praise").get_json()["items"][0]
    assert (item["subject_id"], item["source"], item["reports"]) == (praise["id"], "reports", 3)
    decide(login("east_admin"), item["id"], "release", "经核实内容属实")
    assert praise["id"] in public()
    # Staff decided after the reports: a fourth report does not hide it again.
    assert login.resident().post("/moderation/reports", json={"kind": "praise", "subject_id": praise["id"]}
                                 ).get_json()["hidden"] is False
    assert login.anonymous().post("/moderation/reports", json={"kind": "praise", "subject_id": praise["id"]}
                                  ).status_code == 401


# -- refusals name actions in Chinese ----------------------------------------------------------------

def test_409_and_403_name_actions_by_their_labels(login):
    resident = login.resident()
    case = resident.post("/cases", json={"place_id": place_id("东城小区1号楼"), "category_id": category_id(),
                                         "description": "路灯坏了"}).get_json()
    east = login("east_admin")
    res = east.post(f"/cases/{case['id']}/transitions", json={"action": "verify"})
    assert res.status_code == 409
    message = res.get_json()["message"]
    assert message.startswith("当前状态（待受理）下不能执行“核查”。现在可执行的操作：") and "受理" in message
    assert not any(word in message for word in ("verify", "accept", "reject", "dispatch"))
    assert res.get_json()["errors"]["action"] == "verify"  # the API fields keep their ids
    res = resident.post(f"/cases/{case['id']}/transitions", json={"action": "accept"})
    assert res.status_code == 403 and res.get_json()["message"] == "您无权执行“受理”。"


def test_only_public_content_can_be_reported(login, areas):
    resident = login.resident()
    wish_id = _wish(resident, areas["东城社区"].id, "想请人帮忙换灯泡")  # not approved: not in the pool
    other = login.resident()
    res = other.post("/moderation/reports", json={"kind": "wish", "subject_id": wish_id})
    assert res.status_code == 404
    res = other.post("/moderation/reports", json={"kind": "case", "subject_id": 1})
    assert res.status_code == 422  # reports are never public
