"""The process-wide extension objects, bound to an app in create_app(), and the app's Redis connection."""
from collections.abc import Callable
from contextvars import ContextVar

from flask import current_app
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session
from flask_wtf.csrf import CSRFProtect
from redis import Redis
from sqlalchemy import MetaData
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


REPLICA = "replica"  # the bind key of the read replica's engine (DATABASE_REPLICA_URL, app/config.py)
# Set by app.core.replica.from_replica() while the replica is usable: SELECTs then go to it.
replica_reads: ContextVar[bool] = ContextVar("gongzhi_replica_reads", default=False)


# Called (with the error) when a read on the replica lost its connection inside `from_replica()`; the
# block then reads the primary. app.core.replica registers the one that marks the replica unusable.
replica_lost_hooks: list[Callable[[DBAPIError], None]] = []

# SQLSTATEs the server sends when it ends or refuses a connection: connection exceptions (class 08),
# admin_shutdown, crash_shutdown, cannot_connect_now (a replica starting or stopping).
_CONNECTION_SQLSTATES = ("57P01", "57P02", "57P03")


def connection_lost(exc: DBAPIError) -> bool:
    """Whether a database error means the connection is gone or could not be made (not an error in the
    SQL, which the server reports with a SQLSTATE of its own: those must still raise)."""
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is None:  # psycopg: no SQLSTATE means the client lost or could not open the connection
        return type(exc.orig).__name__ == "OperationalError"
    return sqlstate.startswith("08") or sqlstate in _CONNECTION_SQLSTATES


class RoutingSession(Session):
    """The app's session: SELECTs inside `from_replica()` go to the replica, everything else (flushes,
    writes, text statements, any read outside the block) to the primary.

    A read that loses its connection on the replica (it was stopped after the check, say) is run again
    on the primary, and the rest of the block reads the primary too: the request is answered from the
    primary instead of failing. Other errors raise as they are."""

    _on_replica = False  # whether the last get_bind() chose the replica

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if (bind is None and replica_reads.get() and not self._flushing
                and clause is not None and getattr(clause, "is_select", False)):
            self._on_replica = True
            return self._db.engines[REPLICA]
        self._on_replica = False
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)

    def _execute_internal(self, statement, params=None, **kwargs):
        if not replica_reads.get():
            return super()._execute_internal(statement, params, **kwargs)
        self._on_replica = False
        try:
            return super()._execute_internal(statement, params, **kwargs)
        except DBAPIError as exc:
            if not (self._on_replica and connection_lost(exc)):
                raise
            lost = exc
        self._forget_replica_connection()
        replica_reads.set(False)  # for the rest of the block: from_replica() restores the value on exit
        for hook in replica_lost_hooks:
            hook(lost)
        return super()._execute_internal(statement, params, **kwargs)

    def _forget_replica_connection(self) -> None:
        """Take the dead replica connection out of the session's transaction, so that the request's
        commit or rollback does not trip over it (it holds no transaction: autocommit)."""
        engine = self._db.engines[REPLICA]
        transaction, seen = self._transaction, []
        while transaction is not None:
            entry = transaction._connections.pop(engine, None)
            if entry is not None:
                transaction._connections.pop(entry[0], None)  # keyed by the engine and by the connection
                seen.append(entry[0])
            transaction = transaction._parent
        for conn in seen:
            try:
                conn.invalidate()
                conn.close()
            except Exception:  # noqa: BLE001 - it is dead already; closing is a courtesy
                pass


db = SQLAlchemy(model_class=Base, session_options={"class_": RoutingSession})
migrate = Migrate(compare_type=True, render_as_batch=True)
csrf = CSRFProtect()  # the web portal's forms (the JSON API uses bearer tokens, not cookies)


def redis_connection() -> Redis | None:
    """The app's Redis (REDIS_URL), one client per app and URL; None in the embedded default (no Redis)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    clients = current_app.extensions.setdefault("gongzhi.redis", {})
    if url not in clients:
        clients[url] = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
    return clients[url]
