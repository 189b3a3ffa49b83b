"""Periodic jobs for `rq cron tasks/cron_config.py --url $REDIS_URL`, which exits when Redis goes away:
production runs `python -m tasks.cron` (tasks/cron.py) instead. The list is tasks.periodic."""
from rq import cron

from tasks.periodic import PERIODIC

for entry in PERIODIC:
    cron.register(entry.func, queue_name=entry.queue, interval=entry.interval, cron=entry.cron, name=entry.name)
