"""Daily rollups of the figures, so that the dashboards of communities, streets and counties read days,
not cases.

Grain: one community (or the area a case hangs under when it has no community above it) × one local
(Asia/Shanghai) day, and the same summed by calendar month; case figures once in total and once per
status, category and grid, and histograms of durations (app/stats/models.py). A period reads its whole
months from month rows and its ends from day rows, so three years of a county are a few tens of
thousands of rows whatever the number of cases. Every change that moves a figure marks its (day, area)
dirty in the same transaction (a flush listener on the session, and `mark_cases` for the deadline
sweep's bulk UPDATE); the periodic job `refresh_rollups` recomputes the dirty days from the rows, so a
late change (a case closed, rated or reopened weeks later, hours approved or rejected) corrects the day
it belongs to. `rebuild_all` recomputes everything (after the migration, and for the benchmark's bulk
load). Both are set-based: INSERT … SELECT … GROUP BY, on PostgreSQL and on SQLite alike.

Figures read from rollups are sums, so they are exact: totals, by status, by category, by grid, by
area, the weekly trend, overdue, reopen and satisfaction rates, cases in and out, wishes posted,
claimed and fulfilled, approved hours. Medians and 90th percentiles are not sums, so they are defined
on a histogram (TIERS: hourly within a day, coarser after) that the rows are counted with too
(`duration_bucket`, `quantile`): from rollups they equal what the rows give.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Date,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    delete,
    event,
    func,
    inspect,
    literal_column,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.areas.models import COMMUNITY, Area
from app.cases.models import Case, Category
from app.core.db import AreaPath
from app.core.time import SHANGHAI, to_local
from app.extensions import db
from app.stats.models import AreaRollup, CaseRollup, RollupDirty
from app.volunteering.models import ServiceHours
from app.wishes.models import Wish

APPROVED = "approved"
# How case rollups break a (day or month, area) down: the total, the current status, the category id,
# the grid (the id of the area a case hangs under), and three histograms (HISTOGRAMS).
DIMENSIONS = ("all", "status", "category", "grid", "accept_h", "close_h", "claim_h")
# Bucket (value: its upper edge in hours) -> how many, in `cases_in`: hours to accept and to close of
# the cases reported that day, hours to claim of the wishes claimed that day.
HISTOGRAMS = ("accept_h", "close_h", "claim_h")
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


# -- durations: one histogram for rollups and rows ---------------------------------------------------

# Buckets of a duration, as (up to N hours, buckets of W hours): hourly within a day, every 2 hours to
# 3 days, every 6 hours to a week, daily to 30 days, weekly after. A bucket is (upper - W, upper] and
# is named by its upper edge in hours; the first bucket also holds zero and negative durations.
TIERS = ((24, 1), (72, 2), (168, 6), (720, 24), (None, 168))


def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def hours_between(later, earlier):
    """An SQL expression: hours from `earlier` to `later` (for means)."""
    if _postgres():
        return func.extract("epoch", later - earlier) / 3600.0
    return (func.julianday(later) - func.julianday(earlier)) * 24.0


def _seconds_between(later, earlier):
    # Whole seconds, so that a duration of exactly 3 hours is in the bucket "3", not "4".
    if _postgres():
        return cast(func.round(func.extract("epoch", later - earlier)), BigInteger)
    return cast(func.round((func.julianday(later) - func.julianday(earlier)) * _n(86400.0)), Integer)


def _n(number) -> ColumnElement:
    # Constants written into the SQL, not bound: the rows group by this expression, and PostgreSQL
    # would not see two expressions with different parameters as the same one.
    return literal_column(repr(number), Integer if isinstance(number, int) else Float)


def duration_bucket(later, earlier):
    """An SQL expression: the upper edge in hours of the bucket (TIERS) of the time from `earlier` to
    `later`, as text; NULL when `later` is NULL. The rows and the rollups both count with it."""
    seconds = _seconds_between(later, earlier)
    whens, low = [(seconds <= _n(3600), _n(1))], 0
    for upto, width in TIERS:
        edge = _n(low) + _n(width) * ((seconds + _n(width * 3600 - 1 - low * 3600)) // _n(width * 3600))
        if upto is None:
            return cast(case(*whens, else_=edge), String)
        whens.append((seconds <= _n(upto * 3600), edge))
        low = upto
    raise AssertionError("the last tier is open")


def quantile(counts: dict[int, int], percent: int) -> float | None:
    """The smallest bucket edge (hours) that at least `percent` % of the counted durations are within."""
    total = sum(counts.values())
    if not total:
        return None
    rank, seen = max(1, (percent * total + 99) // 100), 0
    for edge in sorted(counts):
        seen += counts[edge]
        if seen >= rank:
            return float(edge)
    raise AssertionError("unreachable")


def _local_date(column):
    """An SQL expression: the Asia/Shanghai calendar day of a UTC timestamp (China keeps no DST)."""
    if _postgres():
        return cast(func.timezone(_text("Asia/Shanghai"), column), Date)
    return func.date(column, _text("+8 hours"))


def _text(value: str) -> ColumnElement:
    return literal_column(f"'{value}'", String)


def _month_start(column):
    if _postgres():
        return cast(func.date_trunc(_text("month"), column), Date)
    return func.date(column, _text("start of month"))


# -- recomputing: set-based, for everything (rebuild_all) or for dirty (day, community) pairs -----------

# Scratch tables of one run, in the session's connection: area path -> community and grid; the
# (day, community) pairs being recomputed; one narrow row per case, wish and approved entry.
_scratch = MetaData()
_TEMP = {"prefixes": ["TEMPORARY"]}
_MAP = Table("rollup_map", _scratch, Column("path", AreaPath, primary_key=True), Column("community", AreaPath),
             Column("grid", String(16)), **_TEMP)
_TARGETS = Table("rollup_targets", _scratch, Column("area_path", AreaPath), Column("day", Date), **_TEMP)
_CASES = Table("rollup_case_facts", _scratch, Column("community", AreaPath), Column("grid", String(16)),
               Column("status", String(16)), Column("category", String(16)), Column("created_day", Date),
               Column("closed_day", Date), Column("overdue", Integer), Column("reopened", Integer),
               Column("closed", Integer), Column("accepted", Integer), Column("rated", Integer),
               Column("rating", Integer), Column("satisfied", Integer), Column("accept_hours", Float),
               Column("close_hours", Float), Column("accept_b", String(16)), Column("close_b", String(16)), **_TEMP)
_WISHES = Table("rollup_wish_facts", _scratch, Column("community", AreaPath), Column("created_day", Date),
                Column("claimed_day", Date), Column("fulfilled_day", Date), Column("claim_hours", Float),
                Column("claim_b", String(16)), **_TEMP)
# Rollup key (a community, an area without one) -> each area (street, county, …) above it, for the
# subtree rows.
_TREE = Table("rollup_tree", _scratch, Column("key", AreaPath), Column("ancestor", AreaPath), **_TEMP)
_HOURS = Table("rollup_hour_facts", _scratch, Column("community", AreaPath), Column("day", Date),
               Column("hours", Float), **_TEMP)


def refresh() -> int:
    """Recompute every dirty (day, community); returns how many were recomputed. Flushes, never commits."""
    session = db.session
    if _postgres() and not session.execute(
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
        _recompute(sorted(targets), communities)
        dirty = RollupDirty.__table__.c
        _execute_many(delete(RollupDirty.__table__).where(dirty.area_path == bindparam("p"), dirty.day == bindparam("d"),
                                                          dirty.generation == bindparam("g")),
                      [{"p": p, "d": d, "g": g} for p, d, g in marks])
        session.flush()
        done += len(targets)
        if len(marks) < BATCH:
            return done


def rebuild_all() -> int:
    """Throw every rollup away and compute them again from the rows, set-based (INSERT … SELECT … GROUP BY
    over one narrow copy of the rows; month rows summed from day rows)."""
    session = db.session
    tables = [m.__table__ for m in (CaseRollup, AreaRollup, RollupDirty)]
    if _postgres():
        session.execute(text("TRUNCATE " + ", ".join(t.name for t in tables)))
    else:
        for table in tables:
            session.execute(delete(table))
    # The secondary indexes are built once at the end, not row by row.
    indexes = [index for table in tables for index in table.indexes]
    for index in indexes:
        index.drop(session.connection())
    _recompute(None, _community_paths())
    for index in indexes:
        index.create(session.connection())
    session.flush()
    return sum(session.scalar(select(func.count()).select_from(m)) for m in (CaseRollup, AreaRollup))


def _recompute(targets: list[tuple[str, date]] | None, communities: frozenset[str]) -> None:
    """The day and month rollups of the given (community, day) pairs, or of everything (None): the
    community rows ("d", "m"), then the subtree rows of every area above them ("D", "M")."""
    session = db.session
    connection = session.connection()
    tables = (_MAP, _TARGETS, _CASES, _WISHES, _HOURS, _TREE)
    for table in tables:
        connection.execute(text(f"DROP TABLE IF EXISTS {table.name}"))
        table.create(connection)
    if _postgres():
        # Aggregates of a few million groups: in memory, not spilled to disk in 4 MB pieces (this
        # transaction only).
        session.execute(text("SET LOCAL work_mem = '256MB'"))
        session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    try:
        tree = _fill_map(communities)
        if targets is None:
            _fill_facts(())
        else:
            _clear(targets)
            by_path: dict[str, list[date]] = defaultdict(list)
            for path, day in targets:
                by_path[path].append(day)
            for path, days in sorted(by_path.items()):
                _fill_facts(days, path, path in communities)
            session.execute(_TARGETS.insert(), [{"area_path": p, "day": d} for p, d in targets])
        if _postgres():
            for table in (_CASES, _WISHES, _HOURS, _TARGETS):
                session.execute(text(f"ANALYZE {table.name}"))
        _aggregate_days(targeted=targets is not None)
        if targets is None:
            _aggregate_months(None)
            _aggregate_tree_days(None)
            _aggregate_months(None, "D", "M")
            return
        _aggregate_months(sorted({(p, d.replace(day=1)) for p, d in targets}))
        above = sorted({(a, d) for p, d in targets for a in tree.get(p, ())})
        if above:
            _clear(above, "D")
            _aggregate_tree_days(above)
            _aggregate_months(sorted({(a, d.replace(day=1)) for a, d in above}), "D", "M")
    finally:
        for table in reversed(tables):
            connection.execute(text(f"DROP TABLE IF EXISTS {table.name}"))


def _aggregate_tree_days(above: list[tuple[str, date]] | None) -> None:
    """Subtree day rows ("D"): for each area above a rollup key, the sum of the keys' day rows under it,
    so that a street or a county reads a few rows a day instead of one per community. Of everything, or
    of the given (area, day) pairs: one statement per pair, each a few index ranges of the index
    (grain, dimension, day, area_path)."""
    for model, keys, measures in ((CaseRollup, ("dimension",), _CASE_MEASURES), (AreaRollup, (), _AREA_MEASURES)):
        t = model.__table__
        tail = ("value",) if model is CaseRollup else ()
        # No grids above a community: only a community's dashboard lists them.
        of_kind = (t.c.dimension.in_([_text(d) for d in DIMENSIONS if d != "grid"]),) if model is CaseRollup else ()
        if above is None:
            group = [*[t.c[k] for k in keys], _TREE.c.ancestor, t.c.day, *[t.c[k] for k in tail]]
            stmt = select(_const("D"), *group, *[func.sum(t.c[n]) for n in measures]) \
                .select_from(t.join(_TREE, _TREE.c.key == t.c.area_path)) \
                .where(t.c.grain == _text("d"), *of_kind).group_by(*group).order_by(*group)
            db.session.execute(t.insert().from_select(["grain", *keys, "area_path", "day", *tail, *measures], stmt))
            continue
        group = [*[t.c[k] for k in keys], *[t.c[k] for k in tail]]
        stmt = select(_const("D"), *[t.c[k] for k in keys], bindparam("p", type_=AreaPath),
                      bindparam("d", type_=Date), *[t.c[k] for k in tail], *[func.sum(t.c[n]) for n in measures]) \
            .where(t.c.grain == _text("d"), *of_kind, t.c.day == bindparam("d", type_=Date),
                   t.c.area_path >= bindparam("p", type_=AreaPath), t.c.area_path < bindparam("hi", type_=AreaPath))
        # Grouped, or else one row of NULLs when nothing matches.
        stmt = stmt.group_by(*group) if group else stmt.having(func.count() > 0)
        _execute_many(t.insert().from_select(["grain", *keys, "area_path", "day", *tail, *measures], stmt),
                      [{"p": a, "d": d, "hi": a[:-1] + chr(ord(a[-1]) + 1)} for a, d in above])


def _fill_map(communities: frozenset[str]) -> dict[str, list[str]]:
    """Fill the path -> (community, grid) map and the tree; returns rollup key -> the areas above it (an
    area without a community of its own counts as above itself: it is read from subtree rows)."""
    paths = db.session.scalars(select(Area.path)).all()
    rows = [{"path": p, "community": _community_of(p, communities), "grid": p.strip("/").rsplit("/", 1)[-1]}
            for p in paths]
    for first in range(0, len(rows), 5000):
        db.session.execute(_MAP.insert(), rows[first:first + 5000])
    known = set(paths)
    tree = {}
    for key in {r["community"] for r in rows}:
        prefixes = [key[:i + 1] for i, ch in enumerate(key) if ch == "/" and i > 0]
        tree[key] = [p for p in prefixes if p in known and (p != key or key not in communities)]
    pairs = [{"key": k, "ancestor": a} for k, above in tree.items() for a in above]
    for first in range(0, len(pairs), 5000):
        db.session.execute(_TREE.insert(), pairs[first:first + 5000])
    return tree


def _fill_facts(days, path: str | None = None, is_community: bool = False) -> None:
    """One narrow row per case, wish and approved service entry: all of them, or those of one community
    (or area without one) that were reported, closed, claimed, fulfilled or served on one of `days`."""
    session = db.session
    m = _MAP.c

    def scoped(model, *columns):
        where = []
        if path is not None:
            under = model.area_path.startswith(path, autoescape=True) if is_community else model.area_path == path
            where.append(under)
            where.append(func.coalesce(m.community, model.area_path) == path)
            bounds = [_day_bounds(d) for d in days]
            where.append(or_(*[and_(c >= a, c < b) for c in columns for a, b in bounds]) if columns
                         else ServiceHours.served_on.in_(days))
        return model.__table__.outerjoin(_MAP, m.path == model.area_path), where

    source, where = scoped(Case, Case.created_at, Case.closed_at)
    accepted, closed = Case.accepted_at.is_not(None), Case.closed_at.is_not(None)
    session.execute(_CASES.insert().from_select([c.name for c in _CASES.c], select(
        func.coalesce(m.community, Case.area_path), func.coalesce(m.grid, ""), Case.status,
        cast(Case.category_id, String), _local_date(Case.created_at), _local_date(Case.closed_at),
        case((Case.overdue.is_(True), 1), else_=0), case((Case.reopen_count > 0, 1), else_=0),
        case((closed, 1), else_=0), case((accepted, 1), else_=0), case((Case.rating.is_not(None), 1), else_=0),
        func.coalesce(Case.rating, 0), case((Case.rating >= 4, 1), else_=0),
        case((accepted, hours_between(Case.accepted_at, Case.created_at)), else_=0.0),
        case((closed, hours_between(Case.closed_at, Case.created_at)), else_=0.0),
        case((accepted, duration_bucket(Case.accepted_at, Case.created_at))),
        case((closed, duration_bucket(Case.closed_at, Case.created_at))),
    ).select_from(source).where(*where)))

    source, where = scoped(Wish, Wish.created_at, Wish.claimed_at, Wish.fulfilled_at)
    claimed = Wish.claimed_at.is_not(None)
    session.execute(_WISHES.insert().from_select([c.name for c in _WISHES.c], select(
        func.coalesce(m.community, Wish.area_path), _local_date(Wish.created_at), _local_date(Wish.claimed_at),
        _local_date(Wish.fulfilled_at), case((claimed, hours_between(Wish.claimed_at, Wish.created_at)), else_=0.0),
        case((claimed, duration_bucket(Wish.claimed_at, Wish.created_at))),
    ).select_from(source).where(*where)))

    source, where = scoped(ServiceHours)
    session.execute(_HOURS.insert().from_select([c.name for c in _HOURS.c], select(
        func.coalesce(m.community, ServiceHours.area_path), ServiceHours.served_on,
        cast(func.coalesce(ServiceHours.hours, 0), Float),
    ).select_from(source).where(ServiceHours.status == APPROVED, *where)))


def _clear(targets: list[tuple[str, date]], grain: str = "d") -> None:
    """Delete the rows of the given (community, day or month) pairs: one statement per pair, each an
    index range of the key (grain, dimension, area_path, day)."""
    for model in (CaseRollup, AreaRollup):
        t = model.__table__
        of_kind = (t.c.dimension.in_([_text(d) for d in DIMENSIONS]),) if model is CaseRollup else ()
        _execute_many(delete(t).where(t.c.grain == grain, *of_kind, t.c.area_path == bindparam("p"),
                                      t.c.day == bindparam("d")), [{"p": p, "d": d} for p, d in targets])


def _execute_many(stmt, rows: list[dict]) -> None:
    # At the Core level: the ORM has no bulk DELETE by parameter sets.
    if rows:
        db.session.connection().execute(stmt, rows)


def _const(value) -> ColumnElement:
    return _text(value) if isinstance(value, str) else _n(value)


def _zeros(names, keep: dict) -> list:
    return [keep[n].label(n) if n in keep else _const(0).label(n) for n in names]


def _aggregate_days(targeted: bool) -> None:
    session = db.session
    f, w, h = _CASES.c, _WISHES.c, _HOURS.c

    def source(table, community, day):
        if not targeted:
            return table
        return table.join(_TARGETS, and_(_TARGETS.c.area_path == community, _TARGETS.c.day == day))

    def insert(model, keys, grouped):
        measures = _CASE_MEASURES if model is CaseRollup else _AREA_MEASURES
        # In the key's order, so that the primary key index grows at its end rather than all over.
        stmt = select(_const("d"), *[grouped.c[k] for k in keys], *[func.sum(grouped.c[n]) for n in measures]) \
            .group_by(*[grouped.c[k] for k in keys]).order_by(*[grouped.c[k] for k in keys])
        session.execute(model.__table__.insert().from_select(["grain", *keys, *measures], stmt))

    keys = ("dimension", "area_path", "day", "value")
    for dimension, value in (("all", _const("")), ("status", f.status), ("category", f.category), ("grid", f.grid)):
        reported = select(_const(dimension).label("dimension"), f.community.label("area_path"),
                          f.created_day.label("day"), value.label("value"), *_zeros(_CASE_MEASURES, {
                              "cases_in": _const(1), "overdue_in": f.overdue, "reopened_in": f.reopened,
                              "closed_in": f.closed, "rated_in": f.rated, "rating_sum": f.rating,
                              "satisfied_in": f.satisfied, "accepted_in": f.accepted,
                              "accept_hours_sum": f.accept_hours, "close_hours_sum": f.close_hours})) \
            .select_from(source(_CASES, f.community, f.created_day))
        closed = select(_const(dimension).label("dimension"), f.community.label("area_path"),
                        f.closed_day.label("day"), value.label("value"), *_zeros(_CASE_MEASURES, {
                            "cases_out": _const(1), "out_on_time": 1 - f.overdue})) \
            .select_from(source(_CASES, f.community, f.closed_day)).where(f.closed_day.is_not(None))
        insert(CaseRollup, keys, union_all(reported, closed).subquery())
    # Histograms: how many durations fall in each bucket, counted in `cases_in` (HISTOGRAMS).
    for dimension, table, community, day, bucket in (
            ("accept_h", _CASES, f.community, f.created_day, f.accept_b),
            ("close_h", _CASES, f.community, f.created_day, f.close_b),
            ("claim_h", _WISHES, w.community, w.claimed_day, w.claim_b)):
        counted = select(_const(dimension).label("dimension"), community.label("area_path"), day.label("day"),
                         bucket.label("value"), *_zeros(_CASE_MEASURES, {"cases_in": _const(1)})) \
            .select_from(source(table, community, day)).where(bucket.is_not(None))
        insert(CaseRollup, keys, counted.subquery())

    def area_part(table, community, day, kept, *where):
        return select(community.label("area_path"), day.label("day"), *_zeros(_AREA_MEASURES, kept)) \
            .select_from(source(table, community, day)).where(*where)

    parts = union_all(
        area_part(_CASES, f.community, f.created_day, {"cases_in": _const(1)}),
        area_part(_WISHES, w.community, w.created_day, {"wishes_posted": _const(1)}),
        area_part(_WISHES, w.community, w.claimed_day, {"wishes_claimed": _const(1), "claim_hours_sum": w.claim_hours},
                  w.claimed_day.is_not(None)),
        area_part(_WISHES, w.community, w.fulfilled_day, {"wishes_fulfilled": _const(1)},
                  w.fulfilled_day.is_not(None)),
        area_part(_HOURS, h.community, h.day, {"service_hours": h.hours, "service_entries": _const(1)}),
    ).subquery()
    insert(AreaRollup, ("area_path", "day"), parts)


def _aggregate_months(months: list[tuple[str, date]] | None, source_grain: str = "d", grain: str = "m") -> None:
    """Month rows summed from day rows: of everything, or of the given (area, month) pairs (one statement
    per pair, each an index range of the key (grain, dimension, area_path, day))."""
    if months is not None:
        _clear(months, grain)
    for model, keys, measures in ((CaseRollup, ("dimension",), _CASE_MEASURES), (AreaRollup, (), _AREA_MEASURES)):
        t = model.__table__
        tail = ("value",) if model is CaseRollup else ()
        of_kind = (t.c.dimension.in_([_text(d) for d in DIMENSIONS]),) if model is CaseRollup else ()
        if months is None:
            group = [*[t.c[k] for k in keys], t.c.area_path, _month_start(t.c.day), *[t.c[k] for k in tail]]
            stmt = select(_const(grain), *group, *[func.sum(t.c[n]) for n in measures]) \
                .where(t.c.grain == _text(source_grain), *of_kind).group_by(*group).order_by(*group)
            db.session.execute(t.insert().from_select(["grain", *keys, "area_path", "day", *tail, *measures], stmt))
            continue
        group = [*[t.c[k] for k in keys], *[t.c[k] for k in tail]]
        stmt = select(_const(grain), *[t.c[k] for k in keys], bindparam("p", type_=AreaPath),
                      bindparam("a", type_=Date), *[t.c[k] for k in tail], *[func.sum(t.c[n]) for n in measures]) \
            .where(t.c.grain == _text(source_grain), *of_kind, t.c.area_path == bindparam("p", type_=AreaPath),
                   t.c.day >= bindparam("a", type_=Date), t.c.day <= bindparam("b", type_=Date))
        # Grouped, or else one row of NULLs when nothing matches.
        stmt = stmt.group_by(*group) if group else stmt.having(func.count() > 0)
        _execute_many(t.insert().from_select(["grain", *keys, "area_path", "day", *tail, *measures], stmt),
                      [{"p": p, "a": m, "b": _month_end(m)} for p, m in months])


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, SHANGHAI).astimezone(UTC)
    return start, datetime.combine(day + timedelta(days=1), time.min, SHANGHAI).astimezone(UTC)


def _month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


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


def _period_rows(model, path: str, first: date, last: date, *where, tree: bool = False):
    """The rows of a period under an area: one index range per part (months, and the days at each end).
    `tree`: the area's own subtree rows ("D", "M"), else the rows of every community under it."""
    table = model.__table__
    area = table.c.area_path == path if tree else table.c.area_path.startswith(path, autoescape=True)
    parts = [select(table).where(table.c.grain == (grain.upper() if tree else grain), *where, area,
                                 table.c.day >= a, table.c.day <= b) for grain, a, b in _parts(first, last)]
    return (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()


def case_figures(path: str, first_day: date, last_day: date) -> dict:
    """The cases section over a period: a community's with its per-grid table, read from its own rows; a
    street's or a county's with its per-community table, read from its subtree rows ("D", "M") but for
    that table (its communities' rows)."""
    grids = _is_community(path)
    tree = not grids
    everything = CaseRollup.__table__.c.dimension == "all"
    rows = _period_rows(CaseRollup, path, first_day, last_day, everything, tree=tree)
    t = dict(zip(_CASE_MEASURES, db.session.execute(
        select(*[func.coalesce(func.sum(rows.c[m]), 0) for m in _CASE_MEASURES])).one(), strict=True))
    communities = _period_rows(CaseRollup, path, first_day, last_day, everything)
    by_area = [] if grids else sorted(((p, int(n)) for p, n in db.session.execute(
        select(communities.c.area_path, func.sum(communities.c.cases_in)).group_by(communities.c.area_path)) if n),
        key=lambda r: (-r[1], r[0]))
    # One query for every breakdown: each dimension is one index range per part of the period.
    dimensions = ("status", "category", "accept_h", "close_h", *(("grid",) if grids else ()))
    split = _period_rows(CaseRollup, path, first_day, last_day, CaseRollup.__table__.c.dimension.in_(dimensions),
                         tree=tree)
    counts: dict[str, dict[str, int]] = {d: {} for d in dimensions}
    for dimension, value, n in db.session.execute(
            select(split.c.dimension, split.c.value, func.sum(split.c.cases_in))
            .group_by(split.c.dimension, split.c.value)):
        if n:
            counts[dimension][value] = int(n)
    category_names = dict(db.session.execute(select(Category.id, Category.name)).all())
    by_category = sorted(({"category": category_names.get(int(v), v), "count": n}
                          for v, n in counts["category"].items()), key=lambda i: (-i["count"], i["category"]))
    names = _area_names([p for p, _ in by_area])
    grid_names = _area_names_by_id(counts.get("grid", {}))
    by_grid = sorted(({"grid": grid_names.get(v, v), "count": n} for v, n in counts.get("grid", {}).items()),
                     key=lambda i: (-i["count"], i["grid"]))
    weeks: dict[str, int] = defaultdict(int)
    day_rows = (AreaRollup.grain == "D", AreaRollup.area_path == path) if tree else \
        (AreaRollup.grain == "d", AreaRollup.area_path.startswith(path, autoescape=True))
    day_rows = (*day_rows, AreaRollup.day >= first_day, AreaRollup.day <= last_day)
    for day, n in db.session.execute(select(AreaRollup.day, func.sum(AreaRollup.cases_in)).where(*day_rows)
                                     .group_by(AreaRollup.day)):
        if n:
            weeks[_week(day)] += int(n)
    total, rated = int(t["cases_in"]), int(t["rated_in"])
    accept, close = (_histogram(counts[d]) for d in ("accept_h", "close_h"))
    return {
        "total": total,
        "by_status": counts["status"],
        "by_category": by_category,
        "by_grid": by_grid,
        "by_community": [{"community": names.get(p, p), "count": n} for p, n in by_area],
        "hours_to_accept": {"median": quantile(accept, 50), "p90": quantile(accept, 90),
                            "mean": _mean(t["accept_hours_sum"], t["accepted_in"])},
        "hours_to_close": {"median": quantile(close, 50), "p90": quantile(close, 90),
                           "mean": _mean(t["close_hours_sum"], t["closed_in"])},
        "overdue_rate": _rate(int(t["overdue_in"]), total),
        "reopen_rate": _rate(int(t["reopened_in"]), int(t["closed_in"])),
        "satisfaction": {"mean": round(t["rating_sum"] / rated, 2) if rated else None, "rated": rated,
                         "share_4_or_5": _rate(int(t["satisfied_in"]), rated)},
        "weekly_trend": [{"week": w, "count": n} for w, n in sorted(weeks.items())],
        "flow": {"in": total, "out": int(t["cases_out"]), "out_on_time": int(t["out_on_time"])},
        "from_rollups": True,
    }


def _is_community(path: str) -> bool:
    """Communities (and areas without one above them, the rollup keys) read their own rows."""
    level = db.session.scalar(select(Area.level).where(Area.path == path))
    return level is None or level == COMMUNITY


def _histogram(counts: dict[str, int]) -> dict[int, int]:
    return {int(edge): n for edge, n in counts.items()}


def area_figures(path: str, first_day: date, last_day: date) -> dict:
    """Wishes and approved service hours over the period: the sums, and hours by month (a street or a
    county from its subtree rows)."""
    tree = not _is_community(path)
    rows = _period_rows(AreaRollup, path, first_day, last_day, tree=tree)
    t = dict(zip(_AREA_MEASURES, db.session.execute(
        select(*[func.coalesce(func.sum(rows.c[m]), 0) for m in _AREA_MEASURES])).one(), strict=True))
    months: dict[str, float] = defaultdict(float)
    for day, hours in db.session.execute(select(rows.c.day, func.sum(rows.c.service_hours)).group_by(rows.c.day)):
        if hours:
            months[day.strftime("%Y-%m")] += float(hours)
    claims = _period_rows(CaseRollup, path, first_day, last_day, CaseRollup.__table__.c.dimension == "claim_h",
                          tree=tree)
    claim = _histogram({v: int(n) for v, n in db.session.execute(
        select(claims.c.value, func.sum(claims.c.cases_in)).group_by(claims.c.value)) if n})
    return {
        "posted": int(t["wishes_posted"]), "claimed": int(t["wishes_claimed"]),
        "fulfilled": int(t["wishes_fulfilled"]), "median_hours_to_claim": quantile(claim, 50),
        "mean_hours_to_claim": _mean(t["claim_hours_sum"], t["wishes_claimed"]),
        "total_hours": round(float(t["service_hours"]), 1), "entries": int(t["service_entries"]),
        "hours_by_month": [{"month": m, "hours": round(h, 1)} for m, h in sorted(months.items())],
    }


def _area_names_by_id(ids) -> dict[str, str]:
    wanted = [int(i) for i in ids if str(i).isdigit()]
    if not wanted:
        return {}
    return {str(i): name for i, name in db.session.execute(select(Area.id, Area.name).where(Area.id.in_(wanted)))}


def _area_names(paths: list[str]) -> dict[str, str]:
    ids = {int(p.strip("/").split("/")[-1]) for p in paths if p.strip("/")}
    if not ids:
        return {}
    return {a.path: a.name for a in db.session.scalars(select(Area).where(Area.id.in_(ids)))}
