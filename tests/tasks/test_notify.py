"""Delivering the outbox to the fake WeChat server: quota, field rules, errors, retries, exactly once."""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, SimpleWorker, Worker
from rq.job import Job
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from app import jobs
from app.accounts.models import User
from app.core import uow
from app.core.time import travel
from app.extensions import db
from app.jobs import QUEUE_NOTIFY, QUEUES
from app.notifications import delivery, subscriptions
from app.notifications.models import FAILED, PENDING, SENT, SKIPPED, UNKNOWN, Notification, SubscriptionQuota
from app.notifications.service import notify
from tasks import notify as notify_tasks
from tasks.notify import RETRY, deliver_batch, pump_outbox, sweep_outbox
from tests.conftest import IN_CI
from tests.fake_wechat import APPID, OA_APPID, OA_SECRET, SECRET, validate_subscribe


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


def notified(*args, **kwargs) -> list[Notification]:
    """notify(), with the rows it wrote (it returns their ids)."""
    return [db.session.get(Notification, i) for i in notify(*args, **kwargs)]


def case_notice(user: User, **data) -> Notification:
    values = {"tracking_no": "QY20261121-0001", "status": "已受理", "subject": "楼道堆放杂物"} | data
    [row] = notified([user.id], "case.accepted", title="您上报的事件已受理", body="社区已受理，将尽快派单处置。",
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


def test_40001_refreshes_the_token_and_retries_twice_at_most_then_later(fake_wechat):
    user = make_resident()
    grant(user, times=4)
    case_notice(user)
    fake_wechat.invalidate_tokens()
    row = case_notice(user)
    assert row.status == SENT
    assert sum(1 for r in fake_wechat.state.token_requests if r.get("force_refresh")) == 1
    # Refused again after the refresh: one more refresh, and the message goes out.
    fake_wechat.fail_next("cgi-bin/message/subscribe/send", {"errcode": 40001}, {"errcode": 40001})
    row = case_notice(user)
    assert row.status == SENT
    assert sum(1 for r in fake_wechat.state.token_requests if r.get("force_refresh")) == 3
    # Refused three times: not refreshed forever, and not failed for good either: retried later.
    fake_wechat.fail_next("cgi-bin/message/subscribe/send", *[{"errcode": 40001}] * 3)
    row = case_notice(user)
    assert (row.status, row.errcode, row.attempts) == (PENDING, 40001, 1)
    assert sum(1 for r in fake_wechat.state.token_requests if r.get("force_refresh")) == 5
    assert remaining(user) == 1  # the unit of the message WeChat did not take is still the user's
    travel(timedelta(minutes=2))
    assert sweep_outbox() == 1
    uow.commit()
    db.session.refresh(row)
    assert row.status == SENT
    assert len(messages_to(fake_wechat, user)) == 4
    assert fake_wechat.state.plain_token_requests == 0


def test_running_a_delivery_twice_sends_once(fake_wechat):
    user = make_resident()
    grant(user, "wish_progress", times=5)
    rows = notified([user.id], "wish.claimed", title="您的心愿已被认领", page="pages/wish/detail?id=3",
                  data={"status": "已认领"})
    db.session.flush()
    ids = [r.id for r in rows]
    jobs.discard_pending()
    deliver_batch(ids)
    deliver_batch(ids)
    assert len(messages_to(fake_wechat, user)) == 1
    assert remaining(user, "wish_progress") == 4


def test_fan_out_to_many_users_in_batches(fake_wechat, monkeypatch):
    users = [make_resident() for _ in range(450)]
    for user in users[::2]:
        grant(user, "activity_notice")
    batches = []
    lock_pending = delivery._lock_pending

    def counted(*args, **kwargs):
        batches.append(lock_pending(*args, **kwargs))
        return batches[-1]

    monkeypatch.setattr(delivery, "_lock_pending", counted)
    notify([u.id for u in users], "activity.published", title="周六上午社区义务清扫活动开始报名",
           page="pages/activity/detail?id=5", data={"place": "东城社区党群服务中心"})
    notify([users[1].id], "activity.reminder", title="活动明天开始", page="pages/activity/detail?id=5")
    pending = db.session.info.get("gongzhi.after_commit", [])
    uow.commit()
    assert [job for job, _, _ in pending] == ["tasks.notify.pump_outbox"]  # one pump per unit of work, not one job per batch
    assert [len(batch) for batch in batches] == [200, 200, 51]  # then nothing left: the pump stops
    arrived = [m["touser"] for m in fake_wechat.state.subscribe_messages]
    assert sorted(arrived) == sorted(u.openid for u in users[::2])
    statuses = db.session.execute(select(Notification.status).where(
        Notification.user_id.in_([u.id for u in users]))).scalars().all()
    assert statuses.count(SENT) == 225 and statuses.count(SKIPPED) == 226  # users[1] has no quota


def test_a_pump_leaves_rows_held_by_a_retry_or_by_the_sweep_alone(fake_wechat):
    retried, swept, fresh = make_resident(), make_resident(), make_resident()
    for user in (retried, swept, fresh):
        grant(user)
    fake_wechat.fail_next("cgi-bin/message/subscribe/send", {"errcode": -1, "errmsg": "system busy"})
    first = case_notice(retried)
    assert (first.status, first.attempts) == (PENDING, 1)
    [queued] = notified([swept.id], "case.accepted", title="已受理", page="pages/case/detail?id=7")
    jobs.discard_pending()  # its pump is lost: the sweep finds the row
    travel(timedelta(seconds=31))
    assert delivery.claim_for_sweep() == [queued.id]  # held for the deliver_batch the sweep queues
    row = case_notice(fresh)  # a new pump: takes the fresh row only
    assert row.status == SENT
    assert [m["touser"] for m in fake_wechat.state.subscribe_messages] == [fresh.openid]
    for held in (first, queued):
        db.session.refresh(held)
        assert held.status == PENDING


@pytest.mark.parametrize(("batches", "seconds", "pumps_expected"), [(2, 60, 3), (10, 0, 5)])
def test_a_pump_hands_over_to_a_new_one_after_its_share(fake_wechat, monkeypatch, batches, seconds,
                                                        pumps_expected):
    monkeypatch.setattr(notify_tasks, "BATCH_SIZE", 10)
    monkeypatch.setattr(notify_tasks, "PUMP_BATCHES", batches)  # a share: so many batches, or so long
    monkeypatch.setattr(notify_tasks, "PUMP_SECONDS", seconds)
    pumps = []
    monkeypatch.setattr(jobs, "release_nudge", pumps.append)
    users = [make_resident() for _ in range(45)]
    for user in users:
        grant(user)
    notify([u.id for u in users], "case.accepted", title="已受理", page="pages/case/detail?id=8")
    uow.commit()  # inline: each pump delivers its share of batches of 10, then the next one runs right after
    assert len(pumps) == pumps_expected
    assert sorted(m["touser"] for m in fake_wechat.state.subscribe_messages) == sorted(u.openid for u in users)


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


# -- on real Redis and real rq ------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
RQ = str(ROOT / ".venv" / "bin" / "rq")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")


@pytest.fixture
def redis_url():
    """A Redis database the tests may use (CI: db 15). Without one the tests skip, except under CI."""
    if not TEST_REDIS_URL:
        if IN_CI:
            pytest.fail("CI=true requires TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15)")
        pytest.skip("needs Redis: set TEST_REDIS_URL=redis://127.0.0.1:6379/14")
    connection = Redis.from_url(TEST_REDIS_URL)
    _empty(connection)
    yield TEST_REDIS_URL
    _empty(connection)
    connection.close()


def _empty(connection) -> None:
    for name in QUEUES:
        queue = Queue(name, connection=connection)
        queue.empty()
        for job_id in queue.scheduled_job_registry.get_job_ids():
            queue.scheduled_job_registry.remove(job_id)
        for registry in (queue.finished_job_registry, queue.failed_job_registry):
            for job_id in registry.get_job_ids():
                registry.remove(job_id, delete_job=True)
    for pattern in ("gongzhi:wechat*", "gongzhi:nudge:*"):
        for key in connection.scan_iter(pattern):
            connection.delete(key)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def work_in_process(url: str) -> None:
    """Run the queued notify jobs here, in this test's transaction, as a burst worker would."""
    connection = Redis.from_url(url)
    SimpleWorker([Queue(QUEUE_NOTIFY, connection=connection)], connection=connection).work(burst=True)
    connection.close()


def use_redis(app, monkeypatch, url: str) -> None:
    monkeypatch.setitem(app.config, "REDIS_URL", url)
    app.extensions.pop("gongzhi.wechat", None)


def test_redis_outage_then_sweep_delivers_everything_exactly_once(app, fake_wechat, redis_url, monkeypatch):
    use_redis(app, monkeypatch, closed_port_url())
    users = [make_resident() for _ in range(5)]
    for user in users:
        grant(user)
        notify([user.id], "case.submitted", title="您的上报已提交", page="pages/case/detail?id=1",
               data={"status": "已提交"})
        uow.commit()  # the change commits even though the enqueue fails
    rows = db.session.scalars(select(Notification).where(Notification.user_id.in_([u.id for u in users]))).all()
    assert [r.status for r in rows] == [PENDING] * 5
    assert fake_wechat.state.subscribe_messages == []

    use_redis(app, monkeypatch, redis_url)
    # The first sweep after Redis is back: too young to re-enqueue by id (their own enqueue may be
    # on its way), but a pump is woken for them, so they go out now, with no new traffic.
    assert sweep_outbox() == 0
    uow.commit()
    queue = Queue(QUEUE_NOTIFY, connection=Redis.from_url(redis_url))
    assert [job.func_name for job in queue.jobs] == ["tasks.notify.pump_outbox"]
    work_in_process(redis_url)
    arrived = [m["touser"] for m in fake_wechat.state.subscribe_messages]
    assert sorted(arrived) == sorted(u.openid for u in users)
    for row in rows:
        db.session.refresh(row)
    assert [r.status for r in rows] == [SENT] * 5
    travel(timedelta(minutes=5))
    assert sweep_outbox() == 0
    work_in_process(redis_url)
    assert len(fake_wechat.state.subscribe_messages) == 5


def test_rq_retries_a_transient_failure_with_backoff(app, fake_wechat, redis_url, monkeypatch):
    use_redis(app, monkeypatch, redis_url)
    user = make_resident()
    grant(user)
    fake_wechat.fail_next("cgi-bin/message/subscribe/send", {"errcode": -1, "errmsg": "system busy"})
    [row] = notified([user.id], "case.dispatched", title="事件已派遣", page="pages/case/detail?id=2")
    uow.commit()
    connection = Redis.from_url(redis_url)
    queue = Queue(QUEUE_NOTIFY, connection=connection)
    work_in_process(redis_url)
    db.session.refresh(row)
    assert (row.status, row.attempts, row.errcode) == (PENDING, 1, -1)  # committed before rq's retry
    registry = queue.scheduled_job_registry
    [job_id] = registry.get_job_ids()
    job = Job.fetch(job_id, connection=connection)
    assert job.retries_left == 4
    delay = (registry.get_scheduled_time(job) - datetime.now(UTC)).total_seconds()
    assert 0 < delay <= 5
    registry.remove(job)  # the scheduler's turn, without waiting for it
    queue.enqueue_job(job)
    work_in_process(redis_url)
    db.session.refresh(row)
    assert (row.status, row.attempts) == (SENT, 2)
    assert len(messages_to(fake_wechat, user)) == 1
    connection.close()


def test_a_burst_of_units_of_work_queues_one_pump(app, fake_wechat, redis_url, monkeypatch):
    use_redis(app, monkeypatch, redis_url)
    users = [make_resident() for _ in range(50)]
    for user in users:
        grant(user)
    uow.commit()
    for user in users:  # 50 reports, each its own unit of work notifying one grid worker
        notify([user.id], "case.submitted", title="您的上报已提交", page="pages/case/detail?id=1",
               data={"status": "已提交"})
        uow.commit()
    connection = Redis.from_url(redis_url)
    queue = Queue(QUEUE_NOTIFY, connection=connection)
    assert [job.func_name for job in queue.get_jobs()] == ["tasks.notify.pump_outbox"]
    work_in_process(redis_url)
    [job_id] = queue.finished_job_registry.get_job_ids()
    assert Job.fetch(job_id, connection=connection).return_value()["sent"] == 50
    assert sorted(m["touser"] for m in fake_wechat.state.subscribe_messages) == sorted(u.openid for u in users)
    assert set(db.session.scalars(select(Notification.status).where(
        Notification.user_id.in_([u.id for u in users])))) == {SENT}
    # The pump released its nudge before it looked: the next notification queues the next pump.
    grant(users[0])
    notify([users[0].id], "case.accepted", title="已受理", page="pages/case/detail?id=1")
    uow.commit()
    assert queue.count == 1
    work_in_process(redis_url)
    assert len(fake_wechat.state.subscribe_messages) == 51
    connection.close()


def test_a_full_batch_wakes_a_second_pump_at_once(app, fake_wechat, redis_url, monkeypatch):
    use_redis(app, monkeypatch, redis_url)
    monkeypatch.setattr(notify_tasks, "BATCH_SIZE", 10)
    connection = Redis.from_url(redis_url)
    queue = Queue(QUEUE_NOTIFY, connection=connection)
    waiting = []
    run_all = delivery._run_all

    def sending(attempts, pool_size, record):
        waiting.append([job.func_name for job in queue.get_jobs()])  # what waits while WeChat is called
        return run_all(attempts, pool_size, record)

    monkeypatch.setattr(delivery, "_run_all", sending)
    users = [make_resident() for _ in range(25)]
    for user in users:
        grant(user)
    notify([u.id for u in users], "case.accepted", title="已受理", page="pages/case/detail?id=6")
    uow.commit()
    work_in_process(redis_url)
    # The first batch was full: a second pump was queued before its calls (another worker would take it).
    assert waiting[0] == ["tasks.notify.pump_outbox"]
    assert sorted(m["touser"] for m in fake_wechat.state.subscribe_messages) == sorted(u.openid for u in users)
    assert len(queue.finished_job_registry.get_job_ids()) == 2  # the second found nothing left
    connection.close()


def test_a_transient_failure_in_a_pump_is_retried_by_deliver_batch_not_by_the_pump(
        app, fake_wechat, redis_url, monkeypatch):
    use_redis(app, monkeypatch, redis_url)
    user = make_resident()
    grant(user)
    fake_wechat.fail_next("cgi-bin/message/subscribe/send", *[{"errcode": -1, "errmsg": "system busy"}] * 6)
    [row] = notified([user.id], "case.dispatched", title="事件已派遣", page="pages/case/detail?id=2")
    uow.commit()
    connection = Redis.from_url(redis_url)
    queue = Queue(QUEUE_NOTIFY, connection=connection)
    registry = queue.scheduled_job_registry
    work_in_process(redis_url)
    # The pump committed what went out and ended well: rq has nothing of the pump's to run again.
    [pump_id] = queue.finished_job_registry.get_job_ids()
    assert Job.fetch(pump_id, connection=connection).func_name == "tasks.notify.pump_outbox"
    assert queue.failed_job_registry.get_job_ids() == []
    db.session.refresh(row)
    assert (row.status, row.attempts) == (PENDING, 1)
    [job_id] = registry.get_job_ids()
    job = Job.fetch(job_id, connection=connection)
    assert (job.func_name, job.args) == ("tasks.notify.deliver_batch", ([row.id],))
    assert (job.retries_left, job.retry_intervals) == (len(delivery.BACKOFF) - 1, list(delivery.BACKOFF[1:]))
    delay = (registry.get_scheduled_time(job) - datetime.now(UTC)).total_seconds()
    assert delivery.BACKOFF[0] - 2 < delay <= delivery.BACKOFF[0]
    runs = 0
    while registry.get_job_ids():  # the scheduler's turns, without waiting for them
        [job_id] = registry.get_job_ids()
        assert job_id == job.id  # the same deliver_batch, retried by rq
        registry.remove(job_id)
        queue.enqueue_job(Job.fetch(job_id, connection=connection))
        work_in_process(redis_url)
        runs += 1
    db.session.refresh(row)
    assert (row.status, row.errcode, row.attempts) == (FAILED, -1, delivery.MAX_ATTEMPTS)
    assert runs == delivery.MAX_ATTEMPTS - 1
    assert fake_wechat.state.calls["cgi-bin/message/subscribe/send"] == 1 + runs
    assert [Job.fetch(i, connection=connection).func_name for i in queue.finished_job_registry.get_job_ids()
            ].count("tasks.notify.pump_outbox") == 1
    assert fake_wechat.state.subscribe_messages == [] and remaining(user) == 1
    connection.close()


def _seed_file_database(url: str, count: int) -> tuple[list[int], list[str]]:
    engine = create_engine(url)
    db.metadata.create_all(engine)
    with Session(engine) as session:
        users = [User(openid=f"o_proc_{secrets.token_hex(5)}", display_name="居民") for _ in range(count)]
        session.add_all(users)
        session.flush()
        session.add_all(SubscriptionQuota(user_id=u.id, template_key="case_progress", remaining=1) for u in users)
        rows = [Notification(user_id=u.id, kind="case.handled", title="您上报的事件已处置", body="请查看处置结果",
                             page="pages/case/detail?id=9", data={"status": "已处置"}) for u in users]
        session.add_all(rows)
        session.commit()
        ids, openids = [r.id for r in rows], [u.openid for u in users]
    engine.dispose()
    return ids, openids


def worker_env(database_url: str, redis: str, fake_wechat, workdir: Path) -> dict:
    return os.environ | {
        "DATABASE_URL": database_url, "REDIS_URL": redis, "WECHAT_APPID": APPID, "WECHAT_SECRET": SECRET,
        "WECHAT_API_BASE_URL": fake_wechat.base_url, "INSTANCE_DIR": str(workdir),
        "MEDIA_DIR": str(workdir / "media"), "PYTHONPATH": str(ROOT)}


@pytest.mark.parametrize("worker_class", [None, "tasks.worker.AppWorker"])
def test_a_real_rq_worker_process_delivers(fake_wechat, redis_url, tmp_path, worker_class):
    url = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    ids, openids = _seed_file_database(url, 30)
    queue = Queue(QUEUE_NOTIFY, connection=Redis.from_url(redis_url))
    queue.enqueue("tasks.notify.deliver_batch", ids[:20], retry=RETRY)
    queue.enqueue("tasks.notify.deliver_batch", ids[10:], retry=RETRY)  # overlaps: still once each
    command = [RQ, "worker", "--burst", QUEUE_NOTIFY, "--url", redis_url] + (["-w", worker_class] if worker_class else [])
    done = subprocess.run(command, env=worker_env(url, redis_url, fake_wechat, tmp_path), cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert sorted(m["touser"] for m in fake_wechat.state.subscribe_messages) == sorted(openids)
    engine = create_engine(url)
    with engine.connect() as conn:
        statuses = conn.execute(text("SELECT status FROM notifications")).scalars().all()
    engine.dispose()
    assert statuses == [SENT] * 30


def test_rq_cron_starts_and_queues_the_outbox_sweep(redis_url, tmp_path, fake_wechat):
    connection = Redis.from_url(redis_url)
    queue = Queue(QUEUE_NOTIFY, connection=connection)
    env = worker_env(f"sqlite:///{tmp_path / 'cron.sqlite3'}", redis_url, fake_wechat, tmp_path)
    proc = subprocess.Popen([RQ, "cron", "tasks/cron_config.py", "--url", redis_url], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        names = []
        while time.monotonic() < deadline and "tasks.notify.sweep_outbox" not in names:
            time.sleep(0.2)
            assert proc.poll() is None, proc.stdout.read()
            names = [job.func_name for job in queue.get_jobs()]
        assert "tasks.notify.sweep_outbox" in names
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
        connection.close()


def pending_notices(app, count: int, case_id: int) -> tuple[list[int], list[str]]:
    """`count` residents with quota and one committed pending notification each, delivery not queued:
    the ids of the rows and the residents' openids."""
    with app.app_context():
        users = [make_resident() for _ in range(count)]
        for user in users:
            grant(user)
        ids = notify([u.id for u in users], "case.accepted", title="已受理", page=f"pages/case/detail?id={case_id}")
        openids = [u.openid for u in users]
        jobs.discard_pending()
        db.session.commit()
        db.session.remove()
    return ids, openids


# -- on PostgreSQL, with real concurrency ----------------------------------------------------------

@pytest.mark.postgres
def test_concurrent_deliveries_of_the_same_rows_send_once(app, fake_wechat):
    ids, openids = pending_notices(app, 40, case_id=3)

    def run():
        with app.app_context():
            deliver_batch(ids)
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    arrived = [m["touser"] for m in fake_wechat.state.subscribe_messages]
    assert sorted(arrived) == sorted(openids)
    with app.app_context():
        assert set(db.session.scalars(select(Notification.status).where(Notification.id.in_(ids)))) == {SENT}
        assert set(db.session.scalars(select(SubscriptionQuota.remaining))) == {0}
        db.session.remove()


@pytest.mark.postgres
def test_two_real_workers_on_postgres_deliver_each_row_once(app, fake_wechat, redis_url, tmp_path):
    ids, openids = pending_notices(app, 600, case_id=4)
    queue = Queue(QUEUE_NOTIFY, connection=Redis.from_url(redis_url))
    for _ in range(2):  # every batch queued twice, as a sweep racing the first enqueue would
        for start in range(0, len(ids), 200):
            queue.enqueue("tasks.notify.deliver_batch", ids[start:start + 200], retry=RETRY)
    env = worker_env(os.environ["DATABASE_URL"], redis_url, fake_wechat, tmp_path)
    command = [RQ, "worker", "--burst", "-w", "tasks.worker.AppWorker", QUEUE_NOTIFY, "--url", redis_url]
    workers = [subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True) for _ in range(2)]
    outputs = []
    try:
        outputs = [worker.communicate(timeout=180)[0] for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    assert [w.returncode for w in workers] == [0, 0], outputs
    arrived = [m["touser"] for m in fake_wechat.state.subscribe_messages]
    assert len(arrived) == 600 and sorted(arrived) == sorted(openids)


@pytest.mark.postgres
def test_two_pumps_at_once_take_disjoint_rows(app, fake_wechat, monkeypatch):
    ids, openids = pending_notices(app, 600, case_id=5)
    monkeypatch.setattr(fake_wechat.state, "latency", 0.05)  # both pumps are mid-batch at the same time
    taken: dict[str, list[int]] = {}
    lock_pending = delivery._lock_pending

    def recorded(*args, **kwargs):
        locked = lock_pending(*args, **kwargs)
        taken.setdefault(threading.current_thread().name, []).extend(r.id for r in locked)
        return locked

    monkeypatch.setattr(delivery, "_lock_pending", recorded)
    start, results = threading.Barrier(2), {}

    def run():
        with app.app_context():
            start.wait()
            results[threading.current_thread().name] = pump_outbox()
            db.session.remove()

    threads = [threading.Thread(target=run, name=f"pump{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    first, second = taken.values()
    assert first and second and not set(first) & set(second)  # both worked, on different rows
    assert sorted(first + second) == ids
    assert sum(r["sent"] for r in results.values()) == 600
    arrived = [m["touser"] for m in fake_wechat.state.subscribe_messages]
    assert len(arrived) == 600 and sorted(arrived) == sorted(openids)
    with app.app_context():
        assert set(db.session.scalars(select(Notification.status).where(Notification.id.in_(ids)))) == {SENT}
        db.session.remove()


@pytest.mark.postgres
def test_a_burst_of_reports_wakes_a_handful_of_pumps_on_real_workers(app, fake_wechat, redis_url, tmp_path,
                                                                     monkeypatch):
    with app.app_context():
        users = [make_resident() for _ in range(50)]
        for user in users:
            grant(user)
        user_ids, openids = [u.id for u in users], [u.openid for u in users]
        db.session.commit()
        db.session.remove()
    monkeypatch.setattr(fake_wechat.state, "latency", 0.2)
    connection = Redis.from_url(redis_url)
    env = worker_env(os.environ["DATABASE_URL"], redis_url, fake_wechat, tmp_path)
    names = [f"burst-{i}-{secrets.token_hex(4)}" for i in range(2)]  # not the workers other tests left behind
    logs = [open(tmp_path / f"{name}.log", "w") for name in names]  # noqa: SIM115 - closed in finally
    workers = [subprocess.Popen([RQ, "worker", "-w", "tasks.worker.AppWorker", "--name", name, QUEUE_NOTIFY,
                                 "--url", redis_url], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
               for name, log in zip(names, logs, strict=True)]
    use_redis(app, monkeypatch, redis_url)
    try:
        deadline = time.monotonic() + 30
        while [w.get_state() for w in Worker.all(connection=connection) if w.name in names] != ["idle", "idle"]:
            assert time.monotonic() < deadline and all(w.poll() is None for w in workers)  # ready: app built
            time.sleep(0.05)
        for user_id in user_ids:  # 50 reports, each a request of its own
            with app.app_context():
                notify([user_id], "case.submitted", title="您的上报已提交", page="pages/case/detail?id=1",
                       data={"status": "已提交"})
                uow.commit()
        while len(fake_wechat.state.subscribe_messages) < 50 or Queue(QUEUE_NOTIFY, connection=connection).count:
            assert time.monotonic() < deadline, [(tmp_path / f"{name}.log").read_text() for name in names]
            time.sleep(0.05)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        for log in logs:
            log.close()
    queue = Queue(QUEUE_NOTIFY, connection=connection)
    jobs = [Job.fetch(i, connection=connection) for i in queue.finished_job_registry.get_job_ids()]
    assert queue.failed_job_registry.get_job_ids() == []
    assert {job.func_name for job in jobs} == {"tasks.notify.pump_outbox"}
    assert len(jobs) <= 10  # one job per report would be 50
    arrived = [m["touser"] for m in fake_wechat.state.subscribe_messages]
    assert len(arrived) == 50 and sorted(arrived) == sorted(openids)
    connection.close()


def test_a_worker_killed_mid_send_sends_nothing_twice(fake_wechat, redis_url, tmp_path):
    """SIGKILL the worker while WeChat is answering: the batch runs in the worker process itself,
    so the whole worker dies. Its job, run again, and the sweep must not send a second time."""
    url = f"sqlite:///{tmp_path / 'killed.sqlite3'}"
    ids, openids = _seed_file_database(url, 1)
    fake_wechat.fail_next("cgi-bin/message/subscribe/send", {"sleep": 3})  # slow answer: time to kill
    queue = Queue(QUEUE_NOTIFY, connection=Redis.from_url(redis_url))
    env = worker_env(url, redis_url, fake_wechat, tmp_path) | {"NOTIFY_IN_FLIGHT_SECONDS": "1"}
    log_file = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - closed in finally, after the worker
    worker = subprocess.Popen([RQ, "worker", "-w", "tasks.worker.AppWorker", QUEUE_NOTIFY, "--url", redis_url],
                              env=env, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        queue.enqueue("tasks.notify.deliver_batch", ids, retry=RETRY)
        while fake_wechat.state.calls["cgi-bin/message/subscribe/send"] == 0:
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.05)
        os.killpg(worker.pid, signal.SIGKILL)  # the worker, its scheduler, everything
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
        log_file.close()
    # The same batch again, as rq's retry of the abandoned job or the sweep's re-enqueue would run it.
    queue.enqueue("tasks.notify.deliver_batch", ids, retry=RETRY)
    again = subprocess.run([RQ, "worker", "--burst", "-w", "tasks.worker.AppWorker", QUEUE_NOTIFY, "--url", redis_url],
                           env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    time.sleep(3.5)  # the killed call's answer still completes on WeChat's side
    assert [m["touser"] for m in fake_wechat.state.subscribe_messages] == openids
    # The restarted worker marked the in-flight row unknown instead of sending it a second time;
    # the sweep leaves it so.
    sweep = subprocess.run([str(Path(RQ).parent / "flask"), "--app", "wsgi", "run-periodic", "--only", "sweep_outbox"],
                           env=env | {"REDIS_URL": ""}, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert sweep.returncode == 0, sweep.stderr
    engine = create_engine(url)
    with engine.connect() as conn:
        status, error = conn.execute(text("SELECT status, error FROM notifications")).one()
    engine.dispose()
    assert status == UNKNOWN and "发送结果未知" in error
    assert len(fake_wechat.state.subscribe_messages) == 1


def test_the_app_worker_runs_notify_batches_itself_and_forks_for_other_jobs(redis_url, tmp_path, fake_wechat):
    connection = Redis.from_url(redis_url)
    inline = Queue(QUEUE_NOTIFY, connection=connection).enqueue("os.getpid")
    forked = Queue("default", connection=connection).enqueue("os.getpid")
    env = worker_env(f"sqlite:///{tmp_path / 'pids.sqlite3'}", redis_url, fake_wechat, tmp_path)
    worker = subprocess.Popen([RQ, "worker", "--burst", "-w", "tasks.worker.AppWorker", QUEUE_NOTIFY, "default",
                               "--url", redis_url], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    output = worker.communicate(timeout=120)[0]
    assert worker.returncode == 0, output
    inline.refresh()
    forked.refresh()
    assert inline.return_value() == worker.pid  # no fork, no new connections per batch
    assert forked.return_value() not in (None, worker.pid)
