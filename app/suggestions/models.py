"""Representatives (两代表一委员), their liaison offices (联络站) and the suggestions residents send them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import AreaPath, Model, UTCDateTime

NPC, CPPCC, PARTY = "npc", "cppcc", "party"
KIND_LABELS = {NPC: "人大代表", CPPCC: "政协委员", PARTY: "党代表"}
LEVEL_LABELS = {"national": "全国", "province": "省级", "city": "市级", "county": "县级", "town": "乡镇级"}


class Representative(Model):
    """A deputy or committee member. `user_id` is set once they can handle suggestions online."""

    __tablename__ = "representatives"

    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    bio: Mapped[str] = mapped_column(Text, default="")
    # The scene of their own mini-program code (码上见代表): scanning it opens a suggestion to them.
    scene: Mapped[str] = mapped_column(String(32), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    area = relationship("Area", lazy="joined", innerjoin=True)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS.get(self.level, self.level)


class LiaisonOffice(Model):
    """The liaison office (代表联络站) of one area.

    Its staff are the users holding the `representative` role over the office's area or an
    ancestor of it (a grant covers its subtree, as everywhere else).
    """

    __tablename__ = "liaison_offices"

    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), unique=True)
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    name: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(200), default="")

    area = relationship("Area", lazy="joined", innerjoin=True)


class Suggestion(Model):
    __tablename__ = "suggestions"

    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    photos: Mapped[list] = mapped_column(JSON, default=list)
    allow_publication: Mapped[bool] = mapped_column(Boolean, default=False)
    submitter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    representative_id: Mapped[int | None] = mapped_column(ForeignKey("representatives.id"), index=True)
    # Set when sent to an office, or when the chosen representative has no account yet,
    # so that the office passes it on.
    office_id: Mapped[int | None] = mapped_column(ForeignKey("liaison_offices.id"), index=True)
    # The area the suggestion is about: the representative's, or the one the resident chose.
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    reject_reason: Mapped[str] = mapped_column(Text, default="")
    answer: Mapped[str] = mapped_column(Text, default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    department_reply: Mapped[str] = mapped_column(Text, default="")
    closing_note: Mapped[str] = mapped_column(Text, default="")
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)

    representative: Mapped[Representative | None] = relationship(lazy="joined")
    office: Mapped[LiaisonOffice | None] = relationship(lazy="joined")
    department = relationship("Department", lazy="joined")
    area = relationship("Area", lazy="joined", innerjoin=True)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_suggestions_status_due_at", "status", "due_at"),
        Index("ix_suggestions_public", "status", "allow_publication", "id"),
    )
