"""One praise by one user for one target on one local day."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import AreaPath, Model

TARGET_TYPES = {"grid_worker": "网格员", "party_member": "党员", "merchant": "商户", "place": "场所"}
USER_TARGETS = ("grid_worker", "party_member")


class Praise(Model):
    __tablename__ = "praises"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    target_type: Mapped[str] = mapped_column(String(16))
    # A user id for grid_worker / party_member, a place id for merchant / place.
    target_id: Mapped[int] = mapped_column(Integer)
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"))
    message: Mapped[str] = mapped_column(String(200), default="")
    area_path: Mapped[str] = mapped_column(AreaPath)
    # The Asia/Shanghai date: the unique key that makes it one per user, target and day.
    day: Mapped[date] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("user_id", "target_type", "target_id", "day"),
        Index("ix_praises_area_path_id", "area_path", "id"),
        Index("ix_praises_target", "target_type", "target_id"),
        Index("ix_praises_day", "day"),
    )
