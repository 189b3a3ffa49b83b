"""Fan-out benchmark: N subscribe messages through real rq workers on real Redis and PostgreSQL.

The fake WeChat server (tests/fake_wechat.py) runs in this process with a fixed latency per
call. The workers are real `rq worker -w tasks.worker.AppWorker notify` processes. The run
counts what reached the fake server: lost (a user who got nothing) and sent twice (a user who
got more than one) must both be 0. It stops by itself: after the last delivery or --timeout.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/gz_notify_bench REDIS_URL=redis://127.0.0.1:6379/14 \
        .venv/bin/python bench/notify_fanout.py --messages 10000 --workers 2 --latency 0.05
"""
from __future__ import annotations

import argparse
import collections
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the fake WeChat takes per call")
    parser.add_argument("--timeout", type=float, default=600, help="give up after this many seconds")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql") or not args.redis_url:
        parser.error("needs PostgreSQL (DATABASE_URL / --database-url) and Redis (REDIS_URL / --redis-url)")

    from redis import Redis
    from rq import Queue, Worker
    from rq.job import Job
    from sqlalchemy import func, insert, select

    from app import create_app
    from app.accounts.models import User
    from app.core import uow
    from app.extensions import db
    from app.jobs import QUEUE_NOTIFY
    from app.notifications.models import PENDING, SENDING, Notification, SubscriptionQuota
    from app.notifications.service import notify
    from tests.fake_wechat import APPID, SECRET, FakeWeChat

    _ensure_database(args.database_url)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one log line per fake call would cost GIL time
    fake = FakeWeChat().start()
    fake.state.latency = args.latency
    redis = Redis.from_url(args.redis_url)
    queue = Queue(QUEUE_NOTIFY, connection=redis)
    queue.empty()
    for registry in (queue.finished_job_registry, queue.failed_job_registry):
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)
    for key in redis.scan_iter("gongzhi:wechat*"):
        redis.delete(key)
    workdir = Path(tempfile.mkdtemp(prefix="gz-bench-"))
    settings = {"DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url, "WECHAT_APPID": APPID,
                "WECHAT_SECRET": SECRET, "WECHAT_API_BASE_URL": fake.base_url, "INSTANCE_DIR": str(workdir),
                "MEDIA_DIR": str(workdir / "media")}
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url, "REDIS_URL": args.redis_url,
                      "WECHAT_APPID": APPID, "WECHAT_SECRET": SECRET, "WECHAT_API_BASE_URL": fake.base_url,
                      "INSTANCE_DIR": str(workdir), "MEDIA_DIR": str(workdir / "media")})

    with app.app_context():
        db.drop_all()
        db.create_all()
        stamp = int(time.time())
        db.session.execute(insert(User), [{"openid": f"o_bench_{stamp}_{i}", "display_name": f"居民{i}"}
                                          for i in range(args.messages)])
        user_ids = list(db.session.scalars(select(User.id).order_by(User.id)))
        db.session.execute(insert(SubscriptionQuota), [{"user_id": uid, "template_key": "case_progress",
                                                        "remaining": 1} for uid in user_ids])
        db.session.commit()
        openids = set(db.session.scalars(select(User.openid)))

    env = os.environ | settings | {"PYTHONPATH": str(ROOT)}
    command = [str(ROOT / ".venv" / "bin" / "rq"), "worker", "-w", "tasks.worker.AppWorker", "-q",
               QUEUE_NOTIFY, "--url", args.redis_url]
    # Worker logs go to files: an unread pipe would fill up and block a worker mid-job.
    logs = [open(workdir / f"worker{i}.log", "w") for i in range(args.workers)]  # noqa: SIM115
    workers = [subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
               for log in logs]
    try:
        deadline = time.monotonic() + 60
        while len(Worker.all(connection=redis)) < args.workers:
            if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
                raise SystemExit("workers did not start")
            time.sleep(0.2)

        with app.app_context():
            started = time.monotonic()
            notify(user_ids, "case.accepted", title="您上报的事件已受理", body="社区已受理，将尽快派单处置。",
                   page="pages/case/detail?id=1", data={"status": "已受理", "tracking_no": "QY-BENCH"})
            uow.commit()
            queued = time.monotonic()
            deadline = started + args.timeout
            pending = args.messages
            while pending and time.monotonic() < deadline:
                time.sleep(0.2)
                # `sending` rows are in flight: not delivered until their job has recorded the answer.
                pending = db.session.scalar(select(func.count()).where(Notification.status.in_((PENDING, SENDING))))
                db.session.rollback()
            finished = time.monotonic()
            statuses = dict(db.session.execute(
                select(Notification.status, func.count()).group_by(Notification.status)).all())
        jobs = queue.finished_job_registry.get_job_ids()
        durations = sorted((j.ended_at - j.started_at).total_seconds()
                           for j in Job.fetch_many(jobs, connection=redis) if j and j.ended_at and j.started_at)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        for log in logs:
            log.close()
        fake.stop()

    received = collections.Counter(m["touser"] for m in fake.state.subscribe_messages)
    lost = len(openids - set(received))
    twice = sum(1 for count in received.values() if count > 1)
    total = finished - started
    report = [
        ("messages", f"{args.messages}"),
        ("workers", f"{args.workers} × pool {app.config['NOTIFY_POOL_SIZE']}"),
        ("fake latency", f"{args.latency * 1000:.0f} ms per WeChat call"),
        ("notify+enqueue", f"{queued - started:.2f} s"),
        ("all delivered", f"{total:.2f} s ({pending} still pending or in flight)"),
        ("throughput", f"{len(received) / total:.0f} messages/s (end to end, notify() included)"),
        ("delivery only", f"{len(received) / (finished - queued):.0f} messages/s (after the commit)"),
    ]
    if durations:
        report.append(("delivery job", f"median {durations[len(durations) // 2]:.2f} s, max {durations[-1]:.2f} s "
                                       f"({len(durations)} pump jobs, each up to 10 batches of 200)"))
    report += [("arrived", f"{sum(received.values())}"), ("lost", f"{lost}"), ("sent twice", f"{twice}"),
               ("row statuses", f"{statuses}"), ("load average", Path("/proc/loadavg").read_text().strip()),
               ("worker logs", f"{workdir}/worker*.log")]
    for label, value in report:
        print(f"{label:<16}  {value}")
    return 0 if (lost == 0 and twice == 0 and not pending) else 1


def _ensure_database(url: str) -> None:
    """Create the benchmark's own database if it does not exist yet."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{parsed.database}"')


if __name__ == "__main__":
    sys.exit(main())
