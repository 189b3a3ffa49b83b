"""The events of other domains that earn points: one call each, made where the event happens.

Each passes the event's own row; what it is worth is decided by the community's scheme (app.points.ledger).
"""
from __future__ import annotations

from app.core.time import utcnow
from app.points import ledger

APPROVED_HOURS = "approved"


def service_hours_decided(entry) -> None:
    """An hours entry was approved, rejected after approval, or corrected: ledger points follow the
    approved hours only (a rejection reverses them, a correction pays the difference)."""
    ledger.settle("service_hours", entry.id, user_id=entry.user_id, area_path=entry.area_path,
                  occurred_at=entry.decided_at or entry.created_at, valid=entry.status == APPROVED_HOURS,
                  quantity=entry.hours, approved_by=entry.decided_by, note=f"志愿服务 {entry.hours} 小时：{entry.description}")


def wish_confirmed(wish) -> None:
    """The party member who fulfilled a wish, once its requester (or the 7-day rule) confirmed it."""
    ledger.settle("wish", wish.id, user_id=wish.claimed_by, area_path=wish.area_path,
                  occurred_at=wish.confirmed_at, note=f"完成微心愿：{wish.public_title}"[:200])


def case_verified(case) -> None:
    """The reporter of a case that staff verified and closed: the report was true and useful."""
    ledger.settle("case", case.id, user_id=case.reporter_id, area_path=case.area_path,
                  occurred_at=case.closed_at, note=f"上报问题经核查属实：{case.tracking_no}")


def praise_received(praise) -> None:
    """A grid worker or party member praised by a resident."""
    ledger.settle("praise", praise.id, user_id=praise.target_id, area_path=praise.area_path,
                  occurred_at=praise.created_at or utcnow(), note="收到居民点赞")
