"""The yearly service target a community sets for each of its in-service party members (e.g. at least four a year)."""
from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import AreaPath, Model


class ServiceTarget(Model):
    __tablename__ = "service_targets"

    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    area_path: Mapped[str] = mapped_column(AreaPath)
    year: Mapped[int] = mapped_column(Integer)
    # Approved ledger entries (wishes and activities alike) each member should reach in the year.
    services: Mapped[int] = mapped_column(Integer)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (UniqueConstraint("community_id", "year", name="uq_service_targets_community_year"),)
