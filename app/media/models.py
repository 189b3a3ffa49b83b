"""An uploaded image, owned by the user who uploaded it until a record claims it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import AreaPath, Model, UTCDateTime


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
    # WeChat's image check (mediaCheckAsync v2): pending (asked; the result is pushed to us later), pass,
    # review, risky (moved out of MEDIA_DIR at once), or unchecked (WeChat could not be asked): see
    # app/media/checks.py. Staff may then release or hide it.
    check: Mapped[str] = mapped_column(String(16), default="unchecked", server_default="pass")
    trace_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The area of the record that uses the image (whose reviewers decide on it); set when claimed.
    area_path: Mapped[str | None] = mapped_column(AreaPath, nullable=True)
    # When a record first took it (media.service.photo_refs); a photo no record took is deleted by retention.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def url(self) -> str:
        return f"/media/{self.path}"

    @property
    def thumb_url(self) -> str:
        return f"/media/{self.thumb_path}"
