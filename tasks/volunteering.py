"""Periodic volunteering jobs: remind volunteers before their activity starts."""
from __future__ import annotations

from datetime import timedelta

from app.volunteering import activities
from tasks import job


@job
def remind_upcoming(hours_ahead: int = 24) -> int:
    """Remind everyone enrolled in an activity starting within `hours_ahead` hours; once per activity."""
    return activities.remind_upcoming(within=timedelta(hours=hours_ahead))
