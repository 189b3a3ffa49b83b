"""Consents to a version of the privacy notice, and the requests residents make about their data."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import AreaPath, Model, UTCDateTime

# Kinds of request a resident of the web portal makes through the console (the mini-program does them itself).
EXPORT, CORRECTION, CANCELLATION = "export", "correction", "cancellation"
REQUEST_KINDS = {EXPORT: "查阅、复制个人信息", CORRECTION: "更正个人信息", CANCELLATION: "注销账号、删除个人信息"}
OPEN, DONE, DECLINED = "open", "done", "declined"
REQUEST_STATUSES = {OPEN: "待处理", DONE: "已办结", DECLINED: "不予办理"}


class Consent(Model):
    """One acceptance of one version of the notice; `created_at` is when. Kept while the account lives."""

    __tablename__ = "privacy_consents"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    notice_version: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))  # mp | portal

    __table_args__ = (Index("ix_privacy_consents_user_id_id", "user_id", "id"),)


class PrivacyRequest(Model):
    """A resident's request about their own data, handled by staff over the area of their records within a deadline."""

    __tablename__ = "privacy_requests"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text, default="")
    # The area of the resident's latest record: staff over it handle the request ("/" for a system admin).
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    handled_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer: Mapped[str] = mapped_column(Text, default="")

    user = relationship("User", foreign_keys=[user_id], lazy="raise_on_sql")

    @property
    def kind_label(self) -> str:
        return REQUEST_KINDS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        return REQUEST_STATUSES.get(self.status, self.status)
