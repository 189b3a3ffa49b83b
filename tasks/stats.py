"""Periodic statistics jobs: the monthly 一表通 workbooks."""
from app.stats import service as stats
from tasks import job


@job
def monthly_reports(month: str | None = None) -> int:
    return len(stats.generate_monthly_reports(month))
