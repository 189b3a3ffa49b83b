"""Periodic jobs for `rq cron tasks/cron_config.py --url $REDIS_URL`, which exits when Redis goes away:
production runs `python -m tasks.cron` (tasks/cron.py) instead. The list is tasks.periodic."""
from rq import cron

from tasks.periodic import register_all

register_all(cron.register)
