"""Periodic jobs, read by `rq cron tasks/cron_config.py` (run exactly one)."""
from rq import cron

from tasks import QUEUE_DEFAULT, QUEUE_NOTIFY
from tasks.notify import sweep_outbox
from tasks.suggestions import sweep_due as sweep_suggestions_due

cron.register(sweep_suggestions_due, queue_name=QUEUE_DEFAULT, interval=15 * 60)

from tasks.codes import flush_scan_counts  # noqa: E402

cron.register(flush_scan_counts, queue_name=QUEUE_DEFAULT, interval=60)
cron.register(sweep_outbox, queue_name=QUEUE_NOTIFY, interval=60)

from tasks.volunteering import remind_upcoming  # noqa: E402

cron.register(remind_upcoming, queue_name=QUEUE_DEFAULT, interval=15 * 60)

from tasks.cases import anonymise_old_reporters  # noqa: E402
from tasks.cases import sweep_deadlines as sweep_case_deadlines  # noqa: E402

cron.register(sweep_case_deadlines, queue_name=QUEUE_DEFAULT, interval=60)
cron.register(anonymise_old_reporters, queue_name=QUEUE_DEFAULT, cron="30 19 * * *")  # 03:30 Beijing

from tasks.wishes import auto_confirm_wishes, expire_wishes  # noqa: E402

cron.register(auto_confirm_wishes, queue_name=QUEUE_DEFAULT, interval=60 * 60)
cron.register(expire_wishes, queue_name=QUEUE_DEFAULT, interval=60 * 60)

from tasks.stats import monthly_reports  # noqa: E402

cron.register(monthly_reports, queue_name=QUEUE_DEFAULT, cron="0 2 1 * *")  # 02:00 UTC on the 1st
