"""Periodic jobs for QR codes."""
from __future__ import annotations

from app.codes import counter
from tasks import job


@job
def flush_scan_counts() -> int:
    """Write the scan counts gathered in Redis (or in this process) to the codes table."""
    return counter.flush()
