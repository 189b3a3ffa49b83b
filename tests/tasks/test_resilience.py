"""Redis goes away, workers are killed, the token expires under a burst: as an operator meets them.

These tests run their own throwaway redis-server (never the machine's shared one) so that they
can stop it and start it again. Without redis-server they skip, except under CI=true.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import create_engine, select, text

from app import jobs
from app.core import uow
from app.extensions import db
from app.jobs import QUEUE_NOTIFY
from app.notifications.models import PENDING, SENT, UNKNOWN, Notification
from app.wechat.gateway import WeChatGateway
from tasks.notify import RETRY, sweep_outbox
from tests.conftest import IN_CI
from tests.fake_wechat import APPID, SECRET
from tests.tasks.test_notify import ROOT, RQ, _seed_file_database, grant, make_resident, worker_env

REDIS_SERVER = shutil.which("redis-server")


class ThrowawayRedis:
    """A redis-server of this test's own, on a free port, that the test may stop and start."""

    def __init__(self, workdir: Path):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    def start(self) -> ThrowawayRedis:
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
                return self
            except Exception:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def connection(self) -> Redis:
        return Redis.from_url(self.url)


@pytest.fixture
def throwaway_redis(tmp_path):
    if REDIS_SERVER is None:
        if IN_CI:
            pytest.fail("CI=true requires redis-server (apt-get install redis-server)")
        pytest.skip("needs redis-server")
    redis = ThrowawayRedis(tmp_path).start()
    yield redis
    redis.stop()


def use_redis(app, monkeypatch, url: str) -> None:
    """Point the app at `url`, as a process that starts now would be (nothing remembered of Redis)."""
    monkeypatch.setitem(app.config, "REDIS_URL", url)
    app.extensions.pop("gongzhi.wechat", None)
    app.extensions.pop("gongzhi.redis", None)
    jobs._redis_down_until.clear()


def token_calls(fake_wechat) -> int:
    return fake_wechat.state.calls["cgi-bin/stable_token"]


# -- residents, while Redis is away -------------------------------------------------------------

def test_residents_get_answers_while_redis_is_down_and_notifications_go_out_after(
        app, client, login, fake_wechat, throwaway_redis, monkeypatch):
    from app.areas.models import Place
    from app.cases.models import Category
    from app.codes.models import Code

    use_redis(app, monkeypatch, throwaway_redis.url)
    place = db.session.scalar(select(Place).where(Place.name == "东城小区1号楼"))
    category = db.session.scalar(select(Category).limit(1))
    scene = db.session.scalar(select(Code.scene).where(Code.place_id == place.id, Code.active.is_(True)))

    def report(api):
        res = api.post("/cases", json={"place_id": place.id, "category_id": category.id,
                                       "description": "楼道里堆了很多杂物，影响通行。"})
        assert res.status_code == 201, res.get_json()
        return res.get_json()

    resident = login.resident()
    report(resident)
    assert token_calls(fake_wechat) == 1  # msgSecCheck fetched the token; Redis holds it

    throwaway_redis.stop()
    started = time.monotonic()
    # Login needs no token at all; a report's content check uses this process's copy of it.
    second_resident = login.resident()
    case = report(second_resident)
    message = second_resident.post("/messages", json={"scene": scene, "to_role": "grid_worker",
                                                      "body": "3单元楼道灯坏了一周了。"})
    assert message.status_code == 201, message.get_json()
    assert second_resident.get(f"/scan/{scene}").status_code == 200
    assert second_resident.get("/me").status_code == 200
    assert token_calls(fake_wechat) == 1
    assert [c["content"][:5] for c in fake_wechat.state.sec_checks[-2:]] == ["楼道里堆了", "3单元楼道"]
    # A process that starts during the outage fetches a stable token of its own (invalidating nobody's).
    app.extensions.pop("gongzhi.wechat", None)
    report(resident)
    assert token_calls(fake_wechat) == 2
    assert time.monotonic() - started < 10  # no request waited on Redis for long
    assert case["id"]

    # What they caused waits in the outbox, committed; once Redis is back the first sweep sends it.
    waiting = db.session.scalar(select(Notification.id).where(Notification.status == PENDING).limit(1))
    assert waiting is not None
    throwaway_redis.start()
    use_redis(app, monkeypatch, throwaway_redis.url)
    sweep_outbox()
    uow.commit()
    assert Queue(QUEUE_NOTIFY, connection=throwaway_redis.connection()).count >= 1


