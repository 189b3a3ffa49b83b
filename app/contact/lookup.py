"""A web resident reads the replies to their 我要联系 message by its number and the last four digits of the
phone they left, with the same budget of wrong tries per number as case tracking (app/cases/tracking.py)."""
from __future__ import annotations

import hmac

from sqlalchemy import select

from app.accounts.models import User
from app.accounts.service import actor_for
from app.cases.models import TrackingAttempt
from app.cases.tracking import tracking_budget_left
from app.contact.models import MessageThread
from app.contact.service import thread_detail
from app.core.scoping import Actor
from app.extensions import db

NOT_FOUND = "未找到匹配的留言，请核对留言编号和手机号后四位。"

__all__ = ["NOT_FOUND", "thread_by_number", "thread_for_visitor", "tracking_budget_left"]


def _clean(number: str) -> str:
    return (number or "").strip().upper()[:32]


def thread_by_number(number: str, phone_last4: str) -> tuple[MessageThread, Actor] | None:
    """The thread and its resident's actor when the last four digits match the phone left with it; else
    None, and the wrong try counts against the number. Both failures read alike."""
    number, phone_last4 = _clean(number), (phone_last4 or "").strip()
    found = None
    if number and len(phone_last4) == 4 and phone_last4.isdigit():
        found = db.session.scalar(select(MessageThread).where(MessageThread.tracking_no == number))
    if found is None or not hmac.compare_digest(found.callback_phone_last4 or "", phone_last4):
        if number:
            db.session.add(TrackingAttempt(tracking_no=number))
            db.session.flush()
        return None
    actor = actor_for(db.session.get(User, found.resident_id))
    return thread_detail(actor, found.id), actor


def thread_for_visitor(number: str) -> tuple[MessageThread, Actor] | None:
    """The thread with this number, for a visitor whose session already found it."""
    found = db.session.execute(select(MessageThread.id, MessageThread.resident_id)
                               .where(MessageThread.tracking_no == _clean(number))).first()
    if found is None:
        return None
    actor = actor_for(db.session.get(User, found.resident_id))
    return thread_detail(actor, found.id), actor
