"""Statistics checked against figures computed by hand from rows we insert ourselves."""
from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.stats import rollups


@pytest.fixture
def known_cases(areas):
    """Six cases in 东城社区 and one in 西园社区 with hand-picked times and ratings."""
    from app.areas.models import Place
    from app.cases.models import Case, Category

    category = db.session.scalar(select(Category).order_by(Category.id))
    east_place = db.session.scalar(select(Place).where(Place.name == "东城小区1号楼"))
    west_place = db.session.scalar(select(Place).where(Place.name == "西园小区5号楼"))
    from app.accounts.models import User

    reporter = db.session.scalar(select(User).where(User.username == "member_east"))
    base = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a Monday
    specs = [
        # (hours to accept, hours to close, rating, overdue, reopened)
        (1, 10, 5, False, 0),
        (2, 20, 4, False, 0),
        (3, 30, 2, True, 1),
        (4, None, None, True, 0),
        (None, None, None, False, 0),
        (5, 50, 5, False, 0),
    ]
    for i, (acc, close, rating, overdue, reopened) in enumerate(specs):
        created = base + timedelta(days=i)
        db.session.add(Case(
            tracking_no=f"TST{i}", place_id=east_place.id, area_path=east_place.area_path,
            category_id=category.id, description="测试", reporter_id=reporter.id,
            status="closed" if close else ("accepted" if acc else "submitted"), created_at=created,
            accepted_at=created + timedelta(hours=acc) if acc else None,
            closed_at=created + timedelta(hours=close) if close else None,
            rating=rating, overdue=overdue, reopen_count=reopened,
        ))
    db.session.add(Case(tracking_no="TSTW", place_id=west_place.id, area_path=west_place.area_path,
                        category_id=category.id, description="西园", reporter_id=reporter.id,
                        status="submitted", created_at=base))
    db.session.flush()
    rollups.refresh()  # the periodic job: street and county figures read the daily rollups
    return specs


def test_case_figures_match_hand_counts(login, areas, known_cases):
    east = login("east_admin")
    res = east.get(f"/admin/stats?area_id={areas['东城社区'].id}&from=2025-03-01&to=2025-03-31")
    assert res.status_code == 200
    cases = res.get_json()["cases"]
    assert cases["total"] == 6
    assert cases["by_status"] == {"closed": 4, "accepted": 1, "submitted": 1}
    # Medians on the hourly histogram: the smallest edge at least half the durations are within.
    assert cases["hours_to_accept"]["median"] == 3.0          # of 1,2,3,4,5
    assert cases["hours_to_accept"]["p90"] == 5.0
    assert cases["hours_to_close"]["median"] == 20.0          # of 10,20,30,50: 2 of 4 are within 20 h
    assert cases["hours_to_close"]["p90"] == 50.0
    assert cases["hours_to_close"]["mean"] == 27.5
    assert cases["overdue_rate"] == round(2 / 6, 4)
    assert cases["reopen_rate"] == 0.25                       # 1 of 4 closed
    assert cases["satisfaction"] == {"mean": 4.0, "rated": 4, "share_4_or_5": 0.75}
    assert [w["count"] for w in cases["weekly_trend"]] == [6]  # Mon 3 Mar to Sat 8 Mar, one local week
    assert cases["weekly_trend"][0]["week"] == "2025-03-03"


def test_street_admin_sees_street_and_community_admin_only_theirs(login, areas, known_cases):
    street = login("street_admin").get(f"/admin/stats?area_id={areas['沁河镇'].id}&from=2025-03-01&to=2025-03-31")
    assert street.get_json()["cases"]["total"] == 7
    east = login("east_admin")
    assert east.get(f"/admin/stats?area_id={areas['西园社区'].id}").status_code == 403
    assert east.get(f"/admin/stats?area_id={areas['沁河镇'].id}").status_code == 403
    # a resident has no statistics at all
    assert login.resident().get("/admin/stats").status_code == 403


def test_exports_are_real_files_with_the_filters_applied(login, areas, known_cases):
    east = login("east_admin")
    query = f"area_id={areas['东城社区'].id}&from=2025-03-01&to=2025-03-31"
    xlsx = east.get(f"/admin/stats/export.xlsx?{query}")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = {(row[0], row[1]): row[2] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert values[("事件", "上报总数")] == 6  # numbers a spreadsheet can add up (issue #20)
    assert values[("事件", "满意率（4-5 分占比）")] == 0.75  # a percent cell
    csv_text = east.get(f"/admin/stats/export.csv?{query}").data.decode("utf-8-sig")
    assert "上报总数,6" in csv_text
    monthly = east.get(f"/admin/stats/monthly.xlsx?area_id={areas['东城社区'].id}&month=2025-03")
    assert load_workbook(io.BytesIO(monthly.data)).active.title == "2025-03 一表通"
    assert east.get("/admin/stats/monthly.xlsx?month=2026-13").status_code == 422


def test_monthly_job_writes_one_workbook_per_community(app, login, areas, known_cases):
    from tasks.stats import monthly_reports

    assert monthly_reports("2025-03") == 2
    listed = login("east_admin").get("/admin/stats/monthly-reports").get_json()["items"]
    assert [r["area_id"] for r in listed] == [areas["东城社区"].id]
    file = login("east_admin").get(f"/admin/stats/monthly-reports/{listed[0]['id']}/file")
    data = file.data
    file.close()
    assert file.status_code == 200 and load_workbook(io.BytesIO(data)).active["A1"].value.startswith("东城社区")


def test_wish_and_suggestion_lists_export_without_personal_data(login):
    import csv

    east = login("east_admin")
    wishes_csv = east.get("/wishes/export.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(wishes_csv)))
    assert rows[1][:2] == ["编号", "标题（公开）"] and len(rows) > 2
    assert re.search(r"1[3-9]\d{9}", wishes_csv) is None  # no requester phone numbers
    rep = login("rep_npc")
    book = load_workbook(io.BytesIO(rep.get("/suggestions/export.xlsx").data))
    titles = [row[1] for row in book.active.iter_rows(min_row=3, values_only=True)]
    assert titles, "the representative's suggestions are exported"
    # a community admin of 西园 exports no 东城 wish
    west_rows = list(csv.reader(io.StringIO(login("west_admin").get("/wishes/export.csv").data.decode("utf-8-sig"))))
    assert {r[0] for r in west_rows[2:]}.isdisjoint({r[0] for r in rows[2:]})