# -- one token fetch per burst -------------------------------------------------------------------

def _burst(gateways, per_gateway: int, openid: str) -> None:
    errors = []

    def check(gateway):
        try:
            gateway.msg_sec_check(openid, "今天小区门口的路灯亮了", scene=2)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=check, args=(g,)) for g in gateways for _ in range(per_gateway)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []


def _gateway(app, fake_wechat, redis=None) -> WeChatGateway:
    config = dict(app.config) | {"WECHAT_APPID": APPID, "WECHAT_SECRET": SECRET, "WECHAT_CONSOLE_MODE": False,
                                 "WECHAT_API_BASE_URL": fake_wechat.base_url}
    return WeChatGateway(config, redis)


def test_a_burst_with_no_token_stored_fetches_one_across_processes(app, fake_wechat, throwaway_redis):
    # Two "processes" (gateways with their own clients and copies) sharing one Redis.
    gateways = [_gateway(app, fake_wechat, throwaway_redis.connection()) for _ in range(2)]
    fake_wechat.fail_next("cgi-bin/stable_token", {"sleep": 0.5})  # a slow fetch: everyone arrives meanwhile
    _burst(gateways, 8, "o_burst")
    assert token_calls(fake_wechat) == 1
    assert len(fake_wechat.state.sec_checks) == 16


def test_a_burst_while_redis_is_down_fetches_one_per_process(app, fake_wechat, throwaway_redis):
    throwaway_redis.stop()
    gateway = _gateway(app, fake_wechat, throwaway_redis.connection())
    fake_wechat.fail_next("cgi-bin/stable_token", {"sleep": 0.5})
    _burst([gateway], 16, "o_burst")
    assert token_calls(fake_wechat) == 1
    assert len(fake_wechat.state.sec_checks) == 16


# -- processes outlive Redis -----------------------------------------------------------------------

def test_the_clock_outlives_a_redis_outage_and_ticks_as_soon_as_it_is_back(throwaway_redis, tmp_path, fake_wechat):
    env = worker_env(f"sqlite:///{tmp_path / 'cron.sqlite3'}", throwaway_redis.url, fake_wechat, tmp_path)
    log = open(tmp_path / "cron.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "tasks.cron", "--url", throwaway_redis.url], env=env, cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT)
    queue = Queue(QUEUE_NOTIFY, connection=throwaway_redis.connection())
    try:
        deadline = time.monotonic() + 30
        while "tasks.notify.sweep_outbox" not in [j.func_name for j in queue.jobs]:
            assert time.monotonic() < deadline, (tmp_path / "cron.log").read_text()
            time.sleep(0.1)
        throwaway_redis.stop()  # its data goes with it: the clock must register again
        time.sleep(7)
        assert proc.poll() is None, (tmp_path / "cron.log").read_text()
        throwaway_redis.start()
        connection = throwaway_redis.connection()
        deadline = time.monotonic() + 15
        while not connection.zcard("rq:cron_schedulers"):
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "cron.log").read_text()
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
    assert "Redis unreachable" in (tmp_path / "cron.log").read_text()


def test_the_shipped_process_configuration_restarts_and_names_redis():
    units = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
    assert {u.name for u in units} >= {"gongzhi-web.service", "gongzhi-worker@.service", "gongzhi-cron.service"}
    for unit in units:
        body = unit.read_text()
        assert "Restart=always" in body and "RestartSec=1" in body and "StartLimitIntervalSec=0" in body, unit
        if "worker" in unit.name or "cron" in unit.name:
            assert '--url "${REDIS_URL}"' in body, unit
    readme = (ROOT / "README.md").read_text()
    assert 'rq worker --url "$REDIS_URL"' in readme and 'python -m tasks.cron --url "$REDIS_URL"' in readme


# -- a killed worker spends no consent for nothing -------------------------------------------------

