"""Demo data for locations: the outlines of 东城社区 and 西园社区 and their grids, and where the coded places
stand, so that a report by location is routed and the console's map has something to draw."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.geo import datum, shapes
from app.geo.models import PlacePoint
from app.geo.service import boundary_of, store_boundary


def _square(west: float, south: float, east: float, north: float) -> list:
    return [[(west, south), (east, south), (east, north), (west, north), (west, south)]]


# WGS-84 (as a survey's file would give them); stored in GCJ-02 like every coordinate.
BOUNDARIES = {
    "东城社区": _square(112.330, 36.490, 112.350, 36.510),
    "东城社区第一网格": _square(112.330, 36.490, 112.340, 36.500),
    "东城社区第二网格": _square(112.340, 36.490, 112.350, 36.500),
    "西园社区": _square(112.310, 36.490, 112.330, 36.510),
    "西园社区第一网格": _square(112.310, 36.490, 112.320, 36.500),
}
PLACES = {
    "东城小区2号楼": (36.4962, 112.3338), "老王便民超市": (36.4935, 112.3385),
    "日晷公园东门": (36.4955, 112.3455), "幸福里3号楼2单元": (36.4925, 112.3430),
    "西园小区5号楼": (36.4950, 112.3150),
}


def seed_demo(*, areas, places, users, departments) -> list[str]:
    drawn = 0
    for name, rings in BOUNDARIES.items():
        area = areas.get(name)
        if area is None or boundary_of(area.id) is not None:
            continue
        store_boundary(area, shapes.map_points(rings, datum.wgs84_to_gcj02))
        drawn += 1
    have = set(db.session.scalars(select(PlacePoint.place_id)))
    pinned = 0
    for place in places:
        if place.name in PLACES and place.id not in have:
            lat, lng = datum.wgs84_to_gcj02(*PLACES[place.name])
            db.session.add(PlacePoint(place_id=place.id, grid_id=place.grid_id, lat=lat, lng=lng))
            pinned += 1
    db.session.flush()
    return [f"边界 {drawn} 个，场所定位 {pinned} 个"]
