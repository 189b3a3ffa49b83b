"""The audit log: who did what, when and from where — every staff write and every data export."""
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


def record(actor_id: int | None, action: str, status_code: int, detail: dict | None = None) -> None:
    """Write one audit row for the current request; committed with the request's own change."""
    db.session.add(AuditLog(
        actor_id=actor_id, action=action, method=request.method, path=request.full_path.rstrip("?")[:255],
        status_code=status_code, ip=(request.headers.get("X-Real-IP") or request.remote_addr or "")[:64],
        user_agent=(request.user_agent.string or "")[:255], detail=detail or {},
    ))


def should_audit(is_staff: bool, method: str, path: str) -> bool:
    return is_staff and (method != "GET" or is_export(path))
