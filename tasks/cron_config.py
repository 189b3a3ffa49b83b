"""Periodic jobs, read by `rq cron tasks/cron_config.py` (run exactly one)."""
from rq import cron

from tasks import QUEUE_DEFAULT
from tasks.suggestions import sweep_due as sweep_suggestions_due

cron.register(sweep_suggestions_due, queue_name=QUEUE_DEFAULT, interval=15 * 60)
