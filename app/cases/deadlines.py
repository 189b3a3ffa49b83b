"""Deadlines: a time limit in hours, counted either around the clock or only on working days.

Working days are Monday to Friday in Asia/Shanghai, except the public holidays in the
`holidays` table, plus the weekend days that table marks as workdays (调休).
"""
from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.cases.models import Holiday
from app.core.time import SHANGHAI, to_local
from app.extensions import db

# A deadline never looks further ahead than this for the next working day (a broken calendar
# with no working days at all must not loop forever).
MAX_SEARCH_DAYS = 366


class WorkCalendar:
    """Which local dates are working days; loads the holiday table one year at a time."""

    def __init__(self):
        self._years: dict[int, dict[dt.date, bool]] = {}
        self._window: tuple[dt.date, dt.date] | None = None
        self._known: dict[dt.date, bool] = {}

    @classmethod
    def preloaded(cls, overrides: dict[dt.date, bool], *, first: dt.date, last: dt.date) -> WorkCalendar:
        """A calendar that already knows the overrides from `first` up to (not including) `last`;
        days outside that window are read from the table as usual."""
        calendar = cls()
        calendar._window, calendar._known = (first, last), dict(overrides)
        return calendar

    def _year(self, year: int) -> dict[dt.date, bool]:
        if year not in self._years:
            rows = db.session.execute(select(Holiday.date, Holiday.is_workday).where(
                Holiday.date >= dt.date(year, 1, 1), Holiday.date <= dt.date(year, 12, 31)))
            self._years[year] = {day: is_workday for day, is_workday in rows}
        return self._years[year]

    def is_workday(self, day: dt.date) -> bool:
        if self._window and self._window[0] <= day < self._window[1]:
            override = self._known.get(day)
        else:
            override = self._year(day.year).get(day)
        if override is not None:
            return override
        return day.weekday() < 5

    def next_workday(self, day: dt.date) -> dt.date:
        """`day` itself when it is a working day, else the first working day after it."""
        for offset in range(MAX_SEARCH_DAYS):
            candidate = day + timedelta(days=offset)
            if self.is_workday(candidate):
                return candidate
        raise ValueError("节假日日历中一年内没有工作日，请检查节假日设置。")


def due_after(start: datetime, hours: int, working_days: bool, calendar: WorkCalendar | None = None) -> datetime:
    """The moment `hours` after `start`; with `working_days`, only hours on working days count.

    A report made on a Saturday with a 24-hour working-day limit is due at midnight at the end
    of the next working day: the clock starts when the first working day starts.
    """
    if not working_days:
        return start + timedelta(hours=hours)
    calendar = calendar or WorkCalendar()
    remaining = timedelta(hours=hours)
    cursor = to_local(start)
    while True:
        day = calendar.next_workday(cursor.date())
        if day != cursor.date():
            cursor = datetime.combine(day, dt.time(0), tzinfo=SHANGHAI)
        day_end = datetime.combine(day + timedelta(days=1), dt.time(0), tzinfo=SHANGHAI)
        available = day_end - cursor
        if remaining <= available:
            return (cursor + remaining).astimezone(UTC)
        remaining -= available
        cursor = day_end
