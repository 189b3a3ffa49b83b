"""notify(): write outbox rows in the caller's transaction; delivery is queued for after commit. And the inbox.

Delivery is one coalesced pump (tasks.notify.pump_outbox), queued once per unit of work however
many notify() calls it makes, and not at all while a pump is already waiting in the queue: the
waiting pump takes every fresh pending row, BATCH_SIZE at a time.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import ARRAY, Integer, bindparam, func, insert, select, update

from app import jobs
from app.core.errors import NotFound
from app.core.pagination import Page, paginate
from app.core.time import utcnow
from app.extensions import db
from app.notifications.models import PENDING, Notification

BATCH_SIZE = 200


def notify(user_ids: Iterable[int | None], kind: str, *, title: str, body: str = "", page: str = "",
           data: dict | None = None, subject: tuple[str, int] | None = None) -> list[int]:
    """Notify each user once; returns the ids of the outbox rows written. `data` holds the values
    for the WeChat template of `kind` (see app/notifications/templates.py for the keys it reads)."""
    recipients = list(dict.fromkeys(u for u in user_ids if u))
    if not recipients:
        return []
    common = {"kind": kind, "title": title[:100], "body": body, "page": page.lstrip("/"),
              "data": {k: _jsonable(v) for k, v in (data or {}).items()},
              "subject_type": subject[0] if subject else None, "subject_id": subject[1] if subject else None,
              "status": PENDING, "attempts": 0, "created_at": utcnow()}
    ids = _insert(recipients, common)
    jobs.after_commit_once(jobs.PUMP_OUTBOX, queue_name=jobs.QUEUE_NOTIFY, coalesce=jobs.PUMP)
    return ids


_table = Notification.__table__
_COMMON = ("kind", "title", "body", "page", "data", "subject_type", "subject_id", "status", "attempts", "created_at")
# Prebuilt (every report and every step of a case writes some): Core, ids back, no ORM objects.
# On PostgreSQL the recipients go as one array parameter and the shared values once each.
_INSERT_MANY = insert(_table).returning(_table.c.id, sort_by_parameter_order=True)
_recipients = (func.unnest(bindparam("recipients", type_=ARRAY(Integer))).table_valued("user_id")
               .render_derived())
_INSERT_FANOUT = insert(_table).from_select(
    ["user_id", *_COMMON],
    select(_recipients.c.user_id, *(bindparam(name, type_=_table.c[name].type) for name in _COMMON)),
).returning(_table.c.id)


def _insert(recipients: list[int], common: dict) -> list[int]:
    """One INSERT … RETURNING for the whole fan-out; the new ids in recipient order."""
    if db.session.get_bind().dialect.name != "postgresql":
        return list(db.session.scalars(_INSERT_MANY, [{"user_id": u, **common} for u in recipients]))
    return sorted(db.session.scalars(_INSERT_FANOUT, {"recipients": recipients, **common}))


def _jsonable(value):
    return value.isoformat() if isinstance(value, date | datetime) else value


# -- the inbox ---------------------------------------------------------------------------------

def list_inbox(user, *, unread: bool = False, limit: int | None = None, cursor: str | None = None) -> Page:
    stmt = select(Notification).where(Notification.user_id == user.id)
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    return paginate(stmt, Notification.id, limit=limit, cursor=cursor)


def unread_count(user) -> int:
    return db.session.scalar(select(func.count(Notification.id))
                             .where(Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def mark_read(user, notification_id: int) -> Notification:
    row = db.session.get(Notification, notification_id)
    if row is None or row.user_id != user.id:
        raise NotFound("该消息不存在。")
    if row.read_at is None:
        row.read_at = utcnow()
        db.session.flush()
    return row


def mark_all_read(user) -> int:
    result = db.session.execute(
        update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow()).execution_options(synchronize_session="fetch"))
    return result.rowcount
