"""The console's map in a browser: boundaries uploaded as files (a broken one refused with its reason), a
resident's located report drawn as a point inside its grid, the case page's own map, and the hotline page."""
from __future__ import annotations

import json

import pytest

from app.geo import datum
from tests.browser.helpers import check_page, console_login

pytestmark = pytest.mark.browser

COMMUNITY = [[112.330, 36.490], [112.350, 36.490], [112.350, 36.510], [112.330, 36.510], [112.330, 36.490]]
GRID = [[112.330, 36.490], [112.340, 36.490], [112.340, 36.500], [112.333, 36.502], [112.330, 36.500],
        [112.330, 36.490]]
BOW_TIE = [[112.330, 36.490], [112.340, 36.500], [112.340, 36.490], [112.330, 36.497], [112.330, 36.490]]


def geojson(ring) -> dict:
    body = json.dumps({"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}})
    return {"name": "boundary.geojson", "mimeType": "application/geo+json", "buffer": body.encode()}


def upload(page, area_label: str, ring) -> None:
    page.select_option("#boundary-area", label=area_label)
    page.set_input_files("#boundary-file", geojson(ring))
    page.get_by_role("button", name="上传", exact=True).click()
    page.wait_for_load_state("load")


def test_boundaries_uploaded_and_a_located_report_drawn(page_factory):
    page, base, shot = page_factory(1280)
    console_login(page, base, "street_admin")
    page.goto(base + "/console/map")
    upload(page, "社区/村 · 东城社区", COMMUNITY)
    assert page.get_by_text("边界已保存").is_visible()
    upload(page, "网格 · 东城社区第一网格", BOW_TIE)
    assert page.get_by_text("边界自相交").is_visible()  # refused, with its reason
    upload(page, "网格 · 东城社区第一网格", GRID)
    assert page.get_by_text("边界已保存").is_visible()

    # A resident reports by location (GCJ-02, as wx.getLocation gives it), no code nearby.
    token = page.request.post(base + "/mp/v1/auth/login", data={"code": "map-resident"}).json()["access_token"]
    categories = page.request.get(base + "/mp/v1/categories").json()
    category = next(c for c in categories["items"] if c["name"] == "设施损坏")["id"]
    lat, lng = datum.wgs84_to_gcj02(36.4950, 112.3350)
    filed = page.request.post(base + "/mp/v1/cases", headers={"Authorization": f"Bearer {token}"}, data={
        "category_id": category, "description": "东城路口路面塌陷，有积水。",
        "location": {"latitude": lat, "longitude": lng, "accuracy": 20, "address": "东城路与河滨街交叉口"}})
    assert filed.status == 201, filed.text()

    page.goto(base + "/console/map?area_id=" + page.eval_on_selector(
        "#map-area option:checked", "o => o.value"))
    assert page.locator(".map-community polygon").count() == 1
    assert page.locator(".map-grid polygon").count() == 2  # the demo's second grid, and the one just drawn
    assert page.locator("circle.map-point").count() >= 1
    check_page(page, shot, "map-01-community", 1280)

    page.locator("circle.map-point").first.click()
    page.wait_for_load_state("load")
    assert page.locator(".map-svg circle.map-point").count() == 1
    assert page.get_by_text("东城路与河滨街交叉口").first.is_visible()
    check_page(page, shot, "map-02-case", 1280)

    narrow, _, narrow_shot = page_factory(375, 812, mobile=True)
    console_login(narrow, base, "east_admin")
    narrow.goto(base + "/console/map")
    assert narrow.locator(".map-grid polygon").count() == 2
    check_page(narrow, narrow_shot, "map-03-community", 375)


def test_hotline_platform_and_api_key_in_the_console(page_factory):
    page, base, shot = page_factory(375, 812, mobile=True)
    console_login(page, base, "east_admin")
    page.goto(base + "/console/integrations")
    page.locator("details.dialog summary", has_text="添加对接平台").click()
    page.select_option("#hl-area", label="社区/村 · 东城社区")
    page.fill("#hl-endpoint", "https://hotline.invalid/gongzhi")
    page.fill("#hl-secret", "a-shared-secret-of-length")
    page.get_by_role("button", name="添加", exact=True).click()
    page.wait_for_load_state("load")
    assert page.get_by_text("已添加对接平台").is_visible()
    page.locator("details.dialog summary", has_text="签发接口密钥").click()
    page.fill("#o-name", "12345 热线")
    page.select_option("#o-area", label="社区/村 · 东城社区")
    page.get_by_role("button", name="签发", exact=True).click()
    page.wait_for_load_state("load")
    key = page.inner_text("#new-key")
    assert len(key) == 32
    check_page(page, shot, "map-04-integrations", 375)
    services = page.request.get(base + "/open311/v2/requests.json", params={"api_key": key})
    assert services.status == 200
