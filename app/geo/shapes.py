"""Polygons as plain lists of rings ([[lng, lat], ...], first ring the outline, the rest holes): reading
GeoJSON, the checks an uploaded boundary must pass, and whether a point lies inside.

No geometry library: these few checks on polygons of at most MAX_VERTICES points are a page of code and keep
the dependency list short (shapely would bring GEOS). Edges are straight in degrees, as in GeoJSON.
"""
from __future__ import annotations

from app.core.errors import Invalid

MAX_VERTICES = 2000
Ring = list[tuple[float, float]]        # (lng, lat), closed: the last point repeats the first


def _bad(message: str) -> Invalid:
    return Invalid(message, errors={"geojson": [message]})


def polygon_of(document) -> list[Ring]:
    """The rings of the one Polygon in a GeoJSON document (a Polygon, a Feature or a FeatureCollection
    of one Feature), checked: numbers in range, rings closed, no ring crossing itself or another."""
    geometry = document
    if isinstance(geometry, dict) and geometry.get("type") == "FeatureCollection":
        features = geometry.get("features") or []
        if len(features) != 1:
            raise _bad("边界文件须只含一个区域（一个 Feature）。")
        geometry = features[0]
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") != "Polygon":
        raise _bad("边界须为一个面（多边形）。")
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or not coordinates:
        raise _bad("边界没有坐标。")
    rings = [_ring(raw, index) for index, raw in enumerate(coordinates)]
    if sum(len(ring) for ring in rings) > MAX_VERTICES:
        raise _bad(f"边界的顶点不能超过 {MAX_VERTICES} 个。")
    if crossing(rings):
        raise _bad("边界自相交：边与边不能交叉。")
    for hole in rings[1:]:
        if not inside_ring(hole[0], rings[0]):
            raise _bad("边界的内环（洞）须在外环之内。")
    return rings


def _ring(raw, index: int) -> Ring:
    name = "外环" if index == 0 else f"第 {index} 个内环"
    if not isinstance(raw, list) or len(raw) < 4:
        raise _bad(f"{name}至少要有 4 个坐标（首尾相同）。")
    ring = []
    for position in raw:
        if (not isinstance(position, list | tuple) or len(position) < 2
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in position[:2])):
            raise _bad(f"{name}的坐标须为 [经度, 纬度] 数字。")
        lng, lat = float(position[0]), float(position[1])
        if not (-180.0 <= lng <= 180.0 and -90.0 <= lat <= 90.0):
            raise _bad(f"{name}的坐标超出经纬度范围。")
        ring.append((lng, lat))
    if ring[0] != ring[-1]:
        raise _bad(f"{name}未闭合：最后一个坐标须与第一个相同。")
    if len(set(ring[:-1])) < 3:
        raise _bad(f"{name}至少要有 3 个不同的顶点。")
    if abs(signed_area(ring)) < 1e-14:
        raise _bad(f"{name}面积为零。")
    return ring


def signed_area(ring: Ring) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False)) / 2.0


def _orient(a, b, c) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _on_segment(a, b, p) -> bool:
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def _segments_meet(a, b, c, d) -> bool:
    """Whether segments ab and cd share any point (touching counts)."""
    d1, d2, d3, d4 = _orient(c, d, a), _orient(c, d, b), _orient(a, b, c), _orient(a, b, d)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return ((d1 == 0 and _on_segment(c, d, a)) or (d2 == 0 and _on_segment(c, d, b))
            or (d3 == 0 and _on_segment(a, b, c)) or (d4 == 0 and _on_segment(a, b, d)))


def _edges(rings: list[Ring]) -> list[tuple]:
    """(min x, max x, ring index, edge index, start, end) for every edge."""
    out = []
    for r, ring in enumerate(rings):
        for i, (a, b) in enumerate(zip(ring, ring[1:], strict=False)):
            out.append((min(a[0], b[0]), max(a[0], b[0]), r, i, a, b))
    return out


