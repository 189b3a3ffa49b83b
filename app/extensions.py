"""The process-wide extension objects, bound to an app in create_app(), and the app's Redis connection."""
from contextvars import ContextVar

from flask import current_app
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session
from flask_wtf.csrf import CSRFProtect
from redis import Redis
from sqlalchemy import MetaData
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


class RoutingSession(Session):
    """The app's session: SELECTs inside `from_replica()` go to the replica, everything else (flushes,
    writes, text statements, any read outside the block) to the primary."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if (bind is None and replica_reads.get() and not self._flushing
                and clause is not None and getattr(clause, "is_select", False)):
            return self._db.engines[REPLICA]
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


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
