"""Admins issue codes, download images and the print sheet, disable and rotate; all within scope."""
from __future__ import annotations

import io
import shutil
import subprocess

import pytest
import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy import select

from app.areas.models import Place
from app.codes.models import Code
from app.extensions import db


def code_of(place_name: str) -> Code:
    return db.session.scalar(select(Code).join(Place, Place.id == Code.place_id)
                             .where(Place.name == place_name, Code.active.is_(True)))


def new_place(admin, areas, name="东城小区9号楼", grid="东城社区第一网格") -> int:
    res = admin.post("/admin/places", json={"grid_id": areas[grid].id, "name": name, "kind": "building"})
    assert res.status_code == 201, res.get_json()
    return res.get_json()["id"]


def test_admin_issues_codes_in_bulk_once_per_place(login, areas):
    admin = login("east_admin")
    first, second = new_place(admin, areas, "东城小区9号楼"), new_place(admin, areas, "东城小区10号楼")
    res = admin.post("/admin/codes", json={"place_ids": [first, second]})
    assert res.status_code == 201, res.get_json()
    issued = res.get_json()
    assert [c["place_name"] for c in issued] == ["东城小区9号楼", "东城小区10号楼"]
    for code in issued:
        assert 0 < len(code["scene"]) <= 32 and all(33 <= ord(ch) <= 126 for ch in code["scene"])
        assert code["active"] and code["portal_url"].endswith(f"/s/{code['scene']}")
    assert issued[0]["scene"] != issued[1]["scene"]
    # Issuing again returns the same codes instead of piling up stickers.
    again = admin.post("/admin/codes", json={"place_ids": [second, first]}).get_json()
    assert {c["id"] for c in again} == {c["id"] for c in issued}
    # The resident can scan the new code at once.
    assert login.anonymous().get(f"/scan/{issued[0]['scene']}").get_json()["place"]["name"] == "东城小区9号楼"


def test_issue_for_a_whole_area_and_unknown_places(login, areas):
    admin = login("east_admin")
    new_place(admin, areas, "幸福里4号楼", grid="东城社区第二网格")
    res = admin.post("/admin/codes", json={"area_id": areas["东城社区第二网格"].id})
    assert res.status_code == 201
    assert {c["place_name"] for c in res.get_json()} == {"日晷公园东门", "幸福里3号楼2单元", "幸福里4号楼"}
    res = admin.post("/admin/codes", json={"place_ids": [999999]})
    assert res.status_code == 404 and res.get_json()["message"] == "场所不存在。"
    res = admin.post("/admin/codes", json={})
    assert res.status_code == 422 and "场所" in res.get_json()["message"]


def test_scope_east_admin_cannot_issue_or_see_west_codes(login):
    west_place = code_of("西园小区5号楼").place_id
    east = login("east_admin")
    res = east.post("/admin/codes", json={"place_ids": [west_place]})
    assert res.status_code == 403
    assert res.get_json()["message"] == "该记录不在您的管辖范围内。"
    listed = east.get("/admin/codes?limit=100").get_json()["items"]
    names = {c["place_name"] for c in listed}
    assert "东城小区1号楼" in names and "西园小区5号楼" not in names
    west_code = code_of("西园小区5号楼").id
    assert east.post(f"/admin/codes/{west_code}/disable").status_code == 403
    assert east.get(f"/admin/codes/sheet?ids={west_code}").status_code == 403
    # A grid worker may look at codes but not issue them.
    grid = login("grid_east1")
    assert grid.post("/admin/codes", json={"place_ids": [code_of("东城小区1号楼").place_id]}).status_code == 403
    assert grid.get("/admin/codes").status_code == 200
    assert login.resident().get("/admin/codes").get_json()["items"] == []


def test_disable_stops_the_scene(login, client):
    code = code_of("东城小区2号楼")
    scene, code_id = code.scene, code.id
    admin = login("east_admin")
    res = admin.post(f"/admin/codes/{code_id}/disable")
    assert res.status_code == 200 and res.get_json()["active"] is False
    res = client.get(f"/mp/v1/scan/{scene}")
    assert res.status_code == 404 and res.get_json()["message"] == "二维码无效或已停用。"
    res = admin.post(f"/admin/codes/{code_id}/disable")
    assert res.status_code == 409 and res.get_json()["message"] == "该二维码已停用。"
    assert admin.get(f"/admin/codes/{code_id}/image").status_code == 409


def test_rotate_issues_a_new_scene_and_kills_the_old_one(login, client):
    old = code_of("老王便民超市")
    old_scene, old_id = old.scene, old.id
    admin = login("east_admin")
    res = admin.post(f"/admin/codes/{old_id}/rotate")
    assert res.status_code == 201, res.get_json()
    fresh = res.get_json()
    assert fresh["scene"] != old_scene and fresh["rotated_from"] == old_id and fresh["place_name"] == "老王便民超市"
    assert client.get(f"/mp/v1/scan/{old_scene}").status_code == 404
    assert client.get(f"/mp/v1/scan/{fresh['scene']}").status_code == 200
    assert admin.post(f"/admin/codes/{old_id}/rotate").status_code == 409
    listed = admin.get(f"/admin/codes?place_id={fresh['place_id']}").get_json()["items"]
    assert [(c["id"], c["active"]) for c in listed] == [(fresh["id"], True), (old_id, False)]