def test_a_worker_killed_mid_batch_puts_back_what_it_never_started(fake_wechat, tmp_path):
    """40 consented messages, WeChat slow, 4 calls at a time; SIGKILL once a few went out. The restarted
    worker sends every row that was never started, the few in flight become unknown, none is sent twice."""
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        if IN_CI:
            pytest.fail("CI=true requires TEST_REDIS_URL")
        pytest.skip("needs Redis: set TEST_REDIS_URL")
    connection = Redis.from_url(redis_url)
    queue = Queue(QUEUE_NOTIFY, connection=connection)
    queue.empty()
    url = f"sqlite:///{tmp_path / 'killed-batch.sqlite3'}"
    ids, openids = _seed_file_database(url, 40)
    env = worker_env(url, redis_url, fake_wechat, tmp_path) | {"NOTIFY_POOL_SIZE": "4"}
    log_file = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - closed in finally
    fake_wechat.state.latency = 0.4
    try:
        worker = subprocess.Popen([RQ, "worker", "-w", "tasks.worker.AppWorker", QUEUE_NOTIFY, "--url", redis_url],
                                  env=env, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        try:
            queue.enqueue("tasks.notify.deliver_batch", ids, retry=RETRY)
            deadline = time.monotonic() + 60
            while len(fake_wechat.state.subscribe_messages) < 6:
                assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
                time.sleep(0.02)
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=30)
        time.sleep(1)  # the calls in flight at the kill complete on WeChat's side
        engine = create_engine(url)
        with engine.connect() as conn:
            left = dict(conn.execute(text("SELECT status, count(*) FROM notifications GROUP BY status")).all())
        assert left.get("taken", 0) > 0  # taken by the batch, never started: the old code spent these
        assert left.get("sending", 0) <= 4
        # The worker is started again (as systemd does): it puts the untouched rows back and sends them.
        again = subprocess.run([RQ, "worker", "--burst", "-w", "tasks.worker.AppWorker", QUEUE_NOTIFY,
                                "--url", redis_url], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
    finally:
        fake_wechat.state.latency = 0.0
        log_file.close()
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT n.status, u.openid FROM notifications n JOIN users u ON u.id = n.user_id")
                            ).all()
        quota = dict(conn.execute(text("SELECT u.openid, q.remaining FROM subscription_quotas q "
                                       "JOIN users u ON u.id = q.user_id")).all())
    engine.dispose()
    arrived = [m["touser"] for m in fake_wechat.state.subscribe_messages]
    assert len(arrived) == len(set(arrived))  # nobody got a message twice
    statuses = {openid: status for status, openid in rows}
    assert set(statuses.values()) <= {SENT, UNKNOWN}
    unknown = [o for o, s in statuses.items() if s == UNKNOWN]
    assert len(unknown) <= 4
    assert {o for o, s in statuses.items() if s == SENT} <= set(arrived)
    assert len(arrived) >= 40 - len(unknown)
    assert all(quota[o] == 0 for o in openids)  # every unit spent on a message that went (or may have gone) out
    connection.close()


def test_recovery_gives_back_units_of_rows_never_started_and_marks_calls_in_flight_unknown(app, fake_wechat):
    from app.notifications import delivery
    from app.notifications.models import SENDING, TAKEN, SubscriptionQuota
    from app.notifications.service import notify

    users = [make_resident() for _ in range(2)]
    for user in users:
        grant(user)
    ids = [notify([u.id], "case.accepted", title="您上报的事件已受理", page="pages/case/detail?id=1",
                  data={"status": "已受理"})[0] for u in users]
    db.session.flush()
    dead = f"{socket.gethostname()}:999999:1"  # a process of this host that does not run
    for i, status in zip(ids, (TAKEN, SENDING), strict=True):
        row = db.session.get(Notification, i)
        row.status, row.channel, row.taken_by = status, "subscribe", dead
        db.session.execute(SubscriptionQuota.__table__.update().where(
            SubscriptionQuota.user_id == row.user_id).values(remaining=0))
    db.session.flush()
    assert delivery.recover_abandoned() == {"released": 1, "unknown": 1}
    taken, sending = (db.session.get(Notification, i) for i in ids)
    assert taken.status == PENDING and sending.status == UNKNOWN and "发送结果未知" in sending.error
    remaining = dict(db.session.execute(select(SubscriptionQuota.user_id, SubscriptionQuota.remaining)).all())
    assert remaining[users[0].id] == 1 and remaining[users[1].id] == 0
    stats = delivery.delivery_stats(by_status=True)
    assert stats["unknown"] == 1 and stats["by_status"][UNKNOWN] == 1
    # A row of a live process is left alone while its call may still be running.
    from app.core.time import utcnow

    row = db.session.get(Notification, ids[0])
    row.status, row.taken_by = SENDING, delivery.this_process()
    delivery._log(row, "subscribe", TAKEN, None, None, None, utcnow() + timedelta(minutes=10))
    db.session.flush()
    assert delivery.recover_abandoned() == {"released": 0, "unknown": 0}


