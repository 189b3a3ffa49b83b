"""The audit log: who did what, when and from where — every staff write, every data export and every
read of personal data in clear (a decrypted phone number).

The request edge (`app.edge`) writes one row per request. Services name what they did with
`act(name, **detail)`: the row then carries the same acts whichever door the request came through,
so a console write and an API write of the same act leave the same record."""
from __future__ import annotations

import re

from flask import request
from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Model
from app.extensions import db

EXPORT_PATH = re.compile(r"(\.csv|\.xlsx|\.pdf|/export[^/]*|/sheet|/report[^/]*)$")


class AuditLog(Model):
    __tablename__ = "audit_logs"

    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(255))
    status_code: Mapped[int] = mapped_column(Integer)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_audit_logs_actor_id_id", "actor_id", "id"),)


def is_export(path: str) -> bool:
    return bool(EXPORT_PATH.search(path))


_ACTS = "gongzhi.audit_acts"


def act(name: str, **detail) -> None:
    """Declare an act of this unit of work for the audit row (`accounts.create_staff`, `personal.read_phone`).

    The first act declared names the row; a service declares its own act before the steps (timeline
    events, which imply `<subject>.<action>`) that it is made of."""
    db.session.info.setdefault(_ACTS, []).append({"act": name, **detail})


def declared_acts() -> list[dict]:
    return db.session.info.pop(_ACTS, []) if db.session.registry.has() else []


def record(actor_id: int | None, action: str, status_code: int, acts: list[dict] | None = None) -> None:
    """Write one audit row for the current request; committed with the request's own change.
    The action is the first declared act when there is one, else the endpoint. The client address is
    the one the trusted proxies vouch for (request.remote_addr after ProxyFix), never a raw header."""
    detail = {"acts": acts} if acts else {}
    db.session.add(AuditLog(
        actor_id=actor_id, action=(acts[0]["act"] if acts else action)[:64], method=request.method,
        path=request.full_path.rstrip("?")[:255], status_code=status_code, ip=(request.remote_addr or "")[:64],
        user_agent=(request.user_agent.string or "")[:255], detail=detail,
    ))


def should_audit(is_staff: bool, method: str, path: str) -> bool:
    return is_staff and (method != "GET" or is_export(path))
