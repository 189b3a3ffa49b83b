"""Deadlines counted around the clock or on working days, with holidays and weekend workdays (调休)."""
from __future__ import annotations

import datetime as dt
from datetime import datetime

import pytest
from sqlalchemy import select

from app.cases.deadlines import due_after
from app.cases.models import Holiday
from app.core.time import SHANGHAI, to_local, travel, utcnow
from app.extensions import db

# 2030-01-04 is a Friday; the demo calendar only covers 2026, so these weeks are plain.
FRIDAY_3PM = datetime(2030, 1, 4, 15, 0, tzinfo=SHANGHAI)


@pytest.fixture
def place_id():
    from app.areas.models import Place

    return db.session.scalar(select(Place.id).where(Place.name == "东城小区1号楼"))


def local(value: datetime) -> datetime:
    return to_local(value).replace(tzinfo=None)


def test_around_the_clock_ignores_weekends():
    assert local(due_after(FRIDAY_3PM, 24, working_days=False)) == datetime(2030, 1, 5, 15, 0)


def test_working_days_skip_the_weekend():
    assert local(due_after(FRIDAY_3PM, 24, working_days=True)) == datetime(2030, 1, 7, 15, 0)
    wednesday_9am = datetime(2030, 1, 2, 9, 0, tzinfo=SHANGHAI)
    assert local(due_after(wednesday_9am, 72, working_days=True)) == datetime(2030, 1, 7, 9, 0)


def test_a_weekend_report_starts_counting_on_the_next_working_day():
    saturday = datetime(2030, 1, 5, 10, 0, tzinfo=SHANGHAI)
    assert local(due_after(saturday, 24, working_days=True)) == datetime(2030, 1, 8, 0, 0)
    assert local(due_after(saturday, 4, working_days=True)) == datetime(2030, 1, 7, 4, 0)


def test_public_holidays_do_not_count():
    db.session.add(Holiday(date=dt.date(2030, 1, 7), is_workday=False, name="测试假日"))
    db.session.flush()
    assert local(due_after(FRIDAY_3PM, 24, working_days=True)) == datetime(2030, 1, 8, 15, 0)


def test_a_weekend_workday_counts():
    db.session.add(Holiday(date=dt.date(2030, 1, 5), is_workday=True, name="调休上班"))
    db.session.flush()
    assert local(due_after(FRIDAY_3PM, 24, working_days=True)) == datetime(2030, 1, 5, 15, 0)


def test_a_limit_running_into_next_year_uses_that_years_calendar():
    db.session.add(Holiday(date=dt.date(2031, 1, 1), is_workday=False, name="元旦"))
    db.session.flush()
    tuesday = datetime(2030, 12, 31, 12, 0, tzinfo=SHANGHAI)
    assert local(due_after(tuesday, 24, working_days=True)) == datetime(2031, 1, 2, 12, 0)


def test_reporting_during_the_national_day_holiday_through_the_api(login, place_id):
    """设施损坏 counts working days (24 h to accept); the demo calendar has 国庆 on 1–7 October 2026."""
    from app.cases.models import Category

    category = db.session.scalar(select(Category).where(Category.name == "设施损坏"))
    assert category.working_days and category.accept_hours == 24
    travel(datetime(2026, 10, 2, 10, 0, tzinfo=SHANGHAI) - utcnow())
    resident = login.resident()
    res = resident.post("/cases", json={"place_id": place_id, "category_id": category.id,
                                        "description": "小区大门的道闸坏了。"})
    assert res.status_code == 201, res.get_json()
    # The holiday runs to the 7th; the 8th is the first working day, so it is due as the 8th ends.
    assert res.get_json()["due_at"] == "2026-10-09T00:00:00+08:00"
    # After acceptance on Friday the 9th, 72 working hours: the 10th is a 调休 Saturday, the 11th a Sunday.
    travel(datetime(2026, 10, 9, 9, 0, tzinfo=SHANGHAI) - utcnow())
    grid = login("grid_east1")
    accepted = grid.post(f"/cases/{res.get_json()['id']}/transitions", json={"action": "accept"})
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["due_at"].startswith("2026-10-13T09:00:00")


def test_a_preloaded_calendar_knows_its_window_and_reads_the_table_beyond_it():
    """A report reads the coming weeks' overrides with the place (app/cases/filing.py); a limit that
    runs past them falls back to the table."""
    from app.cases.deadlines import WorkCalendar

    db.session.add(Holiday(date=dt.date(2030, 1, 7), is_workday=False, name="测试假日"))
    db.session.flush()
    short = WorkCalendar.preloaded({}, first=dt.date(2030, 1, 1), last=dt.date(2030, 1, 6))
    assert local(due_after(FRIDAY_3PM, 24, working_days=True, calendar=short)) == datetime(2030, 1, 8, 15, 0)
    # Inside its window the calendar answers from what it was given, not from the table.
    given = WorkCalendar.preloaded({dt.date(2030, 1, 5): True}, first=dt.date(2030, 1, 1), last=dt.date(2030, 2, 1))
    assert local(due_after(FRIDAY_3PM, 24, working_days=True, calendar=given)) == datetime(2030, 1, 5, 15, 0)
