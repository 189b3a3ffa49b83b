"""Idempotency-Key: a replayed POST within 24 h returns the first response and creates nothing.

A key belongs to its caller and to one request: the record keeps a hash of the method, the
path and the body, and the same key sent with another request is refused (422), never
answered with the first one's response. The stored answer is encrypted like every other piece
of personal data (a wish's answer carries a phone and an address), and records are purged by
a periodic job once their 24 hours are over.

The record is written in the same transaction as the change. Two concurrent requests with
the same key race on a unique index: the loser's whole transaction rolls back and it
returns the winner's stored response, so exactly one object exists.
"""
from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import NamedTuple

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, bindparam, delete, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from app.core import crypto
from app.core.db import Model
from app.core.errors import Invalid
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
    # sha256 of "METHOD path" and the body: the request this key was first used for.
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("owner", "key_hash"),)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Replay(NamedTuple):
    status_code: int
    body: str


_table = IdempotencyRecord.__table__
# Prebuilt: every POST with a key runs both (Core, no ORM objects; see bench/RESULTS.md).
_FIND = select(_table.c.id, _table.c.status_code, _table.c.body, _table.c.created_at, _table.c.fingerprint).where(
    _table.c.owner == bindparam("owner"), _table.c.key_hash == bindparam("key_hash"))
_REMEMBER = insert(_table)
_FORGET = delete(_table).where(_table.c.id == bindparam("record_id"))


class KeyReused(Invalid):
    message = "该 Idempotency-Key 已用于另一个请求；每个新请求请使用新的键。"


def find(owner: str, key: str, fingerprint: str) -> Replay | None:
    """The answer recorded for this key, if it is still live and was given to this same request.
    An expired record (it has served its 24 h) is deleted here, in the rare case the purge has not
    run yet, so that `remember()` is a plain INSERT."""
    row = db.session.execute(_FIND, {"owner": owner, "key_hash": _hash(key)}).first()
    if row is None:
        return None
    if row.created_at <= utcnow() - WINDOW:
        db.session.execute(_FORGET, {"record_id": row.id})
        return None
    if row.fingerprint != fingerprint:
        raise KeyReused(errors={"Idempotency-Key": ["已用于另一个请求"]})
    return Replay(row.status_code, crypto.decrypt(row.body) or "")


def remember(owner: str, key: str, fingerprint: str, user_id: int | None, method: str, path: str,
             status_code: int, body: str) -> None:
    """Record the answer to replay, encrypted; `find()` was called first in the same transaction. A
    concurrent request with the same key makes this INSERT fail on the unique index (IntegrityError)."""
    db.session.execute(_REMEMBER, {"owner": owner, "key_hash": _hash(key), "fingerprint": fingerprint,
                                   "user_id": user_id, "method": method, "path": path,
                                   "status_code": status_code, "body": crypto.encrypt(body),
                                   "created_at": utcnow()})


def purge_expired() -> int:
    """Delete the records whose 24 hours are over (a periodic job)."""
    result = db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at <= utcnow() - WINDOW))
    return result.rowcount or 0
