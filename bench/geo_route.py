"""Routing a point among 2,000 grid polygons (and their 100 communities): the cost of `app.geo.routing.route`.

    .venv/bin/python bench/geo_route.py                                   # SQLite, a temporary file
    .venv/bin/python bench/geo_route.py postgresql://postgres@127.0.0.1:5432/bench_geo --rebuild   # PostgreSQL

A database URL must come with --rebuild: every table in it is dropped and created again.

Builds 100 communities of 20 grids each as irregular 24-vertex polygons tiling a county-sized square (GCJ-02),
then routes 5,000 random points inside the county through the real function (one prebuilt statement, then
point-in-polygon on the candidates) and prints p50/p95/p99 in milliseconds. Target: p95 under 5 ms.
"""
from __future__ import annotations

import math
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from app import create_app  # noqa: E402
from app.areas.models import COMMUNITY, GRID, Area  # noqa: E402
from app.extensions import db  # noqa: E402
from app.geo import routing  # noqa: E402
from app.geo.models import Boundary, BoundaryCell  # noqa: E402

WEST, SOUTH = 112.0, 36.3        # the county's south-west corner
COMMUNITY_SIZE = 0.05            # degrees: a 10 × 10 lattice of communities, 0.5° square
GRIDS_PER_SIDE = (5, 4)          # 20 grids per community
VERTICES = 24


def rectangle_ring(x0, y0, x1, y1, rng):
    """A rectangle with VERTICES points along its sides, nudged inward a little so that it stays simple."""
    per_side = VERTICES // 4
    points = []
    for side in range(4):
        for i in range(per_side):
            t = i / per_side
            x, y = [(x0 + t * (x1 - x0), y0), (x1, y0 + t * (y1 - y0)),
                    (x1 - t * (x1 - x0), y1), (x0, y1 - t * (y1 - y0))][side]
            if i:
                dx, dy = [(0, 1), (-1, 0), (0, -1), (1, 0)][side]
                depth = rng.uniform(0, 0.1) * min(x1 - x0, y1 - y0)
                x, y = x + dx * depth, y + dy * depth
            points.append([x, y])
    return [*points, points[0]]


def build(rng) -> int:
    db.drop_all(bind_key=None)
    db.create_all(bind_key=None)
    district = Area(name="县", level="district", path="/1/")
    db.session.add(district)
    db.session.flush()
    street = Area(name="镇", level="street", parent_id=district.id)
    db.session.add(street)
    db.session.flush()
    street.path = f"/{district.id}/{street.id}/"
    grids = 0
    for cx in range(10):
        for cy in range(10):
            x0, y0 = WEST + cx * COMMUNITY_SIZE, SOUTH + cy * COMMUNITY_SIZE
            community = Area(name=f"社区{cx}-{cy}", level=COMMUNITY, parent_id=street.id)
            db.session.add(community)
            db.session.flush()
            community.path = f"{street.path}{community.id}/"
            _boundary(community, [[[x0, y0], [x0 + COMMUNITY_SIZE, y0], [x0 + COMMUNITY_SIZE, y0 + COMMUNITY_SIZE],
                                   [x0, y0 + COMMUNITY_SIZE], [x0, y0]]])
            w, h = COMMUNITY_SIZE / GRIDS_PER_SIDE[0], COMMUNITY_SIZE / GRIDS_PER_SIDE[1]
            for gx in range(GRIDS_PER_SIDE[0]):
                for gy in range(GRIDS_PER_SIDE[1]):
                    grid = Area(name=f"网格{grids}", level=GRID, parent_id=community.id)
                    db.session.add(grid)
                    db.session.flush()
                    grid.path = f"{community.path}{grid.id}/"
                    _boundary(grid, [rectangle_ring(x0 + gx * w, y0 + gy * h, x0 + (gx + 1) * w, y0 + (gy + 1) * h,
                                                    rng)])
                    grids += 1
    db.session.commit()
    return grids


def _boundary(area, rings):
    xs, ys = [p[0] for p in rings[0]], [p[1] for p in rings[0]]
    boundary = Boundary(area_id=area.id, area_path=area.path, level=area.level, rings=rings,
                        min_lng=min(xs), min_lat=min(ys), max_lng=max(xs), max_lat=max(ys))
    db.session.add(boundary)
    db.session.flush()
    db.session.execute(insert(BoundaryCell), [{"cell": c, "boundary_id": boundary.id}
                                              for c in routing.cells_of(*routing_box(boundary))])


def routing_box(boundary):
    return boundary.min_lng, boundary.min_lat, boundary.max_lng, boundary.max_lat


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--rebuild"]
    url = args[0] if args else None
    if url and "--rebuild" not in sys.argv:
        sys.exit("geo_route.py drops every table of the database it is given: add --rebuild to confirm.")
    tmp = tempfile.TemporaryDirectory(prefix="geo-bench-")
    url = url or f"sqlite:///{tmp.name}/geo.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "INSTANCE_DIR": tmp.name,
                      "MEDIA_DIR": f"{tmp.name}/media", "RATELIMIT_ENABLED": False})
    rng = random.Random(24)
    with app.app_context():
        grids = build(rng)
        points = [(SOUTH + rng.uniform(0, 10 * COMMUNITY_SIZE), WEST + rng.uniform(0, 10 * COMMUNITY_SIZE))
                  for _ in range(5000)]
        for lat, lng in points[:200]:   # warm the connection and the statement cache
            routing.route(lat, lng)
        times, found = [], 0
        for lat, lng in points:
            start = time.perf_counter()
            hit = routing.route(lat, lng)
            times.append((time.perf_counter() - start) * 1000)
            found += hit is not None and hit.level == GRID
        db.session.rollback()
    times.sort()
    p = lambda q: times[min(len(times) - 1, math.ceil(q * len(times)) - 1)]  # noqa: E731
    print(f"{url.split(':')[0]}: {grids} grids, {len(points)} points, "
          f"{found} in a grid; p50 {p(0.5):.3f} ms, p95 {p(0.95):.3f} ms, p99 {p(0.99):.3f} ms, "
          f"mean {statistics.mean(times):.3f} ms")


if __name__ == "__main__":
    main()
