"""Background jobs behind one interface: a service queues a job by its name, and it runs after the commit.

    jobs.after_commit("tasks.wishes.notify_claimer", wish.id)
    jobs.after_commit_once(jobs.PUMP_OUTBOX, queue_name=jobs.QUEUE_NOTIFY, coalesce=jobs.PUMP)

A job is named by its dotted path in `tasks/`, so nothing in `app/` imports `tasks/`: rq imports
the job when a worker runs it, and without Redis (the embedded default) this module imports and
runs it inline, right after the commit that queued it. Nothing is queued anywhere until the edge
(a request, a CLI command, a job) commits: a rolled-back change leaves no job behind, and a job
never sees uncommitted data (`app.core.uow`).

If Redis cannot take a job, the change is already committed: the failure is logged, and the
periodic sweeps (the outbox sweep for notifications) catch up. Redis is a helper, never a gate.
"""
from __future__ import annotations

import time

from flask import current_app
from redis.exceptions import RedisError
from rq import Queue
from rq.utils import import_attribute

from app.extensions import db, redis_connection

QUEUE_DEFAULT = "default"
QUEUE_NOTIFY = "notify"
QUEUES = (QUEUE_NOTIFY, QUEUE_DEFAULT)

# The notification pump, queued by every unit of work that writes notifications, coalesced.
PUMP_OUTBOX = "tasks.notify.pump_outbox"
PUMP = "notify"  # its coalescing name (Redis key gongzhi:nudge:notify)

_KEY = "gongzhi.after_commit"

# A coalesced job is queued at most once at a time: `dispatch(..., coalesce=name)` sets this key
# (NX) and enqueues only if it was not set; the job releases it before it reads anything. The TTL
# only bounds the damage of a job that is lost before it runs (the outbox sweep catches its rows).
NUDGE_KEY = "gongzhi:nudge:"
NUDGE_SECONDS = 30

# After Redis failed to take a job, jobs skip Redis for this long and wait in the outbox (the
# sweep delivers them), so that an unreachable Redis costs a request nothing, not a timeout each.
REDIS_PAUSE_SECONDS = 5.0
_redis_down_until: dict[str, float] = {}


class RedisUnavailable(Exception):
    """Redis failed a moment ago: the job is not queued (the outbox sweep catches up)."""


def after_commit(name: str, *args, **options) -> None:
    """Queue the job `name` (a dotted path) with `args` once this unit of work commits.

    Options: `queue_name`, `retry` (an rq `Retry`), `job_id`, `coalesce` (see `dispatch`)."""
    db.session.info.setdefault(_KEY, []).append((_checked(name), args, options))


def after_commit_once(name: str, *args, **options) -> None:
    """`after_commit`, unless this unit of work has already queued the same job with the same arguments."""
    pending = db.session.info.setdefault(_KEY, [])
    entry = (_checked(name), args, options)
    if entry not in pending:
        pending.append(entry)


def _checked(name: str) -> str:
    if not isinstance(name, str) or not name.startswith("tasks."):
        raise TypeError(f"a job is named by its dotted path in tasks/, not {name!r}")
    return name


def discard_pending() -> None:
    db.session.info.pop(_KEY, None)


def dispatch_pending() -> None:
    """Hand the jobs queued during this (committed) unit of work to rq, or run them inline."""
    if not db.session.registry.has():
        return
    # Inline jobs may queue more jobs of their own; keep draining until none are left.
    while True:
        pending = db.session.info.pop(_KEY, None)
        if not pending:
            return
        for name, args, options in pending:
            try:
                dispatch(name, *args, **options)
            except (RedisError, RedisUnavailable) as exc:  # Redis is away: the sweeps catch up
                current_app.logger.warning("could not queue %s (%s); the periodic sweep will",
                                           name, exc.__class__.__name__)
            except Exception:  # noqa: BLE001 - the change is committed; the sweep retries the rest
                current_app.logger.exception("could not dispatch %s; the periodic sweep will retry", name)


def queue(name: str = QUEUE_DEFAULT) -> Queue:
    return Queue(name, connection=redis_connection())


def dispatch(name: str, *args, queue_name: str = QUEUE_DEFAULT, retry=None, job_id: str | None = None,
             coalesce: str | None = None) -> None:
    """Enqueue on rq now, or run inline when Redis is not configured (the embedded default).

    With `coalesce`, the job is enqueued only if no job of that name is already waiting: the
    waiting one will see whatever this one would have (see `release_nudge`). Inline, it just runs.
    If Redis cannot take the job this raises (RedisError, or RedisUnavailable for a few seconds
    after a failure); callers after a commit log it and rely on the sweeps.
    """
    url = current_app.config.get("REDIS_URL")
    if not url:
        import_attribute(_checked(name))(*args)
        return
    if time.monotonic() < _redis_down_until.get(url, 0.0):
        raise RedisUnavailable(f"Redis failed less than {REDIS_PAUSE_SECONDS:.0f} s ago; {name} not queued")
    try:
        _enqueue(_checked(name), args, queue_name, retry, job_id, coalesce)
    except RedisError:
        _redis_down_until[url] = time.monotonic() + REDIS_PAUSE_SECONDS
        raise


def _enqueue(name, args, queue_name, retry, job_id, coalesce) -> None:
    if coalesce is None:
        queue(queue_name).enqueue(name, *args, retry=retry, job_id=job_id)
        return
    redis = redis_connection()
    if not redis.set(NUDGE_KEY + coalesce, 1, nx=True, ex=NUDGE_SECONDS):
        return  # one is queued and has not started yet: it will see what this one would have
    try:
        queue(queue_name).enqueue(name, *args, retry=retry, job_id=job_id)
    except BaseException:
        _release(redis, coalesce)  # let the next nudge try again instead of waiting for the TTL
        raise


def release_nudge(coalesce: str) -> None:
    """Called by a coalesced job before it reads anything: from here on a new nudge queues a new job.

    Race-free: work committed before this call is seen by the reads that follow; work committed
    after it finds the key free and queues another job. A no-op without Redis.
    """
    redis = redis_connection()
    if redis is not None:
        _release(redis, coalesce)


def _release(redis, coalesce: str) -> None:
    try:
        redis.delete(NUDGE_KEY + coalesce)
    except Exception:  # noqa: BLE001 - the key expires on its own after NUDGE_SECONDS
        current_app.logger.warning("could not release the nudge %r; it expires in %s s", coalesce, NUDGE_SECONDS)
