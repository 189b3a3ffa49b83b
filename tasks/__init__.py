"""Background jobs on rq. Without REDIS_URL they run inline, right after the commit that queued them."""
from __future__ import annotations

import functools
import time
from collections.abc import Callable

from flask import current_app, has_app_context

QUEUE_DEFAULT = "default"
QUEUE_NOTIFY = "notify"
QUEUES = (QUEUE_NOTIFY, QUEUE_DEFAULT)

_worker_app = None


def _app():
    """The app a worker process runs jobs in; created once per process."""
    global _worker_app
    if _worker_app is None:
        from app import create_app

        _worker_app = create_app()
    return _worker_app


def job(fn: Callable) -> Callable:
    """Make `fn` a job: it runs inside an app context and commits exactly once at the end."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if has_app_context():
            return _run(fn, args, kwargs)
        with _app().app_context():
            return _run(fn, args, kwargs)

    wrapper.is_job = True
    return wrapper


def _run(fn, args, kwargs):
    from app.core import uow

    try:
        result = fn(*args, **kwargs)
        uow.commit()
        return result
    except BaseException:
        uow.rollback()
        raise


def redis_connection():
    from redis import Redis

    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    ext = current_app.extensions.setdefault("gongzhi.redis", {})
    if url not in ext:
        ext[url] = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
    return ext[url]


def queue(name: str = QUEUE_DEFAULT):
    from rq import Queue

    return Queue(name, connection=redis_connection())


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


def dispatch(fn: Callable, *args, queue_name: str = QUEUE_DEFAULT, retry=None, job_id: str | None = None,
             coalesce: str | None = None, **_ignored) -> None:
    """Enqueue on rq, or run inline when Redis is not configured (the embedded default).

    With `coalesce`, the job is enqueued only if no job of that name is already waiting: the
    waiting one will see whatever this one would have (see `release_nudge`). Inline, it just runs.
    If Redis cannot take the job this raises (RedisError, or RedisUnavailable for a few seconds
    after a failure); callers after a commit log it and rely on the outbox sweep.
    """
    url = current_app.config.get("REDIS_URL")
    if not url:
        fn(*args)
        return
    if time.monotonic() < _redis_down_until.get(url, 0.0):
        raise RedisUnavailable(f"Redis failed less than {REDIS_PAUSE_SECONDS:.0f} s ago; {fn.__name__} not queued")
    from redis.exceptions import RedisError

    try:
        _enqueue(fn, args, queue_name, retry, job_id, coalesce)
    except RedisError:
        _redis_down_until[url] = time.monotonic() + REDIS_PAUSE_SECONDS
        raise


def _enqueue(fn, args, queue_name, retry, job_id, coalesce) -> None:
    if coalesce is None:
        queue(queue_name).enqueue(fn, *args, retry=retry, job_id=job_id)
        return
    redis = redis_connection()
    if not redis.set(NUDGE_KEY + coalesce, 1, nx=True, ex=NUDGE_SECONDS):
        return  # one is queued and has not started yet: it will see what this one would have
    try:
        queue(queue_name).enqueue(fn, *args, retry=retry, job_id=job_id)
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
