"""Boundaries of grids and communities, the coarse cells that index them, and the points of coded places.

Every coordinate here is GCJ-02 (app/geo/datum.py). A boundary is indexed by the cells of a fixed lattice
that its bounding box touches, so finding the boundaries that may hold a point is one equality lookup,
whatever the number of boundaries.
"""
from __future__ import annotations

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import AreaPath, Model


class Boundary(Model):
    """The polygon of one grid or community: rings of [lng, lat] (GCJ-02), the outline first."""

    __tablename__ = "geo_boundaries"

    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), unique=True)
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    level: Mapped[str] = mapped_column(String(16))
    rings: Mapped[list] = mapped_column(JSON)
    min_lng: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lng: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)


class BoundaryCell(Model):
    """One lattice cell that a boundary's bounding box touches."""

    __tablename__ = "geo_boundary_cells"

    cell: Mapped[int] = mapped_column(Integer)
    boundary_id: Mapped[int] = mapped_column(ForeignKey("geo_boundaries.id", ondelete="CASCADE"))

    __table_args__ = (Index("ix_geo_boundary_cells_cell", "cell", "boundary_id"),
                      Index("ix_geo_boundary_cells_boundary_id", "boundary_id"))


class PlacePoint(Model):
    """Where a coded place stands (GCJ-02), so that a located report can offer the places nearest to it."""

    __tablename__ = "geo_place_points"

    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"), unique=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
