"""Scan counts kept out of the scan request's database work.

Each process tallies its scans in memory. With REDIS_URL the tally is pushed to Redis as one
JSON entry of a list (one RPUSH, however many codes it counts: a HINCRBY per code stalled the
request that pushed) at most every SCAN_PUSH_SECONDS (5) and when the process exits; without
Redis a flush job is queued after a scan at most every SCAN_FLUSH_SECONDS (60). `flush()` moves
the pushed tallies and this process's tally into `codes.scan_count`; the periodic job
`tasks.codes.flush_scan_counts` runs it. A process killed outright loses at most its last few
seconds of counts: they are a statistic, and the scan stays one database query.
"""
from __future__ import annotations

import atexit
import json
import logging
import threading
import time
import uuid
from collections import Counter

from flask import current_app
from redis.exceptions import RedisError, ResponseError
from sqlalchemy import bindparam, update

from app import jobs
from app.codes.models import Code
from app.core.time import utcnow
from app.extensions import db, redis_connection

log = logging.getLogger("gongzhi.codes")

REDIS_KEY = "gongzhi:scan_tallies"
DEFAULT_FLUSH_SECONDS = 60
DEFAULT_PUSH_SECONDS = 5


class _Tally:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.counts: Counter[int] = Counter()
        self.last_flush = time.monotonic()
        atexit.register(self.push_at_exit)

    def add(self, code_id: int, interval: float) -> bool:
        """Count one scan; True when the tally is due to leave this process."""
        with self.lock:
            self.counts[code_id] += 1
            return time.monotonic() - self.last_flush >= interval

    def drain(self) -> Counter[int]:
        with self.lock:
            counts, self.counts = self.counts, Counter()
            self.last_flush = time.monotonic()
            return counts

    def push_at_exit(self) -> None:
        if not self.counts:
            return
        try:
            with self.app.app_context():
                push()
        except Exception:  # noqa: BLE001 - an exiting process must not fail on a statistic
            log.warning("scan counts lost at exit: %s", dict(self.counts))


def _tally() -> _Tally:
    tally = current_app.extensions.get("gongzhi.scan_tally")
    if tally is None:
        tally = current_app.extensions.setdefault("gongzhi.scan_tally", _Tally(current_app._get_current_object()))
    return tally


def record_scan(code_id: int) -> None:
    """Count a scan without touching the database (and, most of the time, without Redis)."""
    redis = redis_connection()
    config = current_app.config
    if redis is not None:
        if _tally().add(code_id, config.get("SCAN_PUSH_SECONDS", DEFAULT_PUSH_SECONDS)):
            push()
        return
    if _tally().add(code_id, config.get("SCAN_FLUSH_SECONDS", DEFAULT_FLUSH_SECONDS)):
        jobs.after_commit("tasks.codes.flush_scan_counts")


def push() -> int:
    """Move this process's tally into the shared Redis hash; returns the scans moved."""
    redis = redis_connection()
    counts = _tally().drain()
    if redis is None or not counts:
        return 0

    try:
        redis.rpush(REDIS_KEY, json.dumps(counts, separators=(",", ":")))
    except RedisError as exc:  # a statistic must never break a scan: keep the counts for next time
        with _tally().lock:
            _tally().counts.update(counts)
        log.warning("scan counts kept in this process, Redis unavailable: %s", exc.__class__.__name__)
        return 0
    return sum(counts.values())


def pending_counts() -> Counter[int]:
    """Take every count not yet written: the tallies pushed to Redis (atomically, by renaming the
    list) and this process's own."""
    counts = _tally().drain()
    redis = redis_connection()
    if redis is not None:
        taken = f"{REDIS_KEY}:flushing:{uuid.uuid4().hex}"
        try:
            redis.rename(REDIS_KEY, taken)
        except ResponseError:  # no such key: nobody scanned since the last flush
            return counts
        for entry in redis.lrange(taken, 0, -1):
            for code_id, n in json.loads(entry).items():
                counts[int(code_id)] += int(n)
        redis.delete(taken)
    return counts


def flush() -> int:
    """Add the pending counts to the codes; returns the number of scans written."""
    counts = pending_counts()
    if not counts:
        return 0
    table = Code.__table__
    db.session.execute(
        update(table).where(table.c.id == bindparam("code_id"))
        .values(scan_count=table.c.scan_count + bindparam("scans"), last_scanned_at=utcnow()),
        [{"code_id": code_id, "scans": n} for code_id, n in sorted(counts.items())],
    )
    return sum(counts.values())
