"""One row per notification per user: the outbox entry and the inbox item at once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Model, UTCDateTime

PENDING, SENT, FAILED, SKIPPED = "pending", "sent", "failed", "skipped"
# While a WeChat call is in flight: committed before the call, so a worker killed mid-call
# leaves a row nobody sends again (at worst one push is lost; the inbox keeps it).
SENDING = "sending"


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
    # Delivery beyond the inbox: pending → sent | failed | skipped.
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
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
