"""One row per notification per user: the outbox entry and the inbox item at once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Model, UTCDateTime

PENDING, SENT, FAILED, SKIPPED = "pending", "sent", "failed", "skipped"
# Taken by a delivery (its quota unit spent), its WeChat call not started yet. A delivery that
# dies leaves these to go back to pending: nothing was sent, the unit is given back.
TAKEN = "taken"
# While a WeChat call is in flight: committed just before the call starts, so a worker killed
# mid-call leaves a row nobody sends again.
SENDING = "sending"
# A call that was in flight when its delivery died: WeChat may or may not have taken it. Never
# sent again (WeChat cannot recognise a repeat); the inbox keeps the notification.
UNKNOWN = "unknown"


class Notification(Model):
    __tablename__ = "notifications"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(48))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text, default="")
    page: Mapped[str] = mapped_column(String(200), default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    # Delivery beyond the inbox: pending → taken → sending → sent | failed | unknown, or → skipped.
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    # The process that took the row ("host:pid:start"), while it is taken or sending.
    taken_by: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    errcode: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_notifications_user_id_id", "user_id", "id"),
        Index("ix_notifications_status_id", "status", "id"),
    )


class DeliveryLog(Model):
    """One line per delivery decision or WeChat call: the per-channel record of a notification.

    `retry_at` holds the sweep and the pump off a row until then: while rq's own Retry is due, or while a
    batch the sweep just re-enqueued is still waiting in the queue.
    """

    __tablename__ = "notification_deliveries"

    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    template_key: Mapped[str | None] = mapped_column(String(48))
    errcode: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(255))
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SubscriptionQuota(Model):
    """Messages a user allowed of one template through wx.requestSubscribeMessage: one per acceptance."""

    __tablename__ = "subscription_quotas"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    template_key: Mapped[str] = mapped_column(String(48))
    remaining: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("user_id", "template_key"),)


class OfficialAccountFollower(Model):
    """A follower of the official account, matched to a mini-program user through the unionid."""

    __tablename__ = "official_account_followers"

    unionid: Mapped[str] = mapped_column(String(64), unique=True)
    oa_openid: Mapped[str] = mapped_column(String(64), unique=True)


class PeriodicRun(Model):
    """When a periodic job last ran (one row per job name): the outbox sweep records its tick here,
    so /healthz and `flask doctor` can tell whether the periodic jobs are running at all."""

    __tablename__ = "periodic_runs"

    name: Mapped[str] = mapped_column(String(64), unique=True)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime)
