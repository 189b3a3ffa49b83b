"""Key rotation: re-encrypt every stored personal datum under the current (first) DATA_KEY.

Rotation is: put the new key first in DATA_KEY and keep the old ones after it (everything stays
readable), run `flask rekey-personal-data`, then drop the old keys. The lookup hashes of phone
numbers are recomputed under the new key in the same pass.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import bindparam, select, update

from app.accounts.models import User
from app.contact.models import AreaContact, MessageThread
from app.core import crypto
from app.core.idempotency import IdempotencyRecord
from app.extensions import db
from app.wishes.models import Wish

# Every column that holds an encrypted personal datum.
ENCRYPTED = (
    (User, "phone_encrypted"), (User, "id_number_encrypted"),
    (Wish, "phone_encrypted"), (Wish, "address_encrypted"),
    (AreaContact, "phone_encrypted"), (MessageThread, "callback_phone_encrypted"),
    (IdempotencyRecord, "body"),
)


class RekeyFailed(crypto.Undecryptable):
    def __init__(self, table: str, column: str, row_id: int):
        super().__init__(f"{table}.{column}（id={row_id}）无法用已配置的任何密钥解密；请把旧密钥加入 DATA_KEY 后重试。")


def rekey(batch: int = 500, after_batch: Callable[[], None] | None = None) -> dict[str, int]:
    """Re-encrypt every column of ENCRYPTED under the first key; returns how many values per column."""
    done: dict[str, int] = {}
    for model, name in ENCRYPTED:
        column = getattr(model, name)
        table = model.__table__
        statement = update(table).where(table.c.id == bindparam("row_id"))
        values = {name: bindparam("value")}
        if model is User and name == "phone_encrypted":
            values["phone_hash"] = bindparam("hash")
        statement = statement.values(**values)
        last, total = 0, 0
        while True:
            rows = db.session.execute(select(model.id, column).where(model.id > last, column.is_not(None))
                                      .order_by(model.id).limit(batch)).all()
            if not rows:
                break
            params = []
            for row_id, value in rows:
                try:
                    fresh = crypto.reencrypt(value)
                except crypto.Undecryptable as exc:
                    raise RekeyFailed(table.name, name, row_id) from exc
                item = {"row_id": row_id, "value": fresh}
                if "phone_hash" in values:
                    item["hash"] = crypto.lookup_hash(crypto.decrypt(fresh))
                params.append(item)
            db.session.execute(statement, params)
            total += len(rows)
            last = rows[-1][0]
            if after_batch is not None:
                after_batch()
        done[f"{table.name}.{name}"] = total
    return done
