"""Areas form a tree stored with a materialised path, so a subtree is one indexed prefix match."""
from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import AreaPath, Model

DISTRICT, STREET, COMMUNITY, GRID = "district", "street", "community", "grid"
LEVELS = (DISTRICT, STREET, COMMUNITY, GRID)
LEVEL_LABELS = {DISTRICT: "区县", STREET: "街道/乡镇", COMMUNITY: "社区/村", GRID: "网格"}
CHILD_LEVEL = {DISTRICT: STREET, STREET: COMMUNITY, COMMUNITY: GRID}

PLACE_KINDS = {"building": "楼栋", "unit": "单元", "shop": "商户", "outdoor": "室外点位"}


class Area(Model):
    __tablename__ = "areas"

    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    # "/1/4/17/": ids from the root down to this node, both ends slashed so a prefix never
    # matches a sibling whose id merely starts with the same digits.
    path: Mapped[str] = mapped_column(AreaPath, default="", index=True)

    parent: Mapped[Area | None] = relationship(remote_side="Area.id", lazy="raise_on_sql")

    __table_args__ = (Index("ix_areas_level_path", "level", "path"),)

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[self.level]

    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]


class Place(Model):
    """A building, unit, shop or outdoor spot: where a QR code hangs."""

    __tablename__ = "places"

    grid_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), default="building")
    address: Mapped[str] = mapped_column(String(200), default="")
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    grid: Mapped[Area] = relationship(lazy="joined", innerjoin=True)

    @property
    def kind_label(self) -> str:
        return PLACE_KINDS.get(self.kind, self.kind)


class Department(Model):
    """A functional department (职能部门) that takes dispatched cases and referred suggestions."""

    __tablename__ = "departments"

    name: Mapped[str] = mapped_column(String(64))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)

    area: Mapped[Area] = relationship(lazy="joined", innerjoin=True)
