"""Scan counts kept out of the scan request's database work.

With REDIS_URL every process adds to one Redis hash (HINCRBY); without it each process keeps
its own tally. `flush()` moves both into `codes.scan_count`, run by the periodic job
`tasks.codes.flush_scan_counts` (and, without Redis, queued after a scan at most once a minute).
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter

from flask import current_app
from sqlalchemy import bindparam, update

from app.codes.models import Code
from app.core.time import utcnow
from app.extensions import db

log = logging.getLogger("gongzhi.codes")

REDIS_KEY = "gongzhi:scan_counts"
DEFAULT_FLUSH_SECONDS = 60


class _Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts: Counter[int] = Counter()
        self.last_flush = time.monotonic()

    def add(self, code_id: int) -> bool:
        """Count one scan; True when a flush is due."""
        interval = current_app.config.get("SCAN_FLUSH_SECONDS", DEFAULT_FLUSH_SECONDS)
        with self.lock:
            self.counts[code_id] += 1
            return time.monotonic() - self.last_flush >= interval

    def drain(self) -> Counter[int]:
        with self.lock:
            counts, self.counts = self.counts, Counter()
            self.last_flush = time.monotonic()
            return counts


def _tally() -> _Tally:
    return current_app.extensions.setdefault("gongzhi.scan_tally", _Tally())


def record_scan(code_id: int) -> None:
    """Count a scan without touching the database."""
    from tasks import redis_connection

    redis = redis_connection()
    if redis is not None:
        from redis.exceptions import RedisError

        try:
            redis.hincrby(REDIS_KEY, str(code_id), 1)
        except RedisError as exc:  # a statistic must never break a scan
            log.warning("scan count lost, Redis unavailable: %s", exc.__class__.__name__)
        return
    if _tally().add(code_id):
        from app.core.uow import after_commit
        from tasks.codes import flush_scan_counts

        after_commit(flush_scan_counts)


def pending_counts() -> Counter[int]:
    """Take every count not yet written: Redis's (atomically, by renaming the hash) and this process's."""
    counts = _tally().drain()
    from tasks import redis_connection

    redis = redis_connection()
    if redis is not None:
        from redis.exceptions import ResponseError

        taken = f"{REDIS_KEY}:flushing:{uuid.uuid4().hex}"
        try:
            redis.rename(REDIS_KEY, taken)
        except ResponseError:  # no such key: nobody scanned since the last flush
            return counts
        for key, value in redis.hgetall(taken).items():
            counts[int(key)] += int(value)
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
