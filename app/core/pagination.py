"""Keyset pagination by descending id, with an opaque cursor."""
from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from app.core.errors import BadRequest
from app.extensions import db

MAX_LIMIT = 100
DEFAULT_LIMIT = 20


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"k1:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, value = raw.split(":", 1)
        if prefix != "k1":
            raise ValueError
        return int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("分页游标无效。", errors={"cursor": ["分页游标无效。"]}) from exc


def paginate(stmt, id_column, *, limit: int | None = None, cursor: str | None = None) -> Page:
    limit = max(1, min(limit or DEFAULT_LIMIT, MAX_LIMIT))
    if cursor:
        stmt = stmt.where(id_column < decode_cursor(cursor))
    rows = list(db.session.scalars(stmt.order_by(id_column.desc()).limit(limit + 1)).unique())
    has_more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=rows, next_cursor=encode_cursor(rows[-1].id) if has_more and rows else None)
