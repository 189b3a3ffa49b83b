"""Which area holds a point: one prebuilt lookup of the lattice cell, then point-in-polygon on the few
boundaries whose box touches that cell. The hot path of a located report (bench/geo_route.py)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import bindparam, select

from app.areas.models import COMMUNITY, GRID
from app.extensions import db
from app.geo import shapes
from app.geo.models import Boundary, BoundaryCell

CELL_DEGREES = 0.01     # about 1.1 km north-south: a grid spans a few cells, a community a few dozen
_ROW = 20000            # cells per column of the lattice (180° / 0.01 = 18,000 fit)
MAX_CELLS = 10000       # a boundary whose box spans more (over ~100 km square) is refused as a mistake


def cell_of(lat: float, lng: float) -> int:
    return int(math.floor((lng + 180.0) / CELL_DEGREES)) * _ROW + int(math.floor((lat + 90.0) / CELL_DEGREES))


def cells_of(min_lng: float, min_lat: float, max_lng: float, max_lat: float) -> list[int]:
    x0, x1 = (int(math.floor((v + 180.0) / CELL_DEGREES)) for v in (min_lng, max_lng))
    y0, y1 = (int(math.floor((v + 90.0) / CELL_DEGREES)) for v in (min_lat, max_lat))
    return [x * _ROW + y for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


_boundaries, _cells = Boundary.__table__, BoundaryCell.__table__
_CANDIDATES = (
    select(_boundaries.c.id, _boundaries.c.area_id, _boundaries.c.area_path, _boundaries.c.level,
           _boundaries.c.rings)
    .select_from(_cells.join(_boundaries, _boundaries.c.id == _cells.c.boundary_id))
    .where(_cells.c.cell == bindparam("cell"), _boundaries.c.min_lng <= bindparam("lng"),
           _boundaries.c.max_lng >= bindparam("lng"), _boundaries.c.min_lat <= bindparam("lat"),
           _boundaries.c.max_lat >= bindparam("lat"))
)


@dataclass(frozen=True)
class Hit:
    """The innermost boundary holding a point: its area (a grid, else a community)."""

    area_id: int
    area_path: str
    level: str


def route(lat: float, lng: float) -> Hit | None:
    """The grid whose boundary holds the GCJ-02 point, else the community whose boundary does, else None."""
    rows = db.session.execute(_CANDIDATES, {"cell": cell_of(lat, lng), "lat": lat, "lng": lng}).all()
    found: dict[str, Hit] = {}
    for row in sorted(rows, key=lambda r: r.id):
        if row.level not in found and shapes.contains(row.rings, (lng, lat)):
            found[row.level] = Hit(row.area_id, row.area_path, row.level)
    return found.get(GRID) or found.get(COMMUNITY)


def nearest_community(lat: float, lng: float) -> Hit | None:
    """The community whose boundary box lies nearest the point (for a point outside every boundary)."""
    rows = db.session.execute(select(_boundaries.c.area_id, _boundaries.c.area_path, _boundaries.c.min_lng,
                                     _boundaries.c.min_lat, _boundaries.c.max_lng, _boundaries.c.max_lat)
                              .where(_boundaries.c.level == COMMUNITY)).all()
    if not rows:
        return None

    def gap(row) -> float:
        dx = max(row.min_lng - lng, 0.0, lng - row.max_lng) * math.cos(math.radians(lat))
        dy = max(row.min_lat - lat, 0.0, lat - row.max_lat)
        return dx * dx + dy * dy

    best = min(rows, key=lambda r: (gap(r), r.area_id))
    return Hit(best.area_id, best.area_path, COMMUNITY)
