"""The periodic jobs as data: read by `python -m tasks.cron` (and `rq cron tasks/cron_config.py`) and by `flask run-periodic`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click
from flask import Flask

from app.jobs import QUEUE_DEFAULT, QUEUE_NOTIFY
from tasks.cases import sweep_deadlines
from tasks.codes import flush_scan_counts
from tasks.hotline import sweep_handovers
from tasks.housekeeping import purge_idempotency_records
from tasks.notify import sweep_outbox
from tasks.points import expire_redemptions
from tasks.privacy import apply_retention
from tasks.stats import monthly_reports, refresh_rollups
from tasks.suggestions import sweep_due as sweep_suggestions_due
from tasks.volunteering import remind_upcoming
from tasks.wishes import auto_confirm_wishes, expire_wishes, lapse_wish_offers, sweep_stalled_wish_claims


@dataclass(frozen=True)
class Periodic:
    func: Any
    queue: str
    interval: int | None = None  # seconds
    cron: str | None = None  # UTC crontab

    @property
    def name(self) -> str:
        return self.func.__name__


PERIODIC: list[Periodic] = [
    Periodic(sweep_outbox, QUEUE_NOTIFY, interval=60),             # re-enqueue notifications still pending
    Periodic(sweep_deadlines, QUEUE_DEFAULT, interval=60),         # case reminders, overdue, escalation
    Periodic(flush_scan_counts, QUEUE_DEFAULT, interval=60),       # scan counters → database
    Periodic(refresh_rollups, QUEUE_DEFAULT, interval=60),         # daily rollups of the days changes touched
    Periodic(sweep_handovers, QUEUE_DEFAULT, interval=60),         # hand-overs to the 12345 hotline still due
    Periodic(sweep_suggestions_due, QUEUE_DEFAULT, interval=15 * 60),
    Periodic(remind_upcoming, QUEUE_DEFAULT, interval=15 * 60),    # activity reminders
    Periodic(auto_confirm_wishes, QUEUE_DEFAULT, interval=60 * 60),
    Periodic(expire_wishes, QUEUE_DEFAULT, interval=60 * 60),
    Periodic(expire_redemptions, QUEUE_DEFAULT, interval=60 * 60),  # 积分超市: unclaimed reservations
    Periodic(lapse_wish_offers, QUEUE_DEFAULT, interval=15 * 60),   # 派单 not accepted in time
    Periodic(sweep_stalled_wish_claims, QUEUE_DEFAULT, interval=60 * 60),
    Periodic(purge_idempotency_records, QUEUE_DEFAULT, interval=60 * 60),
    Periodic(apply_retention, QUEUE_DEFAULT, cron="30 19 * * *"),  # 03:30 Beijing; requeues itself until done
    Periodic(monthly_reports, QUEUE_DEFAULT, cron="0 2 1 * *"),  # the 1st, 10:00 Beijing
]


def register_all(register) -> None:
    """Hand every periodic job to an rq cron `register` (rq.cron.register, or a CronScheduler's own)."""
    for entry in PERIODIC:
        register(entry.func, queue_name=entry.queue, interval=entry.interval, cron=entry.cron, name=entry.name)


def register_cli(app: Flask) -> None:
    """`flask --app wsgi run-periodic`: wsgi.py adds it, since app/ does not import the jobs."""

    @app.cli.command("run-periodic")
    @click.option("--only", default=None, help="Run just this job (its function name).")
    def run_periodic_command(only):
        """Run every periodic job once, inline. For a machine without Redis (no `rq cron`), call this from cron."""
        for entry in PERIODIC:
            if only and entry.name != only:
                continue
            result = entry.func()
            click.echo(f"{entry.name}: {result}")
