"""Suggestions to representatives, as residents, representatives and departments meet them through the API."""
from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from app.accounts import service as accounts
from app.accounts.models import User
from app.areas.models import Department
from app.core.ids import new_scene
from app.core.time import travel, utcnow
from app.extensions import db
from app.notifications.models import Notification
from app.suggestions.models import Representative, Suggestion


def _rep_id(name: str) -> int:
    return db.session.scalar(select(Representative.id).where(Representative.name == name))


def _department_id(name: str) -> int:
    return db.session.scalar(select(Department.id).where(Department.name == name))


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _make_rep(areas, username: str, area_name: str, name: str) -> int:
    """A second representative with an account, granted over `area_name`."""
    area = areas[area_name]
    user = accounts.create_user(username, "gongzhi-demo", role="representative", area_id=area.id,
                                display_name=name)
    rep = Representative(user_id=user.id, name=name, kind="npc", level="town", area_id=area.id,
                         area_path=area.path, scene=new_scene("r"), bio="")
    db.session.add(rep)
    db.session.flush()
    return rep.id


def _submit(api, **overrides):
    payload = {"title": "小区门口路灯不亮", "body": "东城小区北门的路灯坏了两周，晚上很黑。", "allow_publication": False}
    payload.update(overrides)
    res = api.post("/suggestions", json=payload)
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def _act(api, suggestion_id, action, status=200, **data):
    res = api.post(f"/suggestions/{suggestion_id}/transitions", json={"action": action, **data})
    assert res.status_code == status, res.get_json()
    return res.get_json()


def _inbox(user_id: int, kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user_id,
                                                              Notification.kind == kind)))


def _submitter_id(suggestion_id: int) -> int:
    return db.session.get(Suggestion, suggestion_id).submitter_id


def _photo(api) -> int:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "JPEG")
    res = api.client.post("/mp/v1/uploads", data={"file": (io.BytesIO(buffer.getvalue()), "lamp.jpg")},
                          headers=api.headers(), content_type="multipart/form-data")
    assert res.status_code == 201, res.get_json()
    return res.get_json()["id"]


def test_representatives_are_public_filterable_and_scannable(login, areas):
    anonymous = login.anonymous()
    res = anonymous.get("/representatives")
    assert res.status_code == 200
    names = {r["name"] for r in res.get_json()["items"]}
    assert {"张代表", "王委员", "李代表"} <= names

    cppcc = anonymous.get("/representatives?kind=cppcc").get_json()["items"]
    assert [r["name"] for r in cppcc] == ["王委员"]
    assert cppcc[0]["kind_label"] == "政协委员"

    west = anonymous.get(f"/representatives?area_id={areas['西园社区'].id}").get_json()["items"]
    assert [r["name"] for r in west] == ["李代表"]

    zhang = anonymous.get(f"/representatives/{_rep_id('张代表')}").get_json()
    assert zhang["kind_label"] == "人大代表" and zhang["area_name"] == "沁河镇" and zhang["online"] is True
    assert zhang["figures"]["received"] >= 1

    scanned = anonymous.get(f"/representatives/scan/{zhang['scene']}")
    assert scanned.status_code == 200
    assert scanned.get_json()["representative"]["id"] == zhang["id"]
    assert scanned.get_json()["actions"] == ["suggest"]
    assert anonymous.get("/representatives/scan/rNoSuchScene").status_code == 404


def test_direct_answer_path(login):
    resident, rep = login.resident(), login("rep_npc")
    photo_id = _photo(resident)
    created = _submit(resident, representative_id=_rep_id("张代表"), photo_ids=[photo_id])
    sid = created["id"]
    assert created["status"] == "submitted" and len(created["photos"]) == 1
    assert created["allowed_actions"] == []

    # The representative is told, finds it among what was sent to them, and may accept or reject it.
    assert _inbox(_user("rep_npc").id, "suggestion_received")
    addressed = rep.get("/suggestions?box=addressed").get_json()["items"]
    assert sid in [s["id"] for s in addressed]
    assert set(rep.get(f"/suggestions/{sid}").get_json()["allowed_actions"]) == {"accept", "reject"}
    assert rep.get(f"/suggestions/{sid}").get_json()["submitter_name"] == "居民"

    # A resident cannot handle a suggestion, even their own.
    forbidden = resident.post(f"/suggestions/{sid}/transitions", json={"action": "accept"})
    assert forbidden.status_code == 403

    _act(rep, sid, "accept")
    assert _act(rep, sid, "answer", status=422)["message"] == "请填写答复内容。"
    answered = _act(rep, sid, "answer", note="已联系供电所，本周五前修复。")
    assert answered["status"] == "answered" and answered["allowed_actions"] == ["close"]
    early = resident.post(f"/suggestions/{sid}/rating", json={"score": 5})
    assert early.status_code == 409

    closed = _act(rep, sid, "close", note="已修复，谢谢您的建议。")
    assert closed["status"] == "closed"

    mine = resident.get(f"/suggestions/{sid}").get_json()
    assert mine["answer"] == "已联系供电所，本周五前修复。" and mine["can_rate"] is True
    assert [e["action"] for e in mine["timeline"]] == ["submit", "accept", "answer", "close"]
    assert mine["timeline"][1]["actor_role_label"] == "代表委员"
    closing = _inbox(_submitter_id(sid), "suggestion_closed")
    assert len(closing) == 1 and "本周五前修复" in closing[0].body

    rated = resident.post(f"/suggestions/{sid}/rating", json={"score": 5, "comment": "很及时"})
    assert rated.status_code == 200 and rated.get_json()["rating"] == 5
    assert rated.get_json()["can_rate"] is False
    assert resident.post(f"/suggestions/{sid}/rating", json={"score": 4}).status_code == 409
    assert _inbox(_user("rep_npc").id, "suggestion_rated")


