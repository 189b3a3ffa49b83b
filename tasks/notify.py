"""Delivery of outbox notifications. (The WeChat channels are added by the notifications work.)"""
from __future__ import annotations

from sqlalchemy import select

from app.core.time import utcnow
from app.extensions import db
from app.notifications.models import PENDING, SKIPPED, Notification
from tasks import job


@job
def deliver_batch(notification_ids: list[int]) -> int:
    """Deliver a batch; rows already handled are left alone, so running twice sends once."""
    rows = db.session.scalars(
        select(Notification).where(Notification.id.in_(notification_ids), Notification.status == PENDING)
        .with_for_update(skip_locked=True)
    ).all()
    for row in rows:
        # Inbox only until the WeChat channels land: the row stays readable in the inbox.
        row.status = SKIPPED
        row.channel = "inbox"
        row.sent_at = utcnow()
    return len(rows)
