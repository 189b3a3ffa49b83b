"""External platforms, the hand-overs sent to them (an outbox: a row per message, swept until sent), and the
messages taken in from them (one row per platform id: a replay finds it)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import AreaPath, Model, UTCDateTime

PENDING, SENT, FAILED = "pending", "sent", "failed"


class Platform(Model):
    """A platform (the 12345 hotline) configured for an area: where hand-overs go and the secret both sign with."""

    __tablename__ = "hotline_platforms"

    name: Mapped[str] = mapped_column(String(64))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    endpoint: Mapped[str] = mapped_column(String(300))
    secret_encrypted: Mapped[str] = mapped_column(String(512))
    # The account its work orders are filed under.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Handover(Model):
    """One case handed to a platform; pending until the platform acknowledges it."""

    __tablename__ = "hotline_handovers"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("hotline_platforms.id"))
    note: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    external_id: Mapped[str] = mapped_column(String(64), default="")
    last_error: Mapped[str] = mapped_column(String(300), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_hotline_handovers_status_next", "status", "next_attempt_at"),)


class Inbound(Model):
    """A message a platform sent us, kept by its own id so that a resend changes nothing."""

    __tablename__ = "hotline_inbound"

    platform_id: Mapped[int] = mapped_column(ForeignKey("hotline_platforms.id"))
    external_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    body: Mapped[dict] = mapped_column(JSON, default=dict)

    __table_args__ = (UniqueConstraint("platform_id", "external_id"),)
