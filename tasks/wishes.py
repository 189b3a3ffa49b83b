"""Periodic wish sweeps: auto-confirm after 7 silent days, expire unclaimed wishes, lapse silent offers, stalled claims."""
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


@job
def lapse_wish_offers(limit: int = 500) -> int:
    """Return offers (派单) nobody accepted in time to the community, which is told; returns how many."""
    return wishes.lapse_offers_due(limit)


@job
def sweep_stalled_wish_claims(limit: int = 500) -> dict:
    """Remind claims with no progress, then return them to the pool; returns the counts."""
    return wishes.sweep_stalled_claims(limit)
