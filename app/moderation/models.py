"""A held item (one row per piece of user content kept out of public places) and residents' abuse reports."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import AreaPath, Model, UTCDateTime

HELD, RELEASED, HIDDEN = "held", "released", "hidden"
HOLD_STATUS_LABELS = {HELD: "待审核", RELEASED: "已放行", HIDDEN: "已隐藏"}


class Hold(Model):
    """User content kept out of public places until staff release it (or hide it for good)."""

    __tablename__ = "moderation_holds"

    kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(Integer)
    area_path: Mapped[str] = mapped_column(AreaPath)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # What decided the hold: "wechat" (msgSecCheck), "unchecked" (no openid, or WeChat did not answer)
    # or "reports" (residents reported it).
    source: Mapped[str] = mapped_column(String(16))
    suggest: Mapped[str] = mapped_column(String(8), default="")  # WeChat's pass / review / risky, if asked
    label: Mapped[int | None] = mapped_column(Integer, nullable=True)  # WeChat's label (e.g. 20001)
    excerpt: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default=HELD)
    reason: Mapped[str] = mapped_column(String(200), default="")  # the reviewer's, shown to the author
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("kind", "subject_id"),
        Index("ix_moderation_holds_status_area", "status", "area_path"),
    )


class AbuseReport(Model):
    """举报: one resident's report of one public item (three from different residents hide it)."""

    __tablename__ = "moderation_reports"

    kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (UniqueConstraint("kind", "subject_id", "user_id"),)