def test_an_idle_worker_outlives_redis_and_restarts_its_scheduler_at_once(throwaway_redis, tmp_path, fake_wechat):
    env = worker_env(f"sqlite:///{tmp_path / 'idle.sqlite3'}", throwaway_redis.url, fake_wechat, tmp_path)
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - closed below
    worker = subprocess.Popen([RQ, "worker", "-w", "tasks.worker.AppWorker", QUEUE_NOTIFY, "--url",
                               throwaway_redis.url], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    lock = f"rq:scheduler-lock:{QUEUE_NOTIFY}"

    def wait_for_lock(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not throwaway_redis.connection().exists(lock):
            assert worker.poll() is None and time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.2)

    try:
        wait_for_lock(30)
        throwaway_redis.stop()
        time.sleep(6)  # rq's scheduler process dies of it; the worker waits
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()
        throwaway_redis.start()  # empty: the scheduler must take its lock again
        wait_for_lock(30)  # rq alone: at its next maintenance, up to 10 minutes later
        # A delayed retry put in the scheduled registry now is enqueued by the revived scheduler.
        from datetime import timedelta as td

        queue = Queue(QUEUE_NOTIFY, connection=throwaway_redis.connection())
        job = queue.enqueue_in(td(seconds=1), "os.getpid")
        deadline = time.monotonic() + 20
        while job.get_status(refresh=True) not in ("finished", "failed"):
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.2)
        assert job.get_status() == "finished"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        log.close()


def test_healthz_and_doctor_report_the_outbox_and_the_clock(app, client, fake_wechat):
    from click.testing import CliRunner

    from app.core.time import travel
    from app.notifications import delivery
    from app.notifications.models import SENDING, TAKEN
    from app.notifications.service import notify

    body = client.get("/healthz").get_json()
    assert body["periodic"]["ok"] is False and body["status"] == "degraded"
    assert any("定时任务" in w for w in body["warnings"])
    user = make_resident()
    [first, second] = [notify([user.id], "case.accepted", title="已受理", page="pages/case/detail?id=1")[0]
                       for _ in range(2)]
    db.session.flush()
    row = db.session.get(Notification, second)
    row.status, row.taken_by = SENDING, f"{socket.gethostname()}:999999:1"
    db.session.add(delivery.DeliveryLog(notification_id=row.id, channel="subscribe", outcome=TAKEN,
                                        retry_at=delivery.utcnow() + timedelta(seconds=1)))
    delivery.record_tick("sweep_outbox")
    db.session.flush()
    travel(timedelta(seconds=400))
    res = client.get("/healthz")
    assert res.status_code == 200
    body = res.get_json()
    assert body["notifications"]["oldest_pending_seconds"] >= 400
    assert body["notifications"]["stuck_in_flight"] == 1 and body["notifications"]["sending"] == 1
    assert body["periodic"]["ok"] is False and body["periodic"]["seconds_ago"] >= 400
    assert body["status"] == "degraded" and len(body["warnings"]) == 3
    out = CliRunner().invoke(app.cli, ["doctor"], catch_exceptions=False)
    assert out.exit_code == 1
    assert "停滞：1" in out.output and "最早待发通知已等待" in out.output and "定时任务" in out.output
    # The sweep settles the stuck row (unknown: never sent again) and records its tick.
    sweep_outbox()
    db.session.flush()
    body = client.get("/healthz").get_json()
    assert body["periodic"]["ok"] is True
    assert body["notifications"]["stuck_in_flight"] == 0 and body["notifications"]["unknown"] == 1
    assert db.session.get(Notification, first).status != PENDING  # and the late one was handed to a pump


def test_a_worker_puts_off_its_maintenance_while_redis_is_away(throwaway_redis):
    """rq quits when Redis fails in the suspension check or the registry clean-up (at start and every
    10 minutes); AppWorker carries on to the dequeue, which waits for Redis."""
    from redis.exceptions import RedisError
    from rq.worker import Worker

    from tasks.worker import AppWorker

    plain = Worker([QUEUE_NOTIFY], connection=throwaway_redis.connection())
    worker = AppWorker([QUEUE_NOTIFY], connection=throwaway_redis.connection())
    throwaway_redis.stop()
    with pytest.raises(RedisError):
        plain.run_maintenance_tasks()
    worker.run_maintenance_tasks()
    worker.check_for_suspension(False)
    assert worker.last_cleaned_at is None  # put off, not done: the next loop runs it again