def test_image_is_a_wechat_code_fetched_once_with_configured_page_and_env(app, login, areas, fake_wechat):
    admin = login("east_admin")
    code = admin.post("/admin/codes", json={"place_ids": [new_place(admin, areas)]}).get_json()[0]
    app.config.update(WECHAT_CODE_PAGE="/pages/scan/index", WECHAT_CODE_ENV_VERSION="trial")
    try:
        res = admin.get(f"/admin/codes/{code['id']}/image")
        assert res.status_code == 200, res.get_data(as_text=True)
        assert res.mimetype == "image/jpeg" and res.headers["X-Code-Kind"] == "wechat"
        assert "X-Code-Fallback" not in res.headers
        assert Image.open(io.BytesIO(res.data)).format == "JPEG"
        assert len(fake_wechat.state.wxacode_requests) == 1
        sent = fake_wechat.state.wxacode_requests[0]
        assert sent["scene"] == code["scene"]
        assert sent["page"] == "pages/scan/index"  # no leading slash
        assert sent["env_version"] == "trial"
        assert sent["check_path"] is False  # WeChat can check the page only on the released version
        # Cached on disk: the second download does not call WeChat again.
        assert admin.get(f"/admin/codes/{code['id']}/image").data == res.data
        assert len(fake_wechat.state.wxacode_requests) == 1
    finally:
        app.config.update(WECHAT_CODE_PAGE="pages/scan/index", WECHAT_CODE_ENV_VERSION="release")


def test_wechat_failure_is_a_clear_error_not_a_fake_code(login, areas, fake_wechat):
    admin = login("east_admin")
    code = admin.post("/admin/codes", json={"place_ids": [new_place(admin, areas)]}).get_json()[0]
    fake_wechat.fail_next("wxa/getwxacodeunlimit", {"errcode": 41030, "errmsg": "invalid page"})
    res = admin.get(f"/admin/codes/{code['id']}/image")
    assert res.status_code == 503
    assert "41030" in res.get_json()["message"]


def _modules(png: bytes, box: int = 10, border: int = 4) -> list[list[bool]]:
    image = Image.open(io.BytesIO(png)).convert("L")
    count = image.width // box - 2 * border
    return [[image.getpixel(((border + x) * box + box // 2, (border + y) * box + box // 2)) < 128
             for x in range(count)] for y in range(count)]


def test_console_mode_falls_back_to_the_plain_qr_code_and_says_so(app, login):
    code = code_of("东城小区1号楼")
    admin = login("east_admin")
    app.config["WECHAT_CONSOLE_MODE"] = True
    app.extensions.pop("gongzhi.wechat", None)
    try:
        res = admin.get(f"/admin/codes/{code.id}/image")
    finally:
        app.config["WECHAT_CONSOLE_MODE"] = False
        app.extensions.pop("gongzhi.wechat", None)
    assert res.status_code == 200
    assert res.mimetype == "image/png"
    assert res.headers["X-Code-Kind"] == "qrcode"
    assert res.headers["X-Code-Fallback"] == "wechat-console-mode"
    # It is the plain QR code of the portal URL /s/{scene}.
    expected = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    expected.add_data(f"{app.config['PUBLIC_BASE_URL']}/s/{code.scene}")
    expected.make(fit=True)
    assert _modules(res.data) == expected.get_matrix()


def test_plain_qr_code_on_request(app, login, fake_wechat):
    code = code_of("东城小区1号楼")
    res = login("east_admin").get(f"/admin/codes/{code.id}/image?kind=qrcode")
    assert res.status_code == 200 and res.headers["X-Code-Kind"] == "qrcode" and res.mimetype == "image/png"
    assert fake_wechat.state.wxacode_requests == []
    assert login("east_admin").get(f"/admin/codes/{code.id}/image?kind=gif").status_code == 422


def test_print_sheet_is_an_a4_pdf_with_chinese_labels(login, workdir):
    codes = [code_of(name) for name in ("东城小区1号楼", "老王便民超市", "日晷公园东门")]
    res = login("east_admin").get("/admin/codes/sheet?ids=" + ",".join(str(c.id) for c in codes))
    assert res.status_code == 200, res.get_data(as_text=True)[:300]
    assert res.mimetype == "application/pdf"
    assert res.data.startswith(b"%PDF")
    assert b"STSong-Light" in res.data
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in res.data  # A4
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed")
    pdf = workdir / "sheet.pdf"
    pdf.write_bytes(res.data)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True,
                          text=True).stdout
    for label in ("东城小区1号楼", "老王便民超市", "日晷公园东门", "东城社区／东城社区第一网格",
                  "东城社区／东城社区第二网格"):
        assert label in text, text


def test_print_sheet_refuses_bad_ids(login):
    admin = login("east_admin")
    assert admin.get("/admin/codes/sheet").status_code == 422
    assert admin.get("/admin/codes/sheet?ids=abc").status_code == 422
    res = admin.get("/admin/codes/sheet?ids=999999")
    assert res.status_code == 404 and res.get_json()["message"] == "二维码不存在。"
