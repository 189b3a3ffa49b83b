"""Reporting anywhere: boundaries uploaded and checked, a located report routed to the grid that holds it (or
to the street's admins), the nearest coded places offered, and nearby duplicates found."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.geo import datum

# WGS-84, as a GeoJSON file from a surveyor would have it: 东城社区 a square, its first grid the south-west quarter.
COMMUNITY = [[112.330, 36.490], [112.350, 36.490], [112.350, 36.510], [112.330, 36.510], [112.330, 36.490]]
GRID = [[112.330, 36.490], [112.340, 36.490], [112.340, 36.500], [112.330, 36.500], [112.330, 36.490]]


def polygon(ring):
    return {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def gcj(lat, lng):
    """What wx.getLocation({type: 'gcj02'}) reports standing at this WGS-84 point."""
    glat, glng = datum.wgs84_to_gcj02(lat, lng)
    return {"latitude": glat, "longitude": glng, "accuracy": 15, "address": "东城路与河滨街交叉口"}


@pytest.fixture
def ids():
    from app.areas.models import Area, Place
    from app.cases.models import Category

    areas = {a.name: a for a in db.session.scalars(select(Area))}
    return {"community": areas["东城社区"], "grid": areas["东城社区第一网格"], "street": areas["沁河镇"],
            "places": {p.name: p for p in db.session.scalars(select(Place))},
            "categories": {c.name: c.id for c in db.session.scalars(select(Category))}}


@pytest.fixture
def bounded(login, ids):
    admin = login("east_admin")
    res = admin.client.put(f"/mp/v1/admin/areas/{ids['community'].id}/boundary",
                           json={"geojson": polygon(COMMUNITY)}, headers=admin.headers())
    assert res.status_code == 403  # a community's outline is the street's to draw
    street = login("street_admin")
    res = street.client.put(f"/mp/v1/admin/areas/{ids['community'].id}/boundary",
                            json={"geojson": polygon(COMMUNITY)}, headers=street.headers())
    assert res.status_code == 200, res.get_json()
    res = admin.client.put(f"/mp/v1/admin/areas/{ids['grid'].id}/boundary",
                           json={"geojson": polygon(GRID)}, headers=admin.headers())
    assert res.status_code == 200, res.get_json()
    return admin


def test_a_boundary_reads_back_in_wgs84_as_uploaded(bounded, ids):
    res = bounded.get(f"/admin/areas/{ids['grid'].id}/boundary")
    assert res.status_code == 200
    for (lng, lat), (lng0, lat0) in zip(res.get_json()["geometry"]["coordinates"][0], GRID, strict=True):
        assert datum.distance_m(lat, lng, lat0, lng0) < 0.01


@pytest.mark.parametrize(("ring", "message"), [
    ([[112.330, 36.490], [112.340, 36.500], [112.340, 36.490], [112.330, 36.497], [112.330, 36.490]], "自相交"),
    ([[112.330, 36.490], [112.340, 36.490], [112.340, 36.500], [112.330, 36.500]], "未闭合"),
    ([[112.345, 36.505], [112.360, 36.505], [112.360, 36.520], [112.345, 36.520], [112.345, 36.505]], "社区"),
])
def test_a_broken_or_straying_grid_boundary_is_refused(bounded, ids, ring, message):
    res = bounded.client.put(f"/mp/v1/admin/areas/{ids['grid'].id}/boundary", json={"geojson": polygon(ring)},
                             headers=bounded.headers())
    assert res.status_code == 422
    assert message in res.get_json()["message"]
    # The old boundary stays.
    again = bounded.get(f"/admin/areas/{ids['grid'].id}/boundary").get_json()
    assert len(again["geometry"]["coordinates"][0]) == 5


def test_a_report_by_location_inside_a_grid_goes_to_that_grid(bounded, login, ids):
    place = ids["places"]["东城小区1号楼"]
    res = bounded.client.put(f"/mp/v1/admin/places/{place.id}/point", json={k: v for k, v in gcj(36.4952, 112.3352).items() if k in ("latitude", "longitude")},
                             headers=bounded.headers())
    assert res.status_code == 200, res.get_json()
    resident = login.resident()
    res = resident.post("/cases", json={"category_id": ids["categories"]["设施损坏"], "description": "路面塌陷一个坑。",
                                        "location": gcj(36.4950, 112.3350)})
    assert res.status_code == 201, res.get_json()
    filed = res.get_json()
    assert filed["place"] == {"id": None, "name": "东城路与河滨街交叉口", "address": "东城路与河滨街交叉口"}
    assert filed["location"]["accuracy"] == 15
    nearest = filed["nearby_places"]
    assert nearest[0]["name"] == "东城小区1号楼" and 15 < nearest[0]["distance_m"] < 35
    assert len(nearest) <= 3 and all(p["name"] != "日晷公园东门" for p in nearest)  # the other grid's
    from app.cases.models import Case
    case = db.session.get(Case, filed["id"])
    assert case.area_path == ids["grid"].path and case.place_id is None
    # The grid's worker has it in their list; the other community's admin does not.
    assert filed["id"] in [c["id"] for c in login("grid_east1").get("/cases").get_json()["items"]]
    assert filed["id"] not in [c["id"] for c in login("west_admin").get("/cases").get_json()["items"]]


def test_a_report_outside_every_boundary_goes_to_the_street_admins(bounded, login, ids):
    resident = login.resident()
    res = resident.post("/cases", json={"category_id": ids["categories"]["设施损坏"], "description": "村道边护栏倒了。",
                                        "location": gcj(36.60, 112.50)})
    assert res.status_code == 201, res.get_json()
    filed = res.get_json()
    from app.cases.models import Case
    assert db.session.get(Case, filed["id"]).area_path == ids["street"].path
    assert filed["nearby_places"] == []
    assert filed["id"] in [c["id"] for c in login("street_admin").get("/cases").get_json()["items"]]
    assert filed["id"] not in [c["id"] for c in login("east_admin").get("/cases").get_json()["items"]]


def test_a_report_nearby_finds_the_same_category_within_50_metres(bounded, login, ids):
    category = ids["categories"]["设施损坏"]
    first = login.resident().post("/cases", json={"category_id": category, "description": "路灯不亮。",
                                                   "location": gcj(36.4950, 112.3350)}).get_json()
    neighbour = login.resident()
    # 30 m north: found before filing, and again in the report's answer.
    found = neighbour.get("/cases/similar", query_string={"category_id": category, **{
        k: v for k, v in gcj(36.49527, 112.3350).items() if k in ("latitude", "longitude")}}).get_json()
    assert [c["id"] for c in found] == [first["id"]]
    second = neighbour.post("/cases", json={"category_id": category, "description": "这盏路灯坏了。",
                                            "location": gcj(36.49527, 112.3350)}).get_json()
    assert [c["id"] for c in second["similar"]] == [first["id"]]
    # 120 m away, or another category: not the same problem.
    far = login.resident().post("/cases", json={"category_id": category, "description": "路灯不亮。",
                                                 "location": gcj(36.4961, 112.3350)}).get_json()
    assert far["similar"] == []
    other = next(v for k, v in ids["categories"].items() if v != category)
    again = login.resident().post("/cases", json={"category_id": other, "description": "这里有问题。",
                                                   "location": gcj(36.4950, 112.3350)}).get_json()
    assert again["similar"] == []


def test_a_report_without_code_place_or_location_is_still_refused(login, ids):
    res = login.resident().post("/cases", json={"category_id": ids["categories"]["设施损坏"], "description": "坏了。"})
    assert res.status_code == 422
    assert res.get_json()["message"] == "请扫码或选择上报地点。"