def crossing(rings: list[Ring]) -> bool:
    """Whether any two edges meet other than where neighbours on one ring share their vertex.

    A sweep over x: each edge is compared only with the edges whose x-range overlaps its own."""
    edges = sorted(_edges(rings), key=lambda e: e[0])
    sizes = [len(ring) - 1 for ring in rings]
    active: list[tuple] = []
    for edge in edges:
        active = [other for other in active if other[1] >= edge[0]]
        for other in active:
            if other[2] == edge[2]:
                gap = abs(other[3] - edge[3])
                if gap == 1 or gap == sizes[edge[2]] - 1:
                    # Neighbours share a vertex; they only cross by folding back over each other.
                    shared = edge[4] if edge[4] in (other[4], other[5]) else edge[5]
                    far_edge = edge[5] if shared == edge[4] else edge[4]
                    far_other = other[5] if shared == other[4] else other[4]
                    if _orient(shared, far_edge, far_other) == 0 and _on_segment(shared, far_edge, far_other) \
                            or _orient(shared, far_other, far_edge) == 0 and _on_segment(shared, far_other, far_edge):
                        return True
                    continue
            if _segments_meet(edge[4], edge[5], other[4], other[5]):
                return True
        active.append(edge)
    return False


def inside_ring(point: tuple[float, float], ring: Ring) -> bool:
    """Even-odd ray casting; a point on an edge counts as inside."""
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
        if _orient((x1, y1), (x2, y2), (x, y)) == 0 and _on_segment((x1, y1), (x2, y2), (x, y)):
            return True
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def contains(rings: list[Ring], point: tuple[float, float]) -> bool:
    """Whether the polygon holds the point (lng, lat): inside the outline and in no hole."""
    if not inside_ring(point, rings[0]):
        return False
    return not any(inside_ring(point, hole) and not _on_ring(point, hole) for hole in rings[1:])


def _on_ring(point, ring: Ring) -> bool:
    return any(_orient(a, b, point) == 0 and _on_segment(a, b, point) for a, b in zip(ring, ring[1:], strict=False))


# Boundaries are converted to GCJ-02 vertex by vertex, so a grid's vertex that lay on its community's edge
# may land a hair off it: about a centimetre of slack (in degrees) when one polygon is checked against another.
SLACK = 1e-7


def _near(point, rings: list[Ring]) -> bool:
    """Whether the point lies within SLACK of an edge of the rings."""
    px, py = point
    for ring in rings:
        for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
            dx, dy = x2 - x1, y2 - y1
            t = max(0.0, min(1.0, ((px - x1) * dx + (py - y1) * dy) / (dx * dx + dy * dy or 1.0)))
            if (px - x1 - t * dx) ** 2 + (py - y1 - t * dy) ** 2 <= SLACK * SLACK:
                return True
    return False


def within(inner: list[Ring], outer: list[Ring]) -> bool:
    """Whether polygon `inner` lies inside polygon `outer` (sharing stretches of border is allowed).

    Every vertex of inner's outline is in outer, and no vertex of outer lies strictly inside inner: an edge of
    outer cannot then cut through inner either, since a straight cut always leaves a vertex on each side."""
    if not all(contains(outer, p) or _near(p, outer) for p in inner[0][:-1]):
        return False
    inner_outline = inner[:1]
    for ring in outer:
        for p in ring[:-1]:
            if contains(inner_outline, p) and not _near(p, inner_outline):
                return False
    return True


def bbox(rings: list[Ring]) -> tuple[float, float, float, float]:
    xs = [p[0] for p in rings[0]]
    ys = [p[1] for p in rings[0]]
    return min(xs), min(ys), max(xs), max(ys)


def map_points(rings: list[Ring], convert) -> list[Ring]:
    """Each vertex through `convert(lat, lng) -> (lat, lng)`, keeping every ring closed."""
    out = []
    for ring in rings:
        moved = [tuple(reversed(convert(lat, lng))) for lng, lat in ring[:-1]]
        out.append([*moved, moved[0]])
    return out
