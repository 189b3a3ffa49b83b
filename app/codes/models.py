"""A code hangs on a place; its `scene` is what the mini-program code and the plain QR code carry."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.areas.models import Place
from app.core.db import AreaPath, Model, UTCDateTime

# What anyone scanning an unknown, disabled or inactive-place scene is told (404).
INVALID_SCENE = "二维码无效或已停用。"


class Code(Model):
    __tablename__ = "codes"

    # At most 32 visible ASCII characters (WeChat's limit), random: see app.core.ids.new_scene.
    scene: Mapped[str] = mapped_column(String(32), unique=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"))
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    rotated_from: Mapped[int | None] = mapped_column(ForeignKey("codes.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Written by the periodic flush, never by the scan request itself.
    scan_count: Mapped[int] = mapped_column(Integer, default=0)
    last_scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    place: Mapped[Place] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (Index("ix_codes_place_id_active", "place_id", "active"),)
