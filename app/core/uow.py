"""Commit once, at the edge; then hand the jobs queued during the unit of work to the job runner.

Services never commit. They queue jobs by name with `app.jobs.after_commit(...)`, and the edge
(a request, a CLI command, a job) calls `commit()`: the jobs are dispatched only after the commit
succeeded, and `rollback()` drops them, so a rolled-back change leaves no job behind.
"""
from __future__ import annotations

from app import jobs
from app.extensions import db


def commit() -> None:
    """Commit the session, then dispatch the jobs queued during this unit of work."""
    if db.session.registry.has():  # a request that never touched the session has nothing to commit
        session = db.session()
        if session.in_transaction() or session.new or session.dirty or session.deleted:
            session.commit()
    jobs.dispatch_pending()


def rollback() -> None:
    db.session.rollback()
    jobs.discard_pending()
