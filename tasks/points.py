"""Periodic points sweep: reservations in the points supermarket not picked up in time give back stock and points."""
from __future__ import annotations

from app.points import shop
from tasks import job


@job
def expire_redemptions(limit: int = 500) -> int:
    """Expire reservations past their pick-up time; returns how many."""
    return shop.expire_due(limit)
