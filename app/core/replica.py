"""Statistics read from a streaming replica (DATABASE_REPLICA_URL) while it is up and fresh.

The one API is `with from_replica(): ...` around code that only reads figures (dashboards, exports,
the monthly 一表通 workbooks, public boards). Inside the block the session sends its SELECTs to the
replica (`RoutingSession`, app/extensions.py); flushes, INSERT/UPDATE/DELETE, text statements and everything outside the block go to the
primary, so whatever writes, or reads its own writes, never sees the replica. The replica's
connections run in autocommit: they hold no transaction that the request's one commit would have to
end, and each statement reads a fresh snapshot, as each statement does on the primary under READ
COMMITTED.

Before a block uses the replica it is checked (at most every REPLICA_CHECK_SECONDS per process): a
replica that cannot be reached, or that has not replayed what the primary has written and whose
last replayed commit is older than REPLICA_MAX_LAG_SECONDS, is skipped and the block reads the
primary; that is logged, and /healthz and `flask doctor` say so. The check errs on the safe side:
a primary that writes WAL without committing for longer than the limit sends reads to itself.

A replica that goes away after the check (stopped, restarted, its connection cut) makes the read
that notices it lose its connection: that statement is run again on the primary and the rest of the
block reads the primary (RoutingSession), the replica is marked unusable until the next check, and
it is logged and counted in /healthz (`replica.fallbacks`). An error in the SQL itself still raises.
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.core.time import utcnow
from app.extensions import REPLICA, db, replica_lost_hooks, replica_reads

log = logging.getLogger("gongzhi.replica")


_PRIMARY_LSN = text("SELECT pg_current_wal_lsn()")
_REPLICA_POSITION = text(
    "SELECT pg_is_in_recovery(), COALESCE(pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn), true), "
    "EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())")


@dataclass(frozen=True)
class ReplicaState:
    usable: bool
    lag_seconds: float | None  # None: unknown (unreachable, or nothing replayed yet)
    reason: str  # why it is skipped, in Chinese; "" when usable
    checked_at: float  # time.monotonic()

    def as_dict(self) -> dict:
        return {"usable": self.usable, "lag_seconds": self.lag_seconds, "reason": self.reason}


def configured() -> bool:
    return REPLICA in current_app.config.get("SQLALCHEMY_BINDS", {})


def state(fresh: bool = False) -> ReplicaState | None:
    """The replica's last known state (measured again when older than REPLICA_CHECK_SECONDS); None
    when no replica is configured."""
    if not configured():
        return None
    app = current_app._get_current_object()
    known: ReplicaState | None = app.extensions.get("gongzhi.replica")
    if not fresh and known is not None and \
            time.monotonic() - known.checked_at < app.config["REPLICA_CHECK_SECONDS"]:
        return known
    measured = _measure(app.config["REPLICA_MAX_LAG_SECONDS"])
    if not measured.usable:
        log.warning("read replica skipped, statistics read from the primary: %s", measured.reason)
    elif known is not None and not known.usable:
        log.warning("read replica usable again (lag %.1f s)", measured.lag_seconds or 0.0)
    app.extensions["gongzhi.replica"] = measured
    return measured


@contextmanager
def from_replica():
    """Reads in this block go to the replica when it is usable, else to the primary."""
    if replica_reads.get():
        yield
        return
    current = state()
    if current is None or not current.usable:
        yield
        return
    token = replica_reads.set(True)
    try:
        yield
    finally:
        replica_reads.reset(token)


def fallbacks() -> dict | None:
    """Reads this process moved to the primary because the replica lost its connection mid-block: how
    many, and the last one's time and error; None when there was none."""
    return current_app.extensions.get("gongzhi.replica.fallbacks")


def _lost(exc: DBAPIError) -> None:
    """A read on the replica lost its connection: skip the replica until the next check, log it, count it."""
    app = current_app._get_current_object()
    error = type(exc.orig).__name__
    app.extensions["gongzhi.replica"] = ReplicaState(False, None, f"只读副本在查询中断开（{error}）", time.monotonic())
    record = app.extensions.setdefault("gongzhi.replica.fallbacks", {"count": 0})
    record.update(count=record["count"] + 1, last_at=utcnow().isoformat(timespec="seconds"), last_error=error)
    log.warning("read replica lost its connection during a statistics read; read again from the primary, and "
                "the replica is skipped until the next check: %s", str(exc.orig).strip().splitlines()[0]
                if str(exc.orig).strip() else error)


replica_lost_hooks.append(_lost)


def reading_replica() -> bool:
    """Whether SELECTs here go to the replica (for tests and logs)."""
    return replica_reads.get()


def _measure(max_lag: float) -> ReplicaState:
    now = time.monotonic()
    try:
        with db.engine.connect() as primary:
            lsn = primary.execute(_PRIMARY_LSN).scalar_one()
            primary.rollback()
        recovering, caught_up, age = _replica_position(lsn)
        if recovering and not caught_up and (age is None or age > max_lag):
            time.sleep(0.1)  # WAL written an instant ago (a checkpoint, say) is not lag: look once more
            recovering, caught_up, age = _replica_position(lsn)
    except Exception as exc:  # noqa: BLE001 - any failure to reach it means: do not use it
        return ReplicaState(False, None, f"无法连接只读副本（{exc.__class__.__name__}）", now)
    if not recovering or caught_up:
        return ReplicaState(True, 0.0, "", now)
    if age is None:
        return ReplicaState(False, None, "只读副本尚未回放任何事务", now)
    lag = round(float(age), 1)
    if lag > max_lag:
        return ReplicaState(False, lag, f"只读副本落后主库 {lag} 秒，超过上限 {max_lag} 秒", now)
    return ReplicaState(True, lag, "", now)


def _replica_position(lsn: str) -> tuple[bool, bool, float | None]:
    with db.engines[REPLICA].connect() as replica:
        recovering, caught_up, age = replica.execute(_REPLICA_POSITION, {"lsn": lsn}).one()
    return bool(recovering), bool(caught_up), None if age is None else float(age)
