"""Periodic wish sweeps: auto-confirm after 7 silent days, expire unclaimed wishes past their date."""
from __future__ import annotations

from app.wishes import service as wishes
from tasks import job


@job
def auto_confirm_wishes(limit: int = 500) -> int:
    """Confirm fulfilled wishes whose requester has not answered in 7 days; returns how many."""
    return wishes.auto_confirm_due(limit)


@job
def expire_wishes(limit: int = 500) -> int:
    """Expire approved wishes still unclaimed after their desired date plus the grace period."""
    return wishes.expire_due(limit)
