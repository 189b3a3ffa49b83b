"""An uploaded image, owned by the user who uploaded it until a record claims it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Model, UTCDateTime


class Upload(Model):
    __tablename__ = "uploads"

    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    path: Mapped[str] = mapped_column(String(200), unique=True)
    thumb_path: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # When a record first took it (media.service.photo_refs); a photo no record took is deleted by retention.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def url(self) -> str:
        return f"/media/{self.path}"

    @property
    def thumb_url(self) -> str:
        return f"/media/{self.thumb_path}"
