"""Open311 GeoReport v2 through a real client: georeport (PyPI, maintained) lists services, reads service
definitions and requests in JSON and XML over HTTP on loopback. georeport cannot create requests (its README
says so, and no maintained client on PyPI can: `open311` and `three` are Python 2 era), so creation is posted as
the standard documents it: a form-encoded POST with requests."""
from __future__ import annotations

import threading

import pytest
import requests
from georeport import GeoReport
from sqlalchemy import select
from werkzeug.serving import make_server

from app.extensions import db
from app.geo import datum
from tests.api.test_locations import COMMUNITY, GRID, polygon


def ids_of(listed) -> list[str]:
    """georeport hands XML lists through xmltodict: one item comes back as a dict, none as None."""
    listed = [] if listed is None else listed if isinstance(listed, list) else [listed]
    return [r["service_request_id"] for r in listed]


@pytest.fixture
def server(app):
    httpd = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/open311/v2"
    httpd.shutdown()
    thread.join(5)


@pytest.fixture
def hotline(login):
    """The 12345 hotline as a client of 东城社区, with boundaries drawn."""
    from app.accounts.models import User
    from app.accounts.service import actor_for
    from app.areas.models import Area
    from app.geo import service as geo
    from app.open311 import service as open311

    areas = {a.name: a for a in db.session.scalars(select(Area))}
    admin = actor_for(db.session.scalar(select(User).where(User.username == "admin")))
    geo.set_boundary(admin, areas["东城社区"].id, polygon(COMMUNITY))
    geo.set_boundary(admin, areas["东城社区第一网格"].id, polygon(GRID))
    client, key = open311.issue_client(admin, name="12345 热线", area_id=areas["东城社区"].id)
    db.session.flush()
    return {"client": client, "key": key, "grid": areas["东城社区第一网格"]}


def test_a_client_lists_services_creates_a_request_and_reads_it_back(server, hotline):
    from app.cases.models import Case, Category

    category = db.session.scalar(select(Category).where(Category.name == "设施损坏"))
    for fmt in ("json", "xml"):
        client = GeoReport(server, jurisdiction="gongzhi", output_format=fmt)
        listed = client.get_service_list()
        assert {"service_code": str(category.id), "service_name": "设施损坏"}.items() <= \
            next(s for s in listed if s["service_code"] == str(category.id)).items()
        assert client.get_service_definition(str(category.id))["service_code"] == str(category.id)

    res = requests.post(f"{server}/requests.json", data={
        "api_key": hotline["key"], "jurisdiction_id": "gongzhi", "service_code": str(category.id),
        "lat": "36.4950", "long": "112.3350", "address_string": "东城路口", "description": "市民来电：路面塌陷。"},
        timeout=10)
    assert res.status_code == 200, res.text
    request_id = res.json()[0]["service_request_id"]
    case = db.session.get(Case, int(request_id))
    assert case.area_path == hotline["grid"].path  # routed by the point, which crossed the edge in WGS-84
    assert datum.distance_m(*datum.gcj02_to_wgs84(case.location_lat, case.location_lng), 36.4950, 112.3350) < 0.01

    for fmt in ("json", "xml"):
        client = GeoReport(server, jurisdiction="gongzhi", output_format=fmt)
        one = client.get_service_request(request_id)
        assert one["service_request_id"] == request_id and one["status"] == "open"
        assert one["status_notes"] == "待受理"
        # The public view: the point to about 100 m, no description, no address.
        assert abs(float(one["lat"]) - 36.4950) < 1e-3 and abs(float(one["long"]) - 112.3350) < 1e-3
        assert one["description"] in ("", None) and one["address"] in ("", None)
        assert request_id in ids_of(client.get_service_requests(status="open"))
        assert request_id not in ids_of(client.get_service_requests(status="closed"))
    # Requests are created at once: a token names the request itself; discovery lists both formats.
    token = requests.get(f"{server}/tokens/{request_id}.json", timeout=10).json()
    assert token == [{"token": request_id, "service_request_id": request_id}]
    found = requests.get(f"{server}/discovery.xml", timeout=10)
    assert found.status_code == 200 and "<format>application/json</format>" in found.text
    # With its key, the client reads its own area's requests in full.
    full = requests.get(f"{server}/requests/{request_id}.json", params={"api_key": hotline["key"]}, timeout=10)
    assert full.json()[0]["description"] == "市民来电：路面塌陷。" and full.json()[0]["address"] == "东城路口"
    assert abs(full.json()[0]["lat"] - 36.4950) < 1e-9 and abs(full.json()[0]["long"] - 112.3350) < 1e-9


def test_errors_follow_the_standard_in_both_formats(server, hotline):
    res = requests.post(f"{server}/requests.json", data={"service_code": "1", "lat": "36.495", "long": "112.335",
                                                           "description": "x"}, timeout=10)
    assert res.status_code == 401 and res.json()[0]["code"] == 401
    res = requests.get(f"{server}/requests/999999.xml", timeout=10)
    assert res.status_code == 404 and "<errors><error><code>404</code>" in res.text
    res = requests.get(f"{server}/services.json", params={"jurisdiction_id": "elsewhere"}, timeout=10)
    assert res.status_code == 404
    # A point outside the client's area is refused, and nothing is filed.
    res = requests.post(f"{server}/requests.json", data={
        "api_key": hotline["key"], "service_code": "1", "lat": "36.60", "long": "112.50", "description": "路灯坏了"},
        timeout=10)
    assert res.status_code == 403, res.text
    revoked = requests.get(f"{server}/requests.json", params={"api_key": "not-a-key"}, timeout=10)
    assert revoked.status_code == 401
