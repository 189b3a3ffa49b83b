"""The periodic jobs as data: read by `python -m tasks.cron` (and `rq cron tasks/cron_config.py`) and by `flask run-periodic`."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import click
from croniter import croniter  # rq's own dependency, for `rq cron`
from flask import Flask

from app.core.time import utcnow
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


def due_jobs(last_run: dict[str, datetime], now: datetime) -> list[Periodic]:
    """The jobs due at `now` given when each last ran (`run-periodic --every`); the first call runs the interval jobs."""
    due = []
    for entry in PERIODIC:
        last = last_run.get(entry.name)
        if entry.interval is not None:
            if last is None or (now - last).total_seconds() >= entry.interval:
                due.append(entry)
        elif last is not None and croniter(entry.cron, last).get_next(datetime) <= now:
            due.append(entry)
    return due


def run_loop(app: Flask, every: int, ticks: int | None = None, echo=click.echo) -> None:
    """Wake every `every` seconds and run the periodic jobs that are due, like `rq cron` without Redis.

    Cron jobs (the nightly retention, the monthly reports) count from the loop's start: they run when
    their time comes while the loop is up. A failing job is reported and the loop goes on.
    """
    started = utcnow()
    last_run: dict[str, datetime] = {p.name: started for p in PERIODIC if p.cron}
    tick = 0
    while ticks is None or tick < ticks:
        now = utcnow()
        for entry in due_jobs(last_run, now):
            last_run[entry.name] = now
            with app.app_context():  # a fresh session per job, as in a worker
                try:
                    result = entry.func()
                except Exception as error:  # noqa: BLE001 - a dev loop must outlive one failing job
                    echo(f"{entry.name}: 失败 {error!r}")
                    continue
            echo(f"{entry.name}: {result}")
        tick += 1
        if ticks is None or tick < ticks:
            time.sleep(every)


def register_cli(app: Flask) -> None:
    """`flask --app wsgi run-periodic`: wsgi.py adds it, since app/ does not import the jobs."""

    @app.cli.command("run-periodic")
    @click.option("--only", default=None, help="Run just this job (its function name).")
    @click.option("--every", type=click.IntRange(min=1), default=None,
                  help="Keep running: every N seconds run the jobs that are due (`make run` starts it with 60).")
    @click.option("--ticks", type=click.IntRange(min=1), default=None, hidden=True,
                  help="With --every: stop after this many wake-ups (tests).")
    def run_periodic_command(only, every, ticks):
        """Run every periodic job once, inline. For a machine without Redis (no `rq cron`), call this from cron."""
        if every:
            run_loop(app, every, ticks)
            return
        for entry in PERIODIC:
            if only and entry.name != only:
                continue
            result = entry.func()
            click.echo(f"{entry.name}: {result}")
