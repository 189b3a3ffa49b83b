"""Verbs for boundaries and place points: upload (validated, stored in GCJ-02), read back as WGS-84 GeoJSON,
and the coded places nearest a point."""
from __future__ import annotations

import json

from sqlalchemy import delete, insert, select

from app.areas.models import COMMUNITY, GRID, Area, Place
from app.areas.service import get_area
from app.core import audit
from app.core.errors import Invalid, NotFound
from app.core.scoping import ADMIN_ROLES, STAFF_ROLES, Actor, require_scope
from app.extensions import db
from app.geo import datum, routing, shapes
from app.geo.models import Boundary, BoundaryCell, PlacePoint

MAX_GEOJSON_BYTES = 512 * 1024
NEAREST_PLACES = 3


def read_geojson(raw: bytes | str) -> dict:
    """An uploaded GeoJSON file, size-checked and parsed."""
    if len(raw) > MAX_GEOJSON_BYTES:
        raise Invalid(f"边界文件不能超过 {MAX_GEOJSON_BYTES // 1024} KB。", errors={"geojson": ["过大"]})
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Invalid("无法读取边界文件，请检查文件格式。", errors={"geojson": ["无法解析"]}) from None


def boundary_of(area_id: int) -> Boundary | None:
    return db.session.scalar(select(Boundary).where(Boundary.area_id == area_id))


def set_boundary(actor: Actor, area_id: int, document) -> Boundary:
    """Set a grid's or a community's boundary from GeoJSON (WGS-84, as RFC 7946 says): a grid's must lie
    inside its community's, and a community's new outline must still hold the boundaries of its grids."""
    area = get_area(area_id)
    # A grid is drawn by its community's admins; a community's outline by the street's (not by itself).
    require_scope(actor, get_area(area.parent_id).path if area.level == COMMUNITY else area.path, ADMIN_ROLES)
    if area.level not in (GRID, COMMUNITY):
        raise Invalid("只有网格和社区可以设置边界。", errors={"area_id": ["须为网格或社区"]})
    rings = shapes.map_points(shapes.polygon_of(document), datum.wgs84_to_gcj02)
    box = shapes.bbox(rings)
    cells = routing.cells_of(*box)
    if len(cells) > routing.MAX_CELLS:
        raise Invalid("边界范围过大，请检查坐标。", errors={"geojson": ["范围过大"]})
    if area.level == GRID:
        outer = boundary_of(area.parent_id)
        if outer is None:
            raise Invalid("请先设置所属社区的边界。", errors={"geojson": ["社区无边界"]})
        if not shapes.within(rings, outer.rings):
            raise Invalid("网格边界须在所属社区的边界之内。", errors={"geojson": ["超出社区边界"]})
    else:
        grid_ids = select(Area.id).where(Area.parent_id == area.id, Area.level == GRID)
        for inner in db.session.scalars(select(Boundary).where(Boundary.area_id.in_(grid_ids))):
            if not shapes.within(inner.rings, rings):
                raise Invalid("社区边界须包含其下各网格的边界。", errors={"geojson": ["未包含下属网格"]})
    boundary = store_boundary(area, rings)
    audit.act("geo.boundary_set", area_id=area.id, vertices=sum(len(r) - 1 for r in rings))
    return boundary


def store_boundary(area: Area, rings: list) -> Boundary:
    """Write a checked boundary (GCJ-02 rings) and the lattice cells that index it."""
    box = shapes.bbox(rings)
    cells = routing.cells_of(*box)
    boundary = boundary_of(area.id) or Boundary(area_id=area.id)
    boundary.area_path, boundary.level = area.path, area.level
    boundary.rings = [[list(point) for point in ring] for ring in rings]
    boundary.min_lng, boundary.min_lat, boundary.max_lng, boundary.max_lat = box
    db.session.add(boundary)
    db.session.flush()
    db.session.execute(delete(BoundaryCell).where(BoundaryCell.boundary_id == boundary.id))
    db.session.execute(insert(BoundaryCell), [{"cell": c, "boundary_id": boundary.id} for c in cells])
    return boundary


def as_geojson(boundary: Boundary) -> dict:
    """A stored boundary as a GeoJSON Feature, back in WGS-84."""
    rings = shapes.map_points([[tuple(p) for p in ring] for ring in boundary.rings], datum.gcj02_to_wgs84)
    return {"type": "Feature", "properties": {"area_id": boundary.area_id, "level": boundary.level},
            "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring] for ring in rings]}}


def set_place_point(actor: Actor, place_id: int, lat: float, lng: float) -> PlacePoint:
    """Where a coded place stands (GCJ-02, as the mini-program's map picker gives it)."""
    place = db.session.get(Place, place_id)
    if place is None:
        raise NotFound("场所不存在。")
    require_scope(actor, place.area_path, ADMIN_ROLES)
    check_point(lat, lng)
    point = db.session.scalar(select(PlacePoint).where(PlacePoint.place_id == place.id)) or PlacePoint(
        place_id=place.id)
    point.grid_id, point.lat, point.lng = place.grid_id, lat, lng
    db.session.add(point)
    db.session.flush()
    audit.act("geo.place_point_set", place_id=place.id)
    return point


def check_point(lat, lng) -> None:
    if lat is None or lng is None or not (-90.0 <= lat <= 90.0 and -180.0 <= lng <= 180.0):
        raise Invalid("位置坐标无效。", errors={"location": ["纬度须在 -90~90，经度须在 -180~180"]})


def nearest_places(grid_id: int, lat: float, lng: float, limit: int = NEAREST_PLACES) -> list[dict]:
    """The active coded places of a grid nearest the point, with their distance in metres."""
    rows = db.session.execute(
        select(Place.id, Place.name, Place.address, PlacePoint.lat, PlacePoint.lng)
        .join(PlacePoint, PlacePoint.place_id == Place.id)
        .where(PlacePoint.grid_id == grid_id, Place.active.is_(True))).all()
    ranked = sorted(((round(datum.distance_m(lat, lng, r.lat, r.lng)), r) for r in rows), key=lambda t: (t[0], t[1].id))
    return [{"id": r.id, "name": r.name, "address": r.address, "distance_m": d} for d, r in ranked[:limit]]


def scoped_boundary(actor: Actor, area_id: int) -> dict:
    """A boundary as GeoJSON, for staff over its area."""
    area = get_area(area_id)
    require_scope(actor, area.path, STAFF_ROLES)
    boundary = boundary_of(area.id)
    if boundary is None:  # not drawn yet: a Feature without geometry, as GeoJSON allows
        return {"type": "Feature", "properties": {"area_id": area.id, "level": area.level}, "geometry": None}
    return as_geojson(boundary)


def drawn(area_ids: list[int]) -> set[int]:
    """Which of these areas have a boundary."""
    if not area_ids:
        return set()
    return set(db.session.scalars(select(Boundary.area_id).where(Boundary.area_id.in_(area_ids))))
