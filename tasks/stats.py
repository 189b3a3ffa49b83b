"""Periodic statistics jobs: the daily rollups and the monthly 一表通 workbooks."""
from app.stats import rollups
from app.stats import service as stats
from tasks import job


@job
def monthly_reports(month: str | None = None) -> int:
    return len(stats.generate_monthly_reports(month))


@job
def refresh_rollups() -> int:
    """Recompute the (day, community) rollups that changes marked dirty since the last run."""
    return rollups.refresh()
