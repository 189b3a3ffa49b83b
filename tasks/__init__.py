"""rq jobs, one module per domain, and the worker and cron processes that run them.

A job here is a thin shell: it runs a service of `app/` inside an app context and commits once.
Services queue jobs by name through `app.jobs` (nothing in `app/` imports this package); this
package may import anything in `app/`. Without REDIS_URL, jobs run inline right after the
commit that queued them.
"""
from __future__ import annotations

import functools
from collections.abc import Callable

from flask import has_app_context

from app import create_app
from app.core import uow

_worker_app = None


def worker_app():
    """The app a worker process runs jobs in; created once per process."""
    global _worker_app
    if _worker_app is None:
        _worker_app = create_app()
    return _worker_app


def job(fn: Callable) -> Callable:
    """Make `fn` a job: it runs inside an app context and commits exactly once at the end."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if has_app_context():
            return _run(fn, args, kwargs)
        with worker_app().app_context():
            return _run(fn, args, kwargs)

    wrapper.is_job = True
    return wrapper


def _run(fn, args, kwargs):
    try:
        result = fn(*args, **kwargs)
        uow.commit()
        return result
    except BaseException:
        uow.rollback()
        raise
