"""Input hygiene: control characters and absurd dates are refused at every door; reports never sit under /media."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from marshmallow import fields
from sqlalchemy import select

from app.core import inputs
from app.core.time import to_local, utcnow
from app.extensions import db


def _argument_schemas(app):
    """Every marshmallow schema an API operation reads its input with (body, query, form)."""
    for view in app.view_functions.values():
        for argument in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", []):
            yield argument["schema"]


def _fields(schema):
    for field in schema.fields.values():
        yield field
        if isinstance(field, fields.List):
            yield field.inner
        if isinstance(field, fields.Nested):
            yield from _fields(field.schema)


def test_every_string_and_date_the_api_reads_goes_through_the_input_rules(app):
    plain = []
    for schema in _argument_schemas(app):
        for field in _fields(schema if not isinstance(schema, type) else schema()):
            if isinstance(field, fields.String) and not isinstance(field, inputs.Text):
                plain.append((type(schema).__name__, field.name))
            if isinstance(field, fields.DateTime | fields.Date) and not isinstance(
                    field, inputs.Date | inputs.DateTime):
                plain.append((type(schema).__name__, field.name))
    assert plain == []


@pytest.fixture
def scene():
    from app.codes.models import Code

    return db.session.scalar(select(Code.scene).where(Code.place_id.is_not(None), Code.active.is_(True)))


def _category_id(login):
    return login.anonymous().get("/categories").get_json()["items"][0]["id"]


def test_a_vertical_tab_in_a_report_is_refused_by_name_and_line_breaks_are_kept(login, scene):
    resident = login.resident()
    body = {"scene": scene, "category_id": _category_id(login), "description": "楼道灯坏了\x0b=HYPERLINK(1)"}
    refused = resident.post("/cases", json=body)
    assert refused.status_code == 422
    assert refused.get_json()["errors"]["json"]["description"] == [inputs.MULTI_LINE_MESSAGE]
    accepted = resident.post("/cases", json=body | {"description": "楼道灯坏了\r\n三楼\t东侧"})
    assert accepted.status_code == 201, accepted.get_json()
    assert accepted.get_json()["description"] == "楼道灯坏了\n三楼\t东侧"


def test_a_name_with_cr_lf_is_refused(login, areas):
    resident = login.resident()
    res = resident.post("/party-members", json={"name": "赵志刚\r\nX-Injected: 1", "org_name": "县医院党支部",
                                                "community_id": areas["东城社区"].id})
    assert res.status_code == 422
    assert res.get_json()["errors"]["json"]["name"] == [inputs.SINGLE_LINE_MESSAGE]


@pytest.mark.parametrize("day", ["0331-05-01", "1999-12-31", "2101-01-01", "9999-12-31"])
def test_dates_outside_2000_to_2100_are_refused(login, areas, day):
    resident = login.resident()
    res = resident.post("/wishes", json={"title": "修水龙头", "category": "repair", "community_id": areas["东城社区"].id,
                                         "address": "1号楼", "desired_date": day})
    assert res.status_code == 422
    assert res.get_json()["errors"]["json"]["desired_date"] == [inputs.DATE_MESSAGE]


def test_an_activity_in_year_331_is_refused_not_stored_with_a_local_mean_time_offset(login, areas):
    res = login("east_admin").post("/activities", json={
        "title": "古代活动", "community_id": areas["东城社区"].id, "capacity": 5,
        "starts_at": "0331-05-01T09:00:00", "ends_at": "0331-05-01T11:00:00"})
    assert res.status_code == 422
    assert set(res.get_json()["errors"]["json"]) == {"starts_at", "ends_at"}
    stats = login("east_admin").get("/admin/stats?from=0331-01-01")
    assert stats.status_code == 422


def _console(client, username="east_admin"):
    from flask import g

    from app.demo import DEMO_PASSWORD

    def fresh():
        for name in ("gz_staff", "csrf_token"):
            g.pop(name, None)

    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/login").get_data(as_text=True))
    fresh()
    client.post("/console/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token.group(1)})
    fresh()
    return fresh


def test_the_console_refuses_control_characters_and_ancient_dates(client, areas):
    fresh = _console(client)
    page = client.get("/console/activities").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    fresh()
    starts = to_local(utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    form = {"csrf_token": token, "title": "清扫楼道", "community_id": areas["东城社区"].id, "capacity": 5,
            "description": "带好扫帚", "place_text": "1号楼", "starts_at": starts, "ends_at": starts}
    from app.volunteering.models import Activity

    before = db.session.scalar(select(db.func.count(Activity.id)))
    bad_title = client.post("/console/activities", data=form | {"title": "清扫\r\n楼道"})
    assert "标题不能包含换行" in bad_title.get_data(as_text=True)
    fresh()
    ancient = client.post("/console/activities", data=form | {"starts_at": "0331-05-01T09:00"})
    assert "开始时间：日期应在 2000-01-01 到 2100-12-31 之间" in ancient.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(Activity.id))) == before


def test_monthly_workbooks_are_not_under_the_public_media_path(app, client, login, areas):
    from app.stats import service as stats
    from app.stats.models import MonthlyReport

    month = to_local(utcnow()).strftime("%Y-%m")
    stats.generate_monthly_reports(month)
    report = db.session.scalar(select(MonthlyReport).where(MonthlyReport.area_id == areas["东城社区"].id))
    media = Path(app.config["MEDIA_DIR"]).resolve()
    assert not list(media.rglob("*.xlsx")), "a generated report is under MEDIA_DIR"
    # The attack: the file's old public URL, guessed, without login.
    assert client.get(f"/media/reports/{month}/community-{report.area_id}.xlsx").status_code == 404
    assert client.get(f"/media/../private/reports/{report.path}").status_code == 404
    # The scoped download is the only way in.
    assert login("east_admin").get(f"/mp/v1/admin/stats/monthly-reports/{report.id}/file".removeprefix("/mp/v1")
                                   ).status_code == 200
    assert login("west_admin").get(f"/admin/stats/monthly-reports/{report.id}/file").status_code in (403, 404)
    assert login.anonymous().get(f"/admin/stats/monthly-reports/{report.id}/file").status_code == 401


def test_reports_inside_the_media_dir_refuse_to_start(tmp_path):
    from app.config import ConfigError, load_config

    with pytest.raises(ConfigError):
        load_config({"MEDIA_DIR": str(tmp_path / "media"), "REPORTS_DIR": str(tmp_path / "media" / "reports")})
