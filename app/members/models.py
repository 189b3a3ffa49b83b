"""In-service party members (在职党员) and their dual registration (双报到) at a home community."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import AreaPath, Model, UTCDateTime

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
STATUS_LABELS = {PENDING: "待审核", APPROVED: "已报到", REJECTED: "未通过"}
OPEN_STATUSES = (PENDING, APPROVED)


class PartyMember(Model):
    """One registration: the resident, their employer's party organisation and their home community."""

    __tablename__ = "party_members"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    org_name: Mapped[str] = mapped_column(String(100))
    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    # The home grid, when given, lets dispatch prefer members who live near the wish.
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    skills: Mapped[list] = mapped_column(JSON, default=list)
    availability: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    reject_reason: Mapped[str] = mapped_column(Text, default="")
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_party_members_area_status", "area_path", "status"),)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)
