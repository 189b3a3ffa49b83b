"""The fast read path: prebuilt Core SELECTs run straight on the driver's connection.

For the hottest read (the scan), SQLAlchemy's session, connection and result machinery cost
several times the query itself (bench/RESULTS.md). This path skips that machinery but not
the meaning of the columns: each statement is compiled once per dialect together with the
bind and result processors of its column types, so a `UTCDateTime` comes back timezone-aware
and every TypeDecorator applies, exactly as through the ORM.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import NamedTuple

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from app.extensions import db


@contextmanager
def read_only_queries():
    """Run prebuilt (module-level) SELECTs: `run(statement, **params)` gives the rows as tuples.

    Outside a transaction (a request that has not touched the session yet) the connection comes
    from the engine's pool, in autocommit on PostgreSQL: no BEGIN, no COMMIT, no session. Inside
    one (a job, a service mid-request, a test's enclosing transaction) the session's own connection
    is used, so the queries see what the transaction has written. Driver errors become
    SQLAlchemy's, so a lost database still answers 503.
    """
    registry = db.session.registry
    if registry.has():
        session = registry()
        bind, busy = session.get_bind(), session.in_transaction()
    else:  # no session yet in this context: none is created just to find the engine
        session = None
        bind, busy = db.session.session_factory.kw.get("bind") or db.engine, False
    if isinstance(bind, Engine) and not busy:
        pooled = bind.raw_connection()
        driver = pooled.driver_connection
        autocommit = bind.dialect.name == "postgresql"
        try:
            if autocommit:
                driver.autocommit = True
            yield _Runner(driver, bind.dialect, pooled)
        finally:
            if autocommit and not (driver.closed or driver.broken):
                driver.autocommit = False
            pooled.close()
    else:
        connection = (session or db.session()).connection()
        yield _Runner(connection.connection.driver_connection, connection.dialect, None)


class _Prepared(NamedTuple):
    sql: str
    compiled: object
    positions: tuple[str, ...] | None  # bind names in order, for a positional driver
    binders: dict  # bind name -> processor, for the types that have one
    readers: tuple  # per result column: a processor or None

    def params(self, values: dict):
        bound = self.compiled.construct_params(values)
        for name, process in self.binders.items():
            if name in bound:
                bound[name] = process(bound[name])
        return bound if self.positions is None else tuple(bound[name] for name in self.positions)

    def rows(self, raw: list) -> list[tuple]:
        if not any(self.readers):
            return raw
        readers = self.readers
        return [tuple(value if read is None else read(value) for read, value in zip(readers, row, strict=True))
                for row in raw]


def _prepare(statement, dialect) -> _Prepared:
    compiled = statement.compile(dialect=dialect)
    binders = {}
    for name, bind in compiled.binds.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            binders[name] = process
    readers = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                    for column in statement.selected_columns)
    positions = tuple(compiled.positiontup) if compiled.positional else None
    return _Prepared(compiled.string, compiled, positions, binders, readers)


class _Runner:
    # Prepared forms of the module-level statements given to it, by statement and dialect. Keyed by
    # the statement itself (held here), so a statement built per call would only grow this: don't.
    _prepared: dict = {}

    def __init__(self, driver, dialect, pooled):
        self.driver, self.dialect, self.pooled = driver, dialect, pooled

    def __call__(self, statement, **params) -> list[tuple]:
        key = (statement, self.dialect.name)
        prepared = self._prepared.get(key)
        if prepared is None:
            prepared = self._prepared.setdefault(key, _prepare(statement, self.dialect))
        values = prepared.params(params)
        dbapi = self.dialect.loaded_dbapi
        try:
            cursor = self.driver.cursor()
            try:
                cursor.execute(prepared.sql, values)
                raw = cursor.fetchall()
            finally:
                cursor.close()
        except dbapi.Error as exc:
            if self.pooled is not None and isinstance(exc, dbapi.OperationalError):
                self.pooled.invalidate(exc)
            raise DBAPIError.instance(prepared.sql, values, exc, dbapi.Error) from exc
        return prepared.rows(raw)
