"""Background jobs on rq. Without REDIS_URL they run inline, right after the commit that queued them."""
from __future__ import annotations

import functools
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


def dispatch(fn: Callable, *args, queue_name: str = QUEUE_DEFAULT, retry=None, job_id: str | None = None,
             **_ignored) -> None:
    """Enqueue on rq, or run inline when Redis is not configured (the embedded default)."""
    if current_app.config.get("REDIS_URL"):
        queue(queue_name).enqueue(fn, *args, retry=retry, job_id=job_id)
    else:
        fn(*args)