def test_referral_path_with_department_reply(login):
    resident, rep, cg, wy = login.resident(), login("rep_npc"), login("dept_cg"), login("dept_wy")
    sid = _submit(resident, representative_id=_rep_id("张代表"), title="菜市场门口占道经营",
                  body="西园菜市场门口每天早上有摊贩占道，车辆无法通行。")["id"]
    _act(rep, sid, "accept")
    assert _act(rep, sid, "refer", status=422)["message"] == "请选择交办的职能部门。"
    past = (utcnow() - timedelta(days=1)).isoformat()
    assert _act(rep, sid, "refer", status=422, department_id=_department_id("城管执法中队"), due_at=past)
    due = (utcnow() + timedelta(days=7)).isoformat()
    referred = _act(rep, sid, "refer", department_id=_department_id("城管执法中队"), due_at=due,
                    note="请核实并规范摊位。")
    assert referred["status"] == "referred" and referred["department_name"] == "城管执法中队"
    assert referred["allowed_actions"] == []  # the representative waits for the department
    assert _inbox(_user("dept_cg").id, "suggestion_referred")

    # The referred department sees it and may reply; another department neither sees nor replies.
    assert sid in [s["id"] for s in cg.get("/suggestions?box=department").get_json()["items"]]
    assert cg.get(f"/suggestions/{sid}").get_json()["allowed_actions"] == ["reply"]
    assert sid not in [s["id"] for s in wy.get("/suggestions").get_json()["items"]]
    assert wy.get(f"/suggestions/{sid}").status_code == 403
    assert wy.post(f"/suggestions/{sid}/transitions", json={"action": "reply", "note": "不归我们管"}).status_code == 403
    assert rep.post(f"/suggestions/{sid}/transitions", json={"action": "reply", "note": "代答"}).status_code == 403

    replied = _act(cg, sid, "reply", note="已划定临时摊位区，早七点至九点安排队员值守。")
    assert replied["status"] == "replied"
    assert _inbox(_user("rep_npc").id, "suggestion_replied")
    wrong = cg.post(f"/suggestions/{sid}/transitions", json={"action": "close"})
    assert wrong.status_code == 403

    closed = _act(rep, sid, "close", note="已现场回访，秩序明显好转。")
    assert closed["status"] == "closed"
    seen = resident.get(f"/suggestions/{sid}").get_json()
    assert seen["department_reply"].startswith("已划定临时摊位区")
    assert [e["action"] for e in seen["timeline"]] == ["submit", "accept", "refer", "reply", "close"]
    assert seen["timeline"][3]["actor_role_label"] == "职能部门"
    closing = _inbox(_submitter_id(sid), "suggestion_closed")
    assert len(closing) == 1 and "临时摊位区" in closing[0].body and "秩序明显好转" in closing[0].body


def test_rejection_needs_a_reason_and_ends_the_flow(login):
    resident, rep = login.resident(), login("rep_npc")
    sid = _submit(resident, representative_id=_rep_id("张代表"))["id"]
    assert _act(rep, sid, "reject", status=422)["message"] == "请填写不予受理的理由。"
    rejected = _act(rep, sid, "reject", note="属于个人民事纠纷，建议通过人民调解解决。")
    assert rejected["status"] == "rejected" and rejected["allowed_actions"] == []
    assert resident.get(f"/suggestions/{sid}").get_json()["reject_reason"].startswith("属于个人民事纠纷")
    again = rep.post(f"/suggestions/{sid}/transitions", json={"action": "answer", "note": "补充答复"})
    assert again.status_code == 409
    assert "不予受理" in again.get_json()["message"]
    assert [n.title for n in _inbox(_submitter_id(sid), "suggestion_progress")] == ["您的建议未予受理"]


