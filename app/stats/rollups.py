"""Daily rollups of the figures, so that a street's or a county's dashboard reads days, not cases.

Grain: one community (or the area a case hangs under when it has no community above it) × one local
(Asia/Shanghai) day, and the same summed by calendar month; case figures once in total and once per
status and per category (app/stats/models.py). A period reads its whole months from month rows and
its ends from day rows, so three years of a county are a few tens of thousands of rows whatever the
number of cases. Every change that moves a figure marks its (day, area) dirty in the same
transaction (a flush listener on the session, and `mark_cases` for the deadline sweep's bulk UPDATE);
the periodic job `refresh_rollups` recomputes the dirty days from the rows, so a late change (a case
closed, rated or reopened weeks later, hours approved or rejected) corrects the day it belongs to.
`rebuild_all` recomputes everything (after the migration, and for the benchmark's bulk load).

Figures read from rollups are sums, so they are exact: totals, by status, by category, by area, the
weekly trend, overdue, reopen and satisfaction rates, cases in and out, wishes posted, claimed and
fulfilled, approved hours. Medians and percentiles are not sums: rollups give the mean instead.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, event, func, inspect, select, text, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.areas.models import COMMUNITY, Area
from app.cases.models import Case, Category
from app.core.time import SHANGHAI, to_local
from app.extensions import db
from app.stats.models import AreaRollup, CaseRollup, RollupDirty
from app.volunteering.models import ServiceHours
from app.wishes.models import Wish

APPROVED = "approved"
DIMENSIONS = ("all", "status", "category")  # how case rollups break a (day or month, area) down
BATCH = 500  # dirty (day, area) pairs recomputed per step of a run
_CASE_MEASURES = ("cases_in", "overdue_in", "reopened_in", "closed_in", "rated_in", "rating_sum", "satisfied_in",
                  "accepted_in", "accept_hours_sum", "close_hours_sum", "cases_out", "out_on_time")
_AREA_MEASURES = ("cases_in", "wishes_posted", "wishes_claimed", "claim_hours_sum", "wishes_fulfilled", "service_hours",
                  "service_entries")
# Only one refresh at a time on PostgreSQL (another one finds the lock taken and leaves the work to it).
_LOCK_KEY = 0x6A5F_0027


# -- marking: in the transaction of the change ------------------------------------------------------

def _local_day(moment: datetime | None) -> date | None:
    return None if moment is None else to_local(moment).date()


def _values(state, name: str) -> list:
    """Current and previous values of an attribute within this flush."""
    history = state.attrs[name].load_history()  # loads an expired value: its day must be marked too
    return [v for v in (*history.added, *history.unchanged, *history.deleted) if v is not None]


def _dirty_keys(obj) -> set[tuple[str, date]]:
    state = inspect(obj)
    if isinstance(obj, Case):
        days = {_local_day(v) for n in ("created_at", "closed_at") for v in _values(state, n)}
    elif isinstance(obj, Wish):
        days = {_local_day(v) for n in ("created_at", "claimed_at", "fulfilled_at") for v in _values(state, n)}
    elif isinstance(obj, ServiceHours):
        days = set(_values(state, "served_on"))
    else:
        return set()
    return {(path, day) for path in _values(state, "area_path") for day in days if day is not None}


@event.listens_for(Session, "before_flush")
def _note_deletions(session: Session, _context, _instances) -> None:
    # A deleted row's days are read before the DELETE, while the row can still be loaded.
    keys = session.info.setdefault("gongzhi.rollup_keys", set())
    for obj in session.deleted:
        if isinstance(obj, Case | Wish | ServiceHours):
            keys |= _dirty_keys(obj)


@event.listens_for(Session, "after_flush")
def _mark_flushed_changes(session: Session, _context) -> None:
    # New and changed rows after the INSERT/UPDATE: their defaults (created_at) are known by now.
    keys: set[tuple[str, date]] = session.info.pop("gongzhi.rollup_keys", set())
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Case | Wish | ServiceHours):
            keys |= _dirty_keys(obj)
    if keys:
        _mark(session, keys)


def mark_cases(case_ids: Iterable[int]) -> None:
    """Mark the days of cases changed by a bulk UPDATE, which no flush sees."""
    ids = list(case_ids)
    if not ids:
        return
    keys = set()
    for path, created, closed in db.session.execute(
            select(Case.area_path, Case.created_at, Case.closed_at).where(Case.id.in_(ids))):
        keys |= {(path, day) for day in (_local_day(created), _local_day(closed)) if day is not None}
    _mark(db.session, keys)


def _mark(session: Session, keys: set[tuple[str, date]]) -> None:
    # The generation moves on each mark, so a refresh that read an older one leaves the row for the next run.
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(RollupDirty).values([{"area_path": p, "day": d, "generation": 1} for p, d in sorted(keys)])
    stmt = stmt.on_conflict_do_update(index_elements=["area_path", "day"],
                                      set_={"generation": RollupDirty.generation + 1})
    session.execute(stmt)


# -- recomputing: the periodic job --------------------------------------------------------------------

def refresh() -> int:
    """Recompute every dirty (day, community); returns how many were recomputed. Flushes, never commits."""
    session = db.session
    if session.get_bind().dialect.name == "postgresql" and not session.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _LOCK_KEY}).scalar():
        return 0
    communities = _community_paths()
    done = 0
    while True:
        marks = session.execute(select(RollupDirty.area_path, RollupDirty.day, RollupDirty.generation)
                                .order_by(RollupDirty.day, RollupDirty.area_path).limit(BATCH)).all()
        if not marks:
            return done
        targets = {(_community_of(path, communities), day) for path, day, _ in marks}
        for path, day in sorted(targets):
            _recompute(path, day, communities)
        for path, month in sorted({(path, day.replace(day=1)) for path, day in targets}):
            _recompute_month(path, month)
        for path, day, generation in marks:
            session.execute(delete(RollupDirty).where(RollupDirty.area_path == path, RollupDirty.day == day,
                                                      RollupDirty.generation == generation))
        session.flush()
        done += len(targets)
        if len(marks) < BATCH:
            return done


def rebuild_all() -> int:
    """Throw every rollup away and compute them again from the rows (one pass per table)."""
    session = db.session
    communities = _community_paths()
    session.execute(delete(CaseRollup))
    session.execute(delete(AreaRollup))
    session.execute(delete(RollupDirty))
    cases = _case_cells(_stream(_CASE_COLUMNS), _stream(_CASE_COLUMNS, Case.closed_at.is_not(None)), communities)
    areas = _area_cells(_stream(_CASE_COLUMNS), _stream(_WISH_COLUMNS),
                        _stream(_HOURS_COLUMNS, ServiceHours.status == APPROVED), communities)
    for model, cells in ((CaseRollup, cases), (AreaRollup, areas)):
        _insert(model, cells, "d")
        _insert(model, _by_month(cells), "m")
    session.flush()
    return len(cases) + len(areas)


_CASE_COLUMNS = (Case.area_path, Case.category_id, Case.status, Case.created_at, Case.accepted_at, Case.closed_at,
                 Case.overdue, Case.reopen_count, Case.rating)
_WISH_COLUMNS = (Wish.area_path, Wish.created_at, Wish.claimed_at, Wish.fulfilled_at)
_HOURS_COLUMNS = (ServiceHours.area_path, ServiceHours.served_on, ServiceHours.hours)


def _stream(columns, *where):
    return db.session.execute(select(*columns).where(*where).execution_options(yield_per=5000))


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, SHANGHAI).astimezone(UTC)
    return start, datetime.combine(day + timedelta(days=1), time.min, SHANGHAI).astimezone(UTC)


def _recompute(path: str, day: date, communities: frozenset[str]) -> None:
    """The rollups of one community on one day, from its rows (the areas below it that are no community
    of their own are left out of an exact-path key, which only an area without a community uses)."""
    session = db.session
    start, end = _day_bounds(day)
    session.execute(delete(CaseRollup).where(CaseRollup.grain == "d", CaseRollup.dimension.in_(DIMENSIONS),
                                             CaseRollup.area_path == path, CaseRollup.day == day))
    session.execute(delete(AreaRollup).where(AreaRollup.grain == "d", AreaRollup.area_path == path,
                                             AreaRollup.day == day))
    under = (lambda column: column.startswith(path, autoescape=True)) if path in communities else \
        (lambda column: column == path)

    def case_rows(column):
        return session.execute(select(*_CASE_COLUMNS).where(under(Case.area_path), column >= start, column < end))

    def wish_rows(column):
        return session.execute(select(Wish.id, *_WISH_COLUMNS)
                               .where(under(Wish.area_path), column >= start, column < end))

    def keep(cells):
        return {key: value for key, value in cells.items() if key[0] == path and key[1] == day}

    reported = case_rows(Case.created_at).all()
    cases = keep(_case_cells(reported, case_rows(Case.closed_at), communities))
    wish_rows_once = {r[0]: tuple(r[1:]) for column in (Wish.created_at, Wish.claimed_at, Wish.fulfilled_at)
                      for r in wish_rows(column)}.values()
    hours = session.execute(select(*_HOURS_COLUMNS).where(
        under(ServiceHours.area_path), ServiceHours.served_on == day, ServiceHours.status == APPROVED))
    areas = keep(_area_cells(reported, wish_rows_once, hours, communities))
    _insert(CaseRollup, cases, "d")
    _insert(AreaRollup, areas, "d")


def _recompute_month(path: str, month: date) -> None:
    """The month rows of one community, summed from its day rows."""
    session = db.session
    last = _month_end(month)
    for model, keys, measures in ((CaseRollup, ("dimension", "value"), _CASE_MEASURES),
                                  (AreaRollup, (), _AREA_MEASURES)):
        # The dimension named, so that the key (grain, dimension, area_path, day) serves the lookups.
        of_kind = (model.dimension.in_(DIMENSIONS),) if model is CaseRollup else ()
        session.execute(delete(model).where(model.grain == "m", *of_kind, model.area_path == path,
                                            model.day == month))
        key_columns = [getattr(model, k) for k in keys]
        sums = session.execute(select(*key_columns, *[func.sum(getattr(model, m)) for m in measures])
                               .where(model.grain == "d", *of_kind, model.area_path == path, model.day >= month,
                                      model.day <= last)
                               .group_by(*key_columns).having(func.count() > 0)).all()
        rows = [{"area_path": path, "grain": "m", "day": month, **dict(zip(keys, r[:len(keys)], strict=True)),
                 **dict(zip(measures, r[len(keys):], strict=True))} for r in sums]
        if rows:
            session.execute(model.__table__.insert(), rows)


def _month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _by_month(cells: dict[tuple, dict]) -> dict[tuple, dict]:
    months: dict[tuple, dict] = {}
    for (path, day, *rest), measures in cells.items():
        key = (path, day.replace(day=1), *rest)
        total = months.get(key)
        if total is None:
            months[key] = dict(measures)
        else:
            for name, amount in measures.items():
                total[name] += amount
    return months


def _case_cells(reported, closed, communities) -> dict[tuple, dict]:
    """(community, day, dimension, value) -> figures; each case counts once per dimension."""
    cells: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys(_CASE_MEASURES, 0))

    def rows_of(path, day, category, status):
        community = _community_of(path, communities)
        return (cells[(community, day, "all", "")], cells[(community, day, "status", status)],
                cells[(community, day, "category", str(category))])

    for path, category, status, created, accepted, closed_at, overdue, reopens, rating in reported:
        for cell in rows_of(path, _local_day(created), category, status):
            cell["cases_in"] += 1
            cell["overdue_in"] += bool(overdue)
            cell["reopened_in"] += (reopens or 0) > 0
            if closed_at is not None:
                cell["closed_in"] += 1
                cell["close_hours_sum"] += (closed_at - created).total_seconds() / 3600
            if accepted is not None:
                cell["accepted_in"] += 1
                cell["accept_hours_sum"] += (accepted - created).total_seconds() / 3600
            if rating is not None:
                cell["rated_in"] += 1
                cell["rating_sum"] += rating
                cell["satisfied_in"] += rating >= 4
    for path, category, status, _created, _accepted, closed_at, overdue, _reopens, _rating in closed:
        for cell in rows_of(path, _local_day(closed_at), category, status):
            cell["cases_out"] += 1
            cell["out_on_time"] += not overdue
    return cells


def _area_cells(cases, wishes, hours, communities) -> dict[tuple, dict]:
    cells: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys(_AREA_MEASURES, 0))
    for path, _category, _status, created, *_rest in cases:
        cells[(_community_of(path, communities), _local_day(created))]["cases_in"] += 1
    for path, created, claimed, fulfilled in wishes:
        community = _community_of(path, communities)
        cells[(community, _local_day(created))]["wishes_posted"] += 1
        if claimed is not None:
            cell = cells[(community, _local_day(claimed))]
            cell["wishes_claimed"] += 1
            cell["claim_hours_sum"] += (claimed - created).total_seconds() / 3600
        if fulfilled is not None:
            cells[(community, _local_day(fulfilled))]["wishes_fulfilled"] += 1
    for path, served_on, amount in hours:
        cell = cells[(_community_of(path, communities), served_on)]
        cell["service_hours"] += float(amount or 0)
        cell["service_entries"] += 1
    return cells


def _insert(model, cells: dict[tuple, dict], grain: str) -> None:
    names = ("area_path", "day", "dimension", "value") if model is CaseRollup else ("area_path", "day")
    rows = [{**dict(zip(names, key, strict=True)), "grain": grain, **measures} for key, measures in cells.items()]
    for first in range(0, len(rows), 5000):
        db.session.execute(model.__table__.insert(), rows[first:first + 5000])


def _community_paths() -> frozenset[str]:
    return frozenset(db.session.scalars(select(Area.path).where(Area.level == COMMUNITY)))


def _community_of(path: str, communities: frozenset[str]) -> str:
    """The community a path lies in (the deepest community prefix), else the path itself."""
    cut = len(path)
    while cut > 1:
        candidate = path[:cut]
        if candidate in communities:
            return candidate
        cut = path.rfind("/", 0, cut - 1) + 1
    return path


# -- reading: figures over a period, from the rollups -------------------------------------------------

def _week(day: date) -> str:
    return (day - timedelta(days=day.weekday())).isoformat()


def _rate(part, whole):
    return round(part / whole, 4) if whole else None


def _mean(total, count):
    return round(total / count, 1) if count else None


def _parts(first: date, last: date) -> list[tuple[str, date, date]]:
    """A period as (grain, from, to): its whole months as month rows, its ends as day rows."""
    parts, cursor = [], first
    if cursor.day != 1:
        end = min(last, _month_end(cursor))
        parts.append(("d", cursor, end))
        cursor = end + timedelta(days=1)
    months_from = cursor
    while cursor <= last and _month_end(cursor) <= last:
        cursor = _month_end(cursor) + timedelta(days=1)
    if cursor > months_from:
        parts.append(("m", months_from, cursor - timedelta(days=1)))
    if cursor <= last:
        parts.append(("d", cursor, last))
    return parts


def _period_rows(model, path: str, first: date, last: date, *where):
    """The rows of a period under an area: one index range per part (months, and the days at each end)."""
    table = model.__table__
    parts = [select(table).where(table.c.grain == grain, *where, table.c.area_path.startswith(path, autoescape=True),
                                 table.c.day >= a, table.c.day <= b) for grain, a, b in _parts(first, last)]
    return (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()


def case_figures(path: str, first_day: date, last_day: date) -> dict:
    rows = _period_rows(CaseRollup, path, first_day, last_day, CaseRollup.__table__.c.dimension == "all")
    t = dict(zip(_CASE_MEASURES, db.session.execute(
        select(*[func.coalesce(func.sum(rows.c[m]), 0) for m in _CASE_MEASURES])).one(), strict=True))
    by_area = sorted(((p, int(n)) for p, n in db.session.execute(
        select(rows.c.area_path, func.sum(rows.c.cases_in)).group_by(rows.c.area_path)) if n),
        key=lambda r: (-r[1], r[0]))
    counts: dict[str, dict[str, int]] = {}
    for dimension in ("status", "category"):  # one query each: each is one index range per part
        split = _period_rows(CaseRollup, path, first_day, last_day, CaseRollup.__table__.c.dimension == dimension)
        counts[dimension] = {value: int(n) for value, n in db.session.execute(
            select(split.c.value, func.sum(split.c.cases_in)).group_by(split.c.value)) if n}
    category_names = dict(db.session.execute(select(Category.id, Category.name)).all())
    by_category = sorted(({"category": category_names.get(int(v), v), "count": n}
                          for v, n in counts["category"].items()), key=lambda i: (-i["count"], i["category"]))
    names = _area_names([p for p, _ in by_area])
    weeks: dict[str, int] = defaultdict(int)
    day_rows = (AreaRollup.grain == "d", AreaRollup.area_path.startswith(path, autoescape=True),
                AreaRollup.day >= first_day, AreaRollup.day <= last_day)
    for day, n in db.session.execute(select(AreaRollup.day, func.sum(AreaRollup.cases_in)).where(*day_rows)
                                     .group_by(AreaRollup.day)):
        if n:
            weeks[_week(day)] += int(n)
    total, rated = int(t["cases_in"]), int(t["rated_in"])
    return {
        "total": total,
        "by_status": counts["status"],
        "by_category": by_category,
        "by_grid": [],
        "by_community": [{"community": names.get(p, p), "count": n} for p, n in by_area],
        "hours_to_accept": {"median": None, "p90": None, "mean": _mean(t["accept_hours_sum"], t["accepted_in"])},
        "hours_to_close": {"median": None, "p90": None, "mean": _mean(t["close_hours_sum"], t["closed_in"])},
        "overdue_rate": _rate(int(t["overdue_in"]), total),
        "reopen_rate": _rate(int(t["reopened_in"]), int(t["closed_in"])),
        "satisfaction": {"mean": round(t["rating_sum"] / rated, 2) if rated else None, "rated": rated,
                         "share_4_or_5": _rate(int(t["satisfied_in"]), rated)},
        "weekly_trend": [{"week": w, "count": n} for w, n in sorted(weeks.items())],
        "flow": {"in": total, "out": int(t["cases_out"]), "out_on_time": int(t["out_on_time"])},
        "from_rollups": True,
    }


def area_figures(path: str, first_day: date, last_day: date) -> dict:
    """Wishes and approved service hours over the period: the sums, and hours by month."""
    rows = _period_rows(AreaRollup, path, first_day, last_day)
    t = dict(zip(_AREA_MEASURES, db.session.execute(
        select(*[func.coalesce(func.sum(rows.c[m]), 0) for m in _AREA_MEASURES])).one(), strict=True))
    months: dict[str, float] = defaultdict(float)
    for day, hours in db.session.execute(select(rows.c.day, func.sum(rows.c.service_hours)).group_by(rows.c.day)):
        if hours:
            months[day.strftime("%Y-%m")] += float(hours)
    return {
        "posted": int(t["wishes_posted"]), "claimed": int(t["wishes_claimed"]),
        "fulfilled": int(t["wishes_fulfilled"]), "mean_hours_to_claim": _mean(t["claim_hours_sum"],
                                                                               t["wishes_claimed"]),
        "total_hours": round(float(t["service_hours"]), 1), "entries": int(t["service_entries"]),
        "hours_by_month": [{"month": m, "hours": round(h, 1)} for m, h in sorted(months.items())],
    }


def _area_names(paths: list[str]) -> dict[str, str]:
    ids = {int(p.strip("/").split("/")[-1]) for p in paths if p.strip("/")}
    if not ids:
        return {}
    return {a.path: a.name for a in db.session.scalars(select(Area).where(Area.id.in_(ids)))}
