"""Open311 clients: an external platform with an API key, scoped to one area, acting as its own account."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import AreaPath, Model, UTCDateTime


class Open311Client(Model):
    """A platform allowed to read and create service requests in one area's subtree."""

    __tablename__ = "open311_clients"

    name: Mapped[str] = mapped_column(String(64))
    # Only a SHA-256 of the key is kept; the key itself is shown once, when issued.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_hint: Mapped[str] = mapped_column(String(8))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    # The account its requests are filed under (a resident-less reporter named after the client).
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