def test_risky_text_reaches_the_representative_but_waits_for_review_before_the_board(login):
    resident = login.resident()
    res = resident.post("/suggestions", json={"representative_id": _rep_id("张代表"), "title": "建议",
                                              "body": "这里有违禁词"})
    assert res.status_code == 201  # a suggestion may name what it complains of (tests/api/test_moderation.py)
    held = login("street_admin").get("/moderation/holds?kind=suggestion").get_json()["items"]
    assert [(h["subject_id"], h["suggest"]) for h in held] == [(res.get_json()["id"], "risky")]
    both = resident.post("/suggestions", json={"representative_id": _rep_id("张代表"), "area_id": 1,
                                               "title": "建议", "body": "内容"})
    assert both.status_code == 422


def test_a_representative_without_an_account_is_reached_through_the_office(login):
    resident, rep_npc = login.resident(), login("rep_npc")
    created = _submit(resident, representative_id=_rep_id("李代表"))
    assert created["representative"]["name"] == "李代表"
    assert created["office_name"] == "沁河镇人大代表联络站"
    assert "accept" in rep_npc.get(f"/suggestions/{created['id']}").get_json()["allowed_actions"]
    assert login("dept_cg").get(f"/suggestions/{created['id']}").status_code == 403


def test_scope_representatives_departments_and_admins(login, areas):
    west_rep_id = _make_rep(areas, "rep_west", "西园社区", "陈代表")
    resident = login.resident()
    to_west = _submit(resident, representative_id=west_rep_id, title="西园路缺少减速带")["id"]
    to_office = _submit(resident, area_id=areas["东城社区第一网格"].id, title="1号楼加装电梯")["id"]
    to_zhang = _submit(resident, representative_id=_rep_id("张代表"), title="公园增设座椅")["id"]

    rep_npc, rep_west = login("rep_npc"), login("rep_west")
    npc_ids = {s["id"] for s in rep_npc.get("/suggestions").get_json()["items"]}
    assert to_zhang in npc_ids and to_office in npc_ids and to_west not in npc_ids
    assert rep_npc.get(f"/suggestions/{to_west}").status_code == 403
    assert rep_npc.post(f"/suggestions/{to_west}/transitions", json={"action": "accept"}).status_code == 403

    west_ids = {s["id"] for s in rep_west.get("/suggestions").get_json()["items"]}
    assert west_ids == {to_west}
    assert rep_west.get(f"/suggestions/{to_office}").status_code == 403
    # rep_npc staffs the town's liaison office, so the office's suggestion is theirs to handle.
    office = rep_npc.get(f"/suggestions/{to_office}").get_json()
    assert office["office_name"] == "沁河镇人大代表联络站" and "accept" in office["allowed_actions"]
    _act(rep_npc, to_office, "accept")
    assert office["timeline"][0]["actor_role"] == "resident"
    assert rep_npc.get(f"/suggestions/{to_office}").get_json()["timeline"][1]["actor_role_label"] == "代表联络站"

    # Admins see their own area only; a department sees nothing that was not referred to it.
    east_ids = {s["id"] for s in login("east_admin").get("/suggestions?box=scope").get_json()["items"]}
    assert to_office in east_ids and to_west not in east_ids
    west_admin_ids = {s["id"] for s in login("west_admin").get("/suggestions").get_json()["items"]}
    assert to_west in west_admin_ids and to_office not in west_admin_ids
    assert login("dept_wy").get("/suggestions").get_json()["items"] == []
    # Another resident sees none of these.
    assert login.resident().get(f"/suggestions/{to_zhang}").status_code == 403


def test_due_reminder_once_then_overdue_with_the_clock_moved(login):
    from tasks.suggestions import sweep_due

    resident, rep, cg = login.resident(), login("rep_npc"), login("dept_cg")
    sid = _submit(resident, representative_id=_rep_id("张代表"))["id"]
    _act(rep, sid, "accept")
    _act(rep, sid, "refer", department_id=_department_id("城管执法中队"),
         due_at=(utcnow() + timedelta(days=5)).isoformat())
    dept_user, rep_user = _user("dept_cg").id, _user("rep_npc").id

    sweep_due()
    assert _inbox(dept_user, "suggestion_due_soon") == []

    travel(timedelta(days=3, hours=12))
    sweep_due()
    sweep_due()
    assert len(_inbox(dept_user, "suggestion_due_soon")) == 1
    assert cg.get(f"/suggestions/{sid}").get_json()["overdue"] is False

    travel(timedelta(days=2))
    sweep_due()
    sweep_due()
    assert len(_inbox(dept_user, "suggestion_overdue")) == 1
    assert len(_inbox(rep_user, "suggestion_overdue")) == 1
    detail = rep.get(f"/suggestions/{sid}").get_json()
    assert detail["overdue"] is True
    assert [e["action"] for e in detail["timeline"]][-2:] == ["remind", "overdue"]
    assert detail["timeline"][-1]["actor_role_label"] == "系统"

    # A late reply is still accepted and clears the overdue flag from the list.
    assert _act(cg, sid, "reply", note="已处理。")["overdue"] is False


