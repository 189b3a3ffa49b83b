"""The inbox and the subscription quota, as the mini-program uses them."""
from __future__ import annotations

from app.core import uow
from app.notifications.service import notify


def send(user_id: int, title: str, kind: str = "case.accepted", **data) -> None:
    notify([user_id], kind, title=title, page="pages/case/detail?id=7", data=data or {"status": "已受理"},
           subject=("case", 7))
    uow.commit()


def me(api) -> int:
    return api.get("/me").get_json()["id"]


def test_every_notification_lands_in_the_inbox_with_an_unread_count(login):
    alice = login.resident()
    uid = me(alice)
    for n in range(3):
        send(uid, f"第{n + 1}条消息")
    res = alice.get("/inbox?limit=2")
    assert res.status_code == 200
    body = res.get_json()
    assert [i["title"] for i in body["items"]] == ["第3条消息", "第2条消息"]
    assert body["unread_count"] == 3
    assert body["items"][0]["page"] == "pages/case/detail?id=7"
    assert body["items"][0]["read"] is False
    rest = alice.get(f"/inbox?limit=2&cursor={body['next_cursor']}").get_json()
    assert [i["title"] for i in rest["items"]] == ["第1条消息"] and rest["next_cursor"] is None


def test_reading_one_then_all(login):
    alice = login.resident()
    uid = me(alice)
    send(uid, "甲")
    send(uid, "乙")
    first = alice.get("/inbox").get_json()["items"][-1]
    res = alice.post(f"/inbox/{first['id']}/read")
    assert res.status_code == 200 and res.get_json()["read"] is True
    assert res.get_json()["read_at"].endswith("+08:00")
    unread = alice.get("/inbox?unread=true").get_json()
    assert [i["title"] for i in unread["items"]] == ["乙"] and unread["unread_count"] == 1
    res = alice.post("/inbox/read-all")
    assert res.get_json() == {"updated": 1, "unread_count": 0}
    assert alice.get("/inbox").get_json()["unread_count"] == 0


def test_nobody_reads_someone_elses_inbox(login):
    alice, bob = login.resident(), login.resident()
    send(me(alice), "只给甲")
    item = alice.get("/inbox").get_json()["items"][0]
    assert bob.get("/inbox").get_json()["items"] == []
    res = bob.post(f"/inbox/{item['id']}/read")
    assert res.status_code == 404
    assert res.get_json()["message"] == "该消息不存在。"
    assert login.anonymous().get("/inbox").status_code == 401


def test_accepted_templates_add_quota_and_unknown_keys_are_refused(login):
    alice = login.resident()
    res = alice.post("/subscriptions", json={"accepted": ["case_progress", "case_progress", "wish_progress"]})
    assert res.status_code == 200
    quotas = {q["template_key"]: q for q in res.get_json()["items"]}
    assert quotas["case_progress"]["remaining"] == 1  # one wx.requestSubscribeMessage: one message each
    assert quotas["wish_progress"]["remaining"] == 1
    assert quotas["review_result"]["remaining"] == 0
    assert quotas["case_progress"]["template_id"] and quotas["case_progress"]["title"]
    alice.post("/subscriptions", json={"accepted": ["case_progress"]})
    quotas = {q["template_key"]: q["remaining"] for q in alice.get("/subscriptions").get_json()["items"]}
    assert quotas["case_progress"] == 2
    res = alice.post("/subscriptions", json={"accepted": ["case_progress", "no_such_template"]})
    assert res.status_code == 422
    assert "未知的消息模板" in res.get_json()["message"]
    quotas = {q["template_key"]: q["remaining"] for q in alice.get("/subscriptions").get_json()["items"]}
    assert quotas["case_progress"] == 2  # nothing half-written
    assert alice.post("/subscriptions", json={"accepted": []}).status_code == 422


def test_a_subscribed_resident_gets_the_wechat_message(login, fake_wechat):
    fake_openid = "o_inbox_e2e"
    alice = login.resident(openid=fake_openid)
    alice.post("/subscriptions", json={"accepted": ["case_progress"]})
    send(me(alice), "您上报的事件已办结", kind="case.closed", status="已办结", tracking_no="QY-7")
    send(me(alice), "请为本次处置评价", kind="case.closed", status="待评价")
    [message] = fake_wechat.state.subscribe_messages
    assert message["touser"] == fake_openid
    assert message["page"] == "pages/case/detail?id=7"
    assert message["data"]["phrase3"]["value"] == "已办结"
    # Both are in the inbox, delivered to WeChat or not.
    assert alice.get("/inbox").get_json()["unread_count"] == 2
