"""What filing a report reads and writes, as a few prebuilt Core statements.

A report is the busiest write: residents file them in bursts after a storm or a power cut.
Through the ORM it took a dozen statements and most of its time building and flushing objects
(bench/RESULTS.md). Here one read gathers everything the report needs (the place, the category,
the grid workers to notify, whether a similar case is open there, the holidays that can bear on
its deadline) and each row is written by one prebuilt INSERT. The objects handed back are
detached ORM instances of rows that exist, so the presenter and the notices read them as usual.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    Boolean,
    Date,
    Integer,
    bindparam,
    cast,
    exists,
    false,
    insert,
    literal,
    null,
    select,
    union_all,
)

from app.accounts.responsible import holders_of
from app.areas.models import Area, Place
from app.cases.deadlines import WorkCalendar
from app.cases.models import MODERATION_PASS, Case, Category, Holiday
from app.cases.states import GROUPS
from app.codes.models import Code
from app.codes.scenes import scene_names_place
from app.core.db import existing_row
from app.core.scoping import GRID_WORKER
from app.core.time import to_local
from app.core.timeline import TimelineEvent
from app.extensions import db

SIMILAR_WINDOW = timedelta(hours=72)
# The holidays read with the report: a first time limit (hours to accept) never reaches further.
# A deadline that does falls back to reading the calendar year by year (WorkCalendar).
CALENDAR_DAYS = 60


def similar_filter(place_id, category_id, since) -> tuple:
    """Open, publicly visible cases of one category at one place since `since` (values or columns)."""
    return (Case.place_id == place_id, Case.category_id == category_id, Case.status.in_(GROUPS["open"]),
            Case.moderation == MODERATION_PASS, Case.created_at >= since)


# -- the read --------------------------------------------------------------------------------------

_places, _codes, _areas, _categories = Place.__table__, Code.__table__, Area.__table__, Category.__table__
_holidays = Holiday.__table__
_grid, _community, _street = _areas.alias("filing_grid"), _areas.alias("filing_community"), _areas.alias("filing_street")
_PLACE_COLUMNS = [c.name for c in _places.columns]
_CATEGORY_COLUMNS = [c.name for c in _categories.columns]


def _target(by_scene: bool):
    """The place reported on, with the ids of the areas above it (for its grid workers)."""
    source = _places
    if by_scene:
        source = _places.join(_codes, _codes.c.place_id == _places.c.id)
        where = scene_names_place(_codes, _places)
    else:
        where = (_places.c.id == bindparam("place_id"),)
    return (
        select(*_places.columns, _community.c.id.label("community_id"), _street.c.id.label("street_id"),
               _street.c.parent_id.label("district_id"))
        .select_from(source.outerjoin(_grid, _grid.c.id == _places.c.grid_id)
                     .outerjoin(_community, _community.c.id == _grid.c.parent_id)
                     .outerjoin(_street, _street.c.id == _community.c.parent_id))
        .where(*where).cte("filing_target")
    )


def _typed_nulls(*columns) -> list:
    return [cast(null(), column.type).label(f"x_{column.table.name}_{column.name}") for column in columns]


# The three kinds of row the read returns, told apart by their leading `part` column.
PLACE_AND_CATEGORY, GRID_WORKER_ROW, CALENDAR_ROW = 0, 1, 2


def _read(by_scene: bool):
    """One row for the place and the category (none: no such place), one per grid worker who answers for
    the place, one per calendar override in the window; `part` tells the three apart."""
    target = _target(by_scene)
    place_cols = [target.c[name] for name in _PLACE_COLUMNS]
    category_cols = list(_categories.columns)
    similar = exists().where(*similar_filter(target.c.id, _categories.c.id, bindparam("since")))
    head = (select(literal(PLACE_AND_CATEGORY).label("part"), *place_cols, *category_cols, similar.label("similar"),
                   cast(null(), Integer).label("worker_id"), cast(null(), Date).label("holiday_date"),
                   cast(null(), Boolean).label("holiday_is_workday"))
            .select_from(target.outerjoin(_categories, _categories.c.id == bindparam("category_id"))))
    ancestors = union_all(*(select(column) for column in (
        target.c.grid_id, target.c.community_id, target.c.street_id, target.c.district_id)))
    blanks = [*_typed_nulls(*_places.columns), *_typed_nulls(*_categories.columns), cast(false(), Boolean)]
    held = holders_of(GRID_WORKER, ancestors)
    workers = held.with_only_columns(literal(GRID_WORKER_ROW), *blanks, held.selected_columns.user_id, cast(null(), Date),
                                     cast(null(), Boolean))
    calendar = (select(literal(CALENDAR_ROW), *blanks, cast(null(), Integer), _holidays.c.date, _holidays.c.is_workday)
                .where(_holidays.c.date >= bindparam("first_day"), _holidays.c.date < bindparam("last_day")))
    return union_all(head, workers, calendar)


_READ_BY_SCENE, _READ_BY_PLACE = _read(True), _read(False)


@dataclass
class Context:
    """What a report at one place needs to know, read in one statement."""

    place: Place | None
    category: Category | None
    similar: bool
    grid_workers: list[int]
    calendar: WorkCalendar


def read_context(*, scene: str | None, place_id: int | None, category_id: int, now: datetime) -> Context:
    today = to_local(now).date()
    params = {"category_id": category_id, "since": now - SIMILAR_WINDOW, "first_day": today,
              "last_day": today + dt.timedelta(days=CALENDAR_DAYS)}
    if scene:
        rows = db.session.execute(_READ_BY_SCENE, params | {"scene": scene}).all()
    else:
        rows = db.session.execute(_READ_BY_PLACE, params | {"place_id": place_id}).all()
    place = category = None
    similar, workers, overrides = False, [], {}
    width = len(_PLACE_COLUMNS)
    for row in rows:
        if row.part == PLACE_AND_CATEGORY:
            # The place's and the category's columns share names ("id", "name"), so they are read as
            # the two runs of columns after "part", named by their tables' column lists.
            place = existing_row(Place, dict(zip(_PLACE_COLUMNS, row[1:1 + width], strict=True)))
            category_values = row[1 + width:1 + width + len(_CATEGORY_COLUMNS)]
            if category_values[0] is not None:
                category = existing_row(Category, dict(zip(_CATEGORY_COLUMNS, category_values, strict=True)))
            similar = bool(row.similar)
        elif row.part == GRID_WORKER_ROW:
            workers.append(row.worker_id)
        else:
            overrides[row.holiday_date] = row.holiday_is_workday
    calendar = WorkCalendar.preloaded(overrides, first=today, last=params["last_day"])
    return Context(place, category, similar, sorted(set(workers)), calendar)


# -- the writes ------------------------------------------------------------------------------------

_CASE_INSERT = insert(Case.__table__).returning(Case.__table__.c.id)
_EVENT_INSERT = insert(TimelineEvent.__table__).returning(TimelineEvent.__table__.c.id)


def insert_case(values: dict, *, category: Category, place: Place) -> Case:
    """Write the case row; the Case handed back is that row, detached, with its category and place."""
    case_id = db.session.execute(_CASE_INSERT, values).scalar_one()
    return existing_row(Case, {**values, "id": case_id, "category": category, "place": place, "department": None})


def insert_event(values: dict) -> TimelineEvent:
    """Append one timeline event, written at once (see app.core.workflow.record for the ORM way)."""
    event_id = db.session.execute(_EVENT_INSERT, values).scalar_one()
    return existing_row(TimelineEvent, {**values, "id": event_id})
