"""The append-only timeline (纪实) shared by every flow: one row per transition, never edited."""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Model


class TimelineEvent(Model):
    __tablename__ = "timeline_events"

    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list] = mapped_column(JSON, default=list)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    # Whether the people the subject belongs to (a case's reporter) read the note, or only staff.
    # Chosen by staff per step where a flow offers the choice (cases: app/cases/progress.py).
    note_public: Mapped[bool] = mapped_column(Boolean, default=False)

    actor = relationship("User", lazy="raise_on_sql")

    __table_args__ = (Index("ix_timeline_subject", "subject_type", "subject_id", "id"),)
