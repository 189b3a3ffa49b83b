"""Idempotency-Key: a replayed POST within 24 h returns the first response and creates nothing.

The record is written in the same transaction as the change. Two concurrent requests with
the same key race on a unique index: the loser's whole transaction rolls back and it
returns the winner's stored response, so exactly one object exists.
"""
from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Model
from app.core.time import utcnow
from app.extensions import db

WINDOW = timedelta(hours=24)


class IdempotencyRecord(Model):
    __tablename__ = "idempotency_records"

    owner: Mapped[str] = mapped_column(String(64))
    key_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(255))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("owner", "key_hash"),)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def find(owner: str, key: str) -> IdempotencyRecord | None:
    """The live record of this key, if any. An expired one (it has served its 24 h) is deleted here,
    in the rare case it is still there, so that `remember()` is a plain INSERT."""
    record = db.session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.owner == owner, IdempotencyRecord.key_hash == _hash(key)))
    if record is not None and record.created_at <= utcnow() - WINDOW:
        db.session.delete(record)
        db.session.flush()
        return None
    return record


def remember(owner: str, key: str, user_id: int | None, method: str, path: str, status_code: int,
             body: str) -> None:
    """Record the answer to replay; `find()` was called first in the same transaction."""
    db.session.add(IdempotencyRecord(owner=owner, key_hash=_hash(key), user_id=user_id, method=method,
                                     path=path, status_code=status_code, body=body))


def purge_expired() -> int:
    result = db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at <= utcnow() - WINDOW))
    return result.rowcount or 0
