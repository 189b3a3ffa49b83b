"""Tracking a case on the web portal by its number and the last four digits of the reporter's phone,
with a budget of wrong tries per number (case_tracking_attempts)."""
from __future__ import annotations

import hmac
from datetime import timedelta

from sqlalchemy import func, select

from app.accounts.models import User
from app.accounts.service import actor_for
from app.cases.models import Case, TrackingAttempt
from app.cases.service import LOAD
from app.core.errors import TooManyRequests
from app.core.scoping import Actor
from app.core.time import utcnow
from app.extensions import db

NOT_FOUND = "未找到匹配的事件，请核对受理编号和手机号后四位。"
TRACKING_TRIES = 5
TRACKING_WINDOW = timedelta(hours=1)


def tracking_budget_left(tracking_no: str) -> None:
    """Refuse a tracking number that has had TRACKING_TRIES wrong tries within the last TRACKING_WINDOW:
    with four digits to guess, the phone's last four are a secret only while guessing is slow."""
    tracking_no = (tracking_no or "").strip().upper()
    if not tracking_no:
        return
    since = utcnow() - TRACKING_WINDOW
    wrong = db.session.scalar(select(func.count(TrackingAttempt.id)).where(
        TrackingAttempt.tracking_no == tracking_no[:32], TrackingAttempt.created_at >= since))
    if (wrong or 0) >= TRACKING_TRIES:
        raise TooManyRequests("该受理编号的查询错误次数过多，请一小时后再试。")


def tracked_case(tracking_no: str, phone_last4: str) -> tuple[Case, Actor] | None:
    """The case and its reporter's actor, if the last four digits match the reporter's phone; else None,
    and the wrong try is recorded against the number (the edge commits it with the answer).

    Both failures give the same answer, so the page reveals nothing about which numbers exist."""
    tracking_no = (tracking_no or "").strip().upper()
    phone_last4 = (phone_last4 or "").strip()
    if not tracking_no or len(tracking_no) > 32:
        return None
    row = None
    if len(phone_last4) == 4 and phone_last4.isdigit():
        row = db.session.execute(select(Case.id, User).join(User, User.id == Case.reporter_id)
                                 .where(Case.tracking_no == tracking_no)).first()
    if row is None or not hmac.compare_digest(row[1].phone_last4 or "", phone_last4):
        db.session.add(TrackingAttempt(tracking_no=tracking_no))
        db.session.flush()
        return None
    return db.session.get(Case, row[0]), actor_for(row[1])


def case_and_reporter(tracking_no: str) -> tuple[Case, Actor] | None:
    """The case with this number and its reporter's actor, for a visitor this session already let track it."""
    case = db.session.scalar(select(Case).where(Case.tracking_no == (tracking_no or "").strip().upper()[:32]))
    if case is None:
        return None
    return case, actor_for(db.session.get(User, case.reporter_id))


def remembered_cases(case_ids: list[int]) -> list[Case]:
    """The cases this browser filed or found (newest first as remembered): the portal's 我的上报 on this device."""
    if not case_ids:
        return []
    found = {c.id: c for c in db.session.scalars(select(Case).options(*LOAD).where(Case.id.in_(case_ids[:20])))}
    return [found[i] for i in case_ids if i in found]