def test_public_board_shows_no_personal_data(login, fake_wechat):
    resident = login.resident()
    resident.post("/auth/phone", json={"code": fake_wechat.issue_phone_code("13700001111")})
    me = resident.get("/me").get_json()
    db.session.get(User, me["id"]).display_name = "王小明"
    db.session.flush()
    rep = login("rep_npc")

    published = _submit(resident, representative_id=_rep_id("张代表"), allow_publication=True,
                        title="老年食堂的建议，联系13912345678",
                        body="电话 139-1234-5678，身份证142431199001011234，希望增加老年助餐点。")["id"]
    private = _submit(resident, representative_id=_rep_id("张代表"), allow_publication=False,
                      title="不公开的建议", body="请不要公开。")["id"]
    for sid in (published, private):
        _act(rep, sid, "accept")
        _act(rep, sid, "answer", note="已协调社区在东城社区增设助餐点，可拨打0355-7654321咨询。")
        _act(rep, sid, "close")

    # The representative who answers needs the name; the public board never shows it.
    assert rep.get(f"/suggestions/{published}").get_json()["submitter_name"] == "王小明"
    res = login.anonymous().get("/suggestions/board?limit=100")
    assert res.status_code == 200
    items = {i["id"]: i for i in res.get_json()["items"]}
    assert published in items and private not in items
    item = items[published]
    assert "139****5678" in item["title"] and "139****5678" in item["body"]
    assert "142431********1234" in item["body"]
    assert "0355-****4321" in item["answer"]
    assert item["representative"]["name"] == "张代表"
    text = res.get_data(as_text=True)
    for secret in ("13912345678", "1234-5678", "13700001111", "142431199001011234", "7654321"):
        assert secret not in text
    assert "王小明" not in text and "王*明" not in text
    assert "submitter" not in text and "photos" not in text


def test_figures_per_representative(login, areas):
    rep_id = _make_rep(areas, "rep_fig", "东城社区", "周代表")
    resident, rep, cg = login.resident(), login("rep_fig"), login("dept_cg")
    direct = _submit(resident, representative_id=rep_id)["id"]
    referred = _submit(resident, representative_id=rep_id)["id"]
    ignored = _submit(resident, representative_id=rep_id)["id"]
    for sid in (direct, referred):
        _act(rep, sid, "accept")

    travel(timedelta(hours=2))
    _act(rep, direct, "answer", note="已答复。")
    travel(timedelta(hours=2))
    _act(rep, referred, "refer", department_id=_department_id("城管执法中队"))
    _act(cg, referred, "reply", note="已回复。")
    _act(rep, ignored, "reject", note="重复提交。")
    for sid, score in ((direct, 5), (referred, 3)):
        _act(rep, sid, "close")
        assert resident.post(f"/suggestions/{sid}/rating", json={"score": score}).status_code == 200

    figures = login.anonymous().get(f"/representatives/{rep_id}").get_json()["figures"]
    assert figures["received"] == 3
    assert figures["answered"] == 2
    assert figures["closed"] == 2
    # Only the two that got an answer or a referral count: 2 h and 4 h, so the median is 3 h.
    assert figures["median_response_hours"] == 3.0
    assert figures["rated"] == 2 and figures["mean_rating"] == 4.0
    assert figures["satisfied_share"] == 0.5


def test_each_representative_has_a_mini_program_code_that_opens_a_suggestion(client, fake_wechat):
    from app.suggestions.models import Representative

    reps = client.get("/mp/v1/representatives").get_json()["items"]
    rep = next(r for r in reps if r["name"] == "张代表")
    res = client.get(f"/mp/v1/representatives/{rep['id']}/code")
    data, kind = res.data, res.headers["X-Code-Kind"]
    res.close()
    assert res.status_code == 200 and data[:3] == b"\xff\xd8\xff" and kind == "wechat"
    scene = db.session.get(Representative, rep["id"]).scene
    # the code was fetched from WeChat for this scene (now, or earlier in the run: images are cached)
    assert all(asked["scene"] == scene for asked in fake_wechat.state.wxacode_requests
               if asked["scene"].startswith("r"))
    opened = client.get(f"/mp/v1/representatives/scan/{scene}").get_json()
    assert opened["representative"]["id"] == rep["id"] and opened["actions"] == ["suggest"]
