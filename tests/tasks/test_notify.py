"""Delivering the outbox to the fake WeChat server: quota, field rules, errors, retries, exactly once."""
from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.core import uow
from app.core.time import travel
from app.extensions import db
from app.notifications import subscriptions
from app.notifications.models import FAILED, PENDING, SENT, SKIPPED, Notification, SubscriptionQuota
from app.notifications.service import notify
from tasks.notify import deliver_batch, sweep_outbox
from tests.fake_wechat import OA_APPID, OA_SECRET, validate_subscribe


def make_resident(openid: str | None = None, unionid: str | None = None) -> User:
    user = User(openid=openid or "o_" + secrets.token_hex(6), unionid=unionid, display_name="居民")
    db.session.add(user)
    db.session.flush()
    return user


def grant(user: User, key: str = "case_progress", times: int = 1) -> None:
    for _ in range(times):
        subscriptions.add_quota(user, [key])


def remaining(user: User, key: str = "case_progress") -> int:
    return db.session.scalar(select(SubscriptionQuota.remaining).where(
        SubscriptionQuota.user_id == user.id, SubscriptionQuota.template_key == key)) or 0


def case_notice(user: User, **data) -> Notification:
    values = {"tracking_no": "QY20261121-0001", "status": "已受理", "subject": "楼道堆放杂物"} | data
    [row] = notify([user.id], "case.accepted", title="您上报的事件已受理", body="社区已受理，将尽快派单处置。",
                   page="/pages/case/detail?id=12", data=values, subject=("case", 12))
    uow.commit()  # no REDIS_URL: delivery runs inline right after the commit
    db.session.refresh(row)
    return row


def messages_to(fake_wechat, user: User) -> list[dict]:
    return [m for m in fake_wechat.state.subscribe_messages if m["touser"] == user.openid]


def test_without_quota_no_wechat_call_and_the_row_stays_in_the_inbox(fake_wechat):
    user = make_resident()
    row = case_notice(user)
    assert fake_wechat.state.calls["cgi-bin/message/subscribe/send"] == 0
    assert (row.status, row.channel) == (SKIPPED, "subscribe")
    assert "无订阅额度" in row.error
    assert db.session.get(Notification, row.id).read_at is None


def test_one_acceptance_allows_exactly_one_message(fake_wechat):
    user = make_resident()
    grant(user)
    first, second = case_notice(user), case_notice(user)
    assert (first.status, first.channel) == (SENT, "subscribe")
    assert first.sent_at is not None
    assert second.status == SKIPPED
    assert len(messages_to(fake_wechat, user)) == 1
    assert remaining(user) == 0


def test_what_arrives_fits_wechat_field_rules_and_deep_links(fake_wechat):
    user = make_resident()
    grant(user)
    row = case_notice(user, subject="小区东门外的路灯已经连续坏了两个多星期，晚上出行很不方便",
                      status="已派遣至城管执法中队", tracking_no="编号QY-20261121-000123456789012345678901234",
                      time=datetime(2026, 11, 21, 7, 1, tzinfo=UTC))
    assert row.status == SENT
    [message] = messages_to(fake_wechat, user)
    assert validate_subscribe(message) == []
    data = {k: v["value"] for k, v in message["data"].items()}
    assert len(data["thing2"]) == 20 and data["thing2"].endswith("…")
    assert data["phrase3"] == "已派遣至城"
    assert data["character_string1"].isascii() and len(data["character_string1"]) <= 32
    assert data["time4"] == "2026年11月21日 15:01"  # shown in Asia/Shanghai
    assert message["page"] == "pages/case/detail?id=12"
    assert message["miniprogram_state"] == "formal"


def test_43101_zeroes_the_quota_and_is_never_retried(fake_wechat):
    user = make_resident()
    grant(user, times=3)
    fake_wechat.fail_next("cgi-bin/message/subscribe/send", {"errcode": 43101, "errmsg": "user refuse to accept"})
    row = case_notice(user)
    assert (row.status, row.errcode) == (FAILED, 43101)
    assert remaining(user) == 0
    travel(timedelta(hours=3))
    assert sweep_outbox() == 0
    deliver_batch([row.id])
    assert fake_wechat.state.calls["cgi-bin/message/subscribe/send"] == 1
    assert messages_to(fake_wechat, user) == []


def test_minus_one_is_retried_then_delivered_once(fake_wechat):
    user = make_resident()
    grant(user)
    fake_wechat.fail_next("cgi-bin/message/subscribe/send", {"errcode": -1, "errmsg": "system busy"})
    row = case_notice(user)
    assert (row.status, row.errcode, row.attempts) == (PENDING, -1, 1)
    assert remaining(user) == 1  # WeChat kept nothing, so the unit is still the user's
    assert sweep_outbox() == 0   # the backoff is not over yet
    travel(timedelta(minutes=2))
    assert sweep_outbox() == 1
    uow.commit()
    db.session.refresh(row)
    assert (row.status, row.attempts) == (SENT, 2)
    assert len(messages_to(fake_wechat, user)) == 1
    assert remaining(user) == 0


