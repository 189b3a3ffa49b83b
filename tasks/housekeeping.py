"""Periodic housekeeping: records whose purpose is over."""
from app.core import idempotency
from tasks import job


@job
def purge_idempotency_records() -> int:
    """Forget the answers kept for Idempotency-Key replays once their 24 hours are over."""
    return idempotency.purge_expired()
