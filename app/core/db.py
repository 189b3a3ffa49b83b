"""What every model is made of: the base class, the column types, and rows already read as instances.

Connection handling lives in `app.core.engine`; the fast read path of the scan in `app.core.reads`.
"""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String, TypeDecorator
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
