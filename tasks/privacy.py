"""Retention of personal data (app/privacy/retention.py): run daily, and again and again while a backlog remains."""
from __future__ import annotations

import logging

from app import jobs
from app.privacy import retention
from tasks import job

log = logging.getLogger("gongzhi.retention")
BUDGET_SECONDS = 20.0


@job
def apply_retention() -> dict:
    """One short transaction's worth of retention; queues the next one if records are still due."""
    report = retention.run(budget_seconds=BUDGET_SECONDS)
    log.info("retention: %s", report)
    if not report["finished"]:
        jobs.after_commit("tasks.privacy.apply_retention")
    return report
