"""Maps for the console drawn without any tile service (the machines have no internet): the boundaries of an
area and the located cases in it, projected onto an SVG viewBox. Coordinates stay GCJ-02; only shapes are
drawn, so the datum does not matter here."""
from __future__ import annotations

import math

from sqlalchemy import select

from app.areas.models import COMMUNITY, GRID, Area
from app.areas.service import get_area
from app.cases.models import Case
from app.cases.states import AREA_ROLES, GROUPS
from app.core.errors import Invalid
from app.core.scoping import Actor, require_scope, scope_filter
from app.extensions import db
from app.geo.models import Boundary

WIDTH, HEIGHT, PAD = 640, 420, 16
MAX_POINTS = 300


def _projector(boxes: list[tuple[float, float, float, float]]):
    """(lng, lat) -> (x, y) in the viewBox, keeping proportions (x scaled by cos of the middle latitude)."""
    west, south = min(b[0] for b in boxes), min(b[1] for b in boxes)
    east, north = max(b[2] for b in boxes), max(b[3] for b in boxes)
    squeeze = math.cos(math.radians((south + north) / 2))
    span_x, span_y = max((east - west) * squeeze, 1e-9), max(north - south, 1e-9)
    scale = min((WIDTH - 2 * PAD) / span_x, (HEIGHT - 2 * PAD) / span_y)
    off_x = (WIDTH - span_x * scale) / 2
    off_y = (HEIGHT - span_y * scale) / 2

    def project(lng: float, lat: float) -> tuple[float, float]:
        return round(off_x + (lng - west) * squeeze * scale, 1), round(off_y + (north - lat) * scale, 1)

    return project


def _shape(boundary: Boundary, project, name: str) -> dict:
    return {"level": boundary.level, "name": name, "area_id": boundary.area_id,
            "rings": [" ".join(f"{x},{y}" for x, y in (project(p[0], p[1]) for p in ring)) for ring in boundary.rings]}


def area_map(actor: Actor, area_id: int) -> dict | None:
    """A community (or a grid) with its boundary, its grids' and the open located cases inside; None when
    nothing has been drawn yet."""
    area = get_area(area_id)
    require_scope(actor, area.path, AREA_ROLES)
    if area.level not in (COMMUNITY, GRID):
        raise Invalid("只能查看社区或网格的地图。", errors={"area_id": ["须为社区或网格"]})
    community_id = area.id if area.level == COMMUNITY else area.parent_id
    rows = db.session.execute(
        select(Boundary, Area.name).join(Area, Area.id == Boundary.area_id)
        .where((Boundary.area_id == community_id) | (Area.parent_id == community_id)).order_by(Boundary.id)).all()
    if not rows:
        return None
    project = _projector([(b.min_lng, b.min_lat, b.max_lng, b.max_lat) for b, _ in rows])
    cases = db.session.scalars(
        select(Case).where(Case.area_path.startswith(area.path, autoescape=True), Case.location_lat.is_not(None),
                           Case.status.in_(GROUPS["open"]), scope_filter(actor, Case.area_path, AREA_ROLES))
        .order_by(Case.id.desc()).limit(MAX_POINTS))
    points = []
    for case in cases:
        x, y = project(case.location_lng, case.location_lat)
        points.append({"x": x, "y": y, "case_id": case.id, "label": case.location_address or f"事件 {case.id}"})
    shapes = [_shape(b, project, name) for b, name in rows]
    return {"width": WIDTH, "height": HEIGHT, "area": area, "focus": area.id,
            "shapes": sorted(shapes, key=lambda s: s["level"] != COMMUNITY), "points": points}


def case_map(case: Case) -> dict | None:
    """The case's point over the boundary of the area it was routed to (and its community's), if drawn."""
    if case.location_lat is None:
        return None
    ids = [int(part) for part in case.area_path.strip("/").split("/")[-2:]]
    rows = db.session.execute(select(Boundary, Area.name).join(Area, Area.id == Boundary.area_id)
                              .where(Boundary.area_id.in_(ids)).order_by(Boundary.id)).all()
    boxes = [(b.min_lng, b.min_lat, b.max_lng, b.max_lat) for b, _ in rows]
    boxes.append((case.location_lng - 0.001, case.location_lat - 0.001, case.location_lng + 0.001,
                  case.location_lat + 0.001))
    project = _projector(boxes)
    x, y = project(case.location_lng, case.location_lat)
    return {"width": WIDTH, "height": HEIGHT, "focus": ids[-1],
            "shapes": sorted((_shape(b, project, name) for b, name in rows), key=lambda s: s["level"] != COMMUNITY),
            "points": [{"x": x, "y": y, "case_id": case.id, "label": case.location_address or "上报位置"}]}
