"""Periodic job of the suggestion flow: remind departments before a referral falls due, flag it after."""
from __future__ import annotations

from app.suggestions import service
from tasks import job


@job
def sweep_due() -> dict[str, int]:
    """Each referral is reminded once before its due date and flagged overdue once after it."""
    return service.sweep_due()
