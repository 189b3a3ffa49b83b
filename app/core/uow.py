"""Commit once, at the edge; then hand the queued side effects to the job runner.

Services call `after_commit(job, *args)` to queue a job, or `after_commit_once(job, *args)`
for a job that one run per unit of work is enough for (it looks for its own work, like the
notification pump). Nothing is queued anywhere until the edge (a request, a CLI command, a
job) calls `commit()`: a rolled-back change leaves no job behind, and a job never sees
uncommitted data.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import current_app

from app.extensions import db

_KEY = "gongzhi.after_commit"


def after_commit(job: Callable, *args, **options) -> None:
    db.session.info.setdefault(_KEY, []).append((job, args, options))


def after_commit_once(job: Callable, *args, **options) -> None:
    """`after_commit`, unless this unit of work has already queued the same job with the same arguments."""
    pending = db.session.info.setdefault(_KEY, [])
    if (job, args, options) not in pending:
        pending.append((job, args, options))


def discard_pending() -> None:
    db.session.info.pop(_KEY, None)


def commit() -> None:
    """Commit the session, then dispatch the jobs queued during this unit of work."""
    if db.session.registry.has():  # a request that never touched the session has nothing to commit
        session = db.session()
        if session.in_transaction() or session.new or session.dirty or session.deleted:
            session.commit()
    dispatch_pending()


def rollback() -> None:
    db.session.rollback()
    discard_pending()


def dispatch_pending() -> None:
    if not db.session.registry.has():
        return
    from redis.exceptions import RedisError

    from tasks import RedisUnavailable, dispatch

    # Inline jobs may queue more jobs of their own; keep draining until none are left.
    while True:
        pending = db.session.info.pop(_KEY, None)
        if not pending:
            return
        for job, args, options in pending:
            try:
                dispatch(job, *args, **options)
            except (RedisError, RedisUnavailable) as exc:  # Redis is away: the outbox sweep catches up
                current_app.logger.warning("could not queue %s (%s); the periodic sweep will",
                                           getattr(job, "__name__", job), exc.__class__.__name__)
            except Exception:  # noqa: BLE001 - the change is committed; the sweep retries the rest
                current_app.logger.exception("could not dispatch %s; the periodic sweep will retry",
                                             getattr(job, "__name__", job))
