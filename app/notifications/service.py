"""notify(): write outbox rows in the caller's transaction; delivery is queued for after commit."""
from __future__ import annotations

from collections.abc import Iterable

from app.core.uow import after_commit
from app.extensions import db
from app.notifications.models import Notification

BATCH_SIZE = 200


def notify(user_ids: Iterable[int | None], kind: str, *, title: str, body: str = "", page: str = "",
           data: dict | None = None, subject: tuple[str, int] | None = None) -> list[Notification]:
    """Notify each user once. `data` holds the values for the WeChat template of `kind`."""
    rows = []
    for user_id in dict.fromkeys(u for u in user_ids if u):
        row = Notification(user_id=user_id, kind=kind, title=title[:100], body=body, page=page.lstrip("/"),
                           data=data or {}, subject_type=subject[0] if subject else None,
                           subject_id=subject[1] if subject else None)
        db.session.add(row)
        rows.append(row)
    if rows:
        db.session.flush()
        from tasks import QUEUE_NOTIFY
        from tasks.notify import deliver_batch

        ids = [r.id for r in rows]
        for start in range(0, len(ids), BATCH_SIZE):
            after_commit(deliver_batch, ids[start:start + BATCH_SIZE], queue_name=QUEUE_NOTIFY)
    return rows