@pytest.mark.parametrize("failure", [{"errcode": 45009}, {"http": 502}, {"sleep": 0.8}])
def test_rate_limits_5xx_and_timeouts_are_transient(fake_wechat, app, monkeypatch, failure):
    monkeypatch.setitem(app.config, "WECHAT_TIMEOUT", 0.3)
    app.extensions.pop("gongzhi.wechat", None)
    user = make_resident()
    grant(user)
    fake_wechat.fail_next("cgi-bin/message/subscribe/send", failure)
    row = case_notice(user)
    assert row.status == PENDING and row.attempts == 1
    travel(timedelta(minutes=2))
    sweep_outbox()
    uow.commit()
    db.session.refresh(row)
    assert row.status == SENT


def test_transient_errors_give_up_after_the_last_backoff(fake_wechat):
    user = make_resident()
    grant(user)
    fake_wechat.fail_next("cgi-bin/message/subscribe/send", *[{"errcode": -1}] * 6)
    row = case_notice(user)
    for _ in range(5):
        travel(timedelta(hours=1))
        sweep_outbox()
        uow.commit()
    db.session.refresh(row)
    assert (row.status, row.errcode, row.attempts) == (FAILED, -1, 6)
    assert remaining(user) == 1


def test_other_errors_fail_with_their_errcode(fake_wechat):
    user = make_resident()
    grant(user)
    fake_wechat.fail_next("cgi-bin/message/subscribe/send", {"errcode": 40037, "errmsg": "invalid template_id"})
    row = case_notice(user)
    assert (row.status, row.errcode) == (FAILED, 40037)
    assert remaining(user) == 1


def test_40001_refreshes_the_token_once_and_retries(fake_wechat):
    user = make_resident()
    grant(user, times=3)
    case_notice(user)
    fake_wechat.invalidate_tokens()
    row = case_notice(user)
    assert row.status == SENT
    assert sum(1 for r in fake_wechat.state.token_requests if r.get("force_refresh")) == 1
    # A token that is refused again after the refresh is not refreshed forever.
    fake_wechat.fail_next("cgi-bin/message/subscribe/send", {"errcode": 40001}, {"errcode": 40001})
    row = case_notice(user)
    assert (row.status, row.errcode) == (FAILED, 40001)
    assert sum(1 for r in fake_wechat.state.token_requests if r.get("force_refresh")) == 2
    assert fake_wechat.state.plain_token_requests == 0


def test_running_a_delivery_twice_sends_once(fake_wechat):
    user = make_resident()
    grant(user, "wish_progress", times=5)
    rows = notify([user.id], "wish.claimed", title="您的心愿已被认领", page="pages/wish/detail?id=3",
                  data={"status": "已认领"})
    db.session.flush()
    ids = [r.id for r in rows]
    uow.discard_pending()
    deliver_batch(ids)
    deliver_batch(ids)
    assert len(messages_to(fake_wechat, user)) == 1
    assert remaining(user, "wish_progress") == 4


def test_fan_out_to_many_users_in_batches(fake_wechat):
    users = [make_resident() for _ in range(450)]
    for user in users[::2]:
        grant(user, "activity_notice")
    notify([u.id for u in users], "activity.published", title="周六上午社区义务清扫活动开始报名",
           page="pages/activity/detail?id=5", data={"place": "东城社区党群服务中心"})
    pending_batches = len(db.session.info.get("gongzhi.after_commit", []))
    uow.commit()
    assert pending_batches == 3
    arrived = [m["touser"] for m in fake_wechat.state.subscribe_messages]
    assert sorted(arrived) == sorted(u.openid for u in users[::2])
    statuses = db.session.execute(select(Notification.status).where(
        Notification.user_id.in_([u.id for u in users]))).scalars().all()
    assert statuses.count(SENT) == 225 and statuses.count(SKIPPED) == 225


def test_console_mode_logs_and_says_so(fake_wechat, app, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "WECHAT_CONSOLE_MODE", True)
    app.extensions.pop("gongzhi.wechat", None)
    user = make_resident()
    grant(user)
    with caplog.at_level("INFO", logger="gongzhi.wechat"):
        row = case_notice(user)
    assert (row.status, row.channel) == (SKIPPED, "console")
    assert "控制台模式" in row.error
    assert "subscribe message" in caplog.text
    assert fake_wechat.state.calls["cgi-bin/message/subscribe/send"] == 0
    assert remaining(user) == 1


def test_official_account_template_message_for_a_matched_follower(fake_wechat, app, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_OA_APPID", OA_APPID)
    monkeypatch.setitem(app.config, "WECHAT_OA_SECRET", OA_SECRET)
    monkeypatch.setitem(app.config, "WECHAT_OA_TEMPLATES", '{"case_progress": "oa_case_tmpl"}')
    app.extensions.pop("gongzhi.wechat", None)
    follower = make_resident(unionid="u_" + secrets.token_hex(6))
    stranger = make_resident(unionid="u_" + secrets.token_hex(6))
    subscriptions.record_follower(follower.unionid, "oa_openid_1")
    row = case_notice(follower)
    other = case_notice(stranger)
    assert (row.status, row.channel) == (SENT, "official")
    assert other.status == SKIPPED
    [message] = fake_wechat.state.template_messages
    assert message["touser"] == "oa_openid_1" and message["template_id"] == "oa_case_tmpl"
    assert message["miniprogram"]["pagepath"] == "pages/case/detail?id=12"
    # Both apps hold tokens at once: the official account's did not invalidate the mini-program's.
    grant(stranger)
    assert case_notice(stranger).status == SENT
