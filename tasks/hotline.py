"""Jobs of the hand-over with the 12345 hotline: send one, and the sweep that retries what is due."""
from __future__ import annotations

from app.hotline import service
from tasks import job


@job
def send_handover(handover_id: int) -> str:
    """Send one hand-over after the commit that made it; a failure waits for the sweep."""
    return service.send(handover_id)


@job
def sweep_handovers() -> int:
    """Every minute: send the hand-overs whose next attempt is due (each commits on its own)."""
    due = service.due_handovers()
    for handover_id in due:
        send_handover(handover_id)
    return len(due)
