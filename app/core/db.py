"""Column types and mixins shared by every model."""
from __future__ import annotations

import select
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String, TypeDecorator
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Mapped, make_transient_to_detached, mapped_column

from app.core.time import utcnow
from app.extensions import db


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC on every backend; SQLite gives naive values back, so we re-attach UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Materialised area paths ("/1/4/17/"). Scoping is a prefix match, which a PostgreSQL btree index
# serves only under the "C" collation (databases here default to C.UTF-8, which does not count).
AreaPath = String(255).with_variant(String(255, collation="C"), "postgresql")


def _discard_if_closed_by_server(dbapi_connection, _record, _proxy) -> None:
    """Hand out no pooled connection the server has closed (a restart, a terminated backend).

    An idle connection has nothing to read; when the server ends a session it sends an error
    and closes the socket, which then reads as ready. Raising DisconnectionError makes the pool
    discard this connection and check out a new one, as `pool_pre_ping` would, but without a
    `SELECT 1` round trip on every checkout (tests/api/test_faults.py covers the recovery).
    """
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("connection closed")
    readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    if readable:
        raise DisconnectionError("connection closed by the server")


class Model(db.Model):
    __abstract__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


def existing_row(cls, values: dict):
    """An instance of a row that exists, built from values already read or written (no query):
    detached, so a flush never writes it; `session.add()` makes it a loaded, persistent object."""
    obj = cls(**values)
    make_transient_to_detached(obj)
    return obj


def configure_engine(engine) -> None:
    """PostgreSQL: a liveness check at checkout without a round trip. SQLite: real transactions
    (SAVEPOINT), foreign keys and concurrent readers."""
    from sqlalchemy import event

    if engine.dialect.name == "postgresql":
        event.listen(engine, "checkout", _discard_if_closed_by_server)
        return
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (SAVEPOINT support).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN")


@contextmanager
def read_only_queries():
    """Run prebuilt (module-level) Core SELECTs straight on the driver's connection: `run(statement, **params)`
    gives the rows as tuples. For the hottest read (the scan), where SQLAlchemy's session,
    connection and result machinery cost several times the queries themselves (bench/RESULTS.md).

    Outside a transaction (a request that has not touched the session yet) the connection comes
    from the engine's pool, in autocommit on PostgreSQL: no BEGIN, no COMMIT, no session. Inside
    one (a job, a service mid-request, a test's enclosing transaction) the session's own connection
    is used, so the queries see what the transaction has written. Statements are compiled once per
    dialect; driver errors become SQLAlchemy's, so a lost database still answers 503.
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


class _Runner:
    # Compiled forms of the module-level statements given to it, by statement and dialect. Keyed by
    # the statement itself (held here), so a statement built per call would only grow this: don't.
    _compiled: dict = {}

    def __init__(self, driver, dialect, pooled):
        self.driver, self.dialect, self.pooled = driver, dialect, pooled

    def __call__(self, statement, **params) -> list[tuple]:
        key = (statement, self.dialect.name)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled.setdefault(key, statement.compile(dialect=self.dialect))
        values = compiled.construct_params(params)
        if compiled.positional:
            values = tuple(values[name] for name in compiled.positiontup)
        dbapi = self.dialect.loaded_dbapi
        try:
            cursor = self.driver.cursor()
            try:
                cursor.execute(compiled.string, values)
                return cursor.fetchall()
            finally:
                cursor.close()
        except dbapi.Error as exc:
            if self.pooled is not None and isinstance(exc, dbapi.OperationalError):
                self.pooled.invalidate(exc)
            raise DBAPIError.instance(compiled.string, values, exc, dbapi.Error) from exc
