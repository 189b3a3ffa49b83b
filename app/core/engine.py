"""Engine settings per backend: a liveness check on PostgreSQL checkouts, real transactions on SQLite."""
from __future__ import annotations

import select

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError


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


def configure_engine(engine) -> None:
    """PostgreSQL: a liveness check at checkout without a round trip. SQLite: real transactions
    (SAVEPOINT), foreign keys and concurrent readers."""
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


