"""Retention for every kind of record and every end state (个人信息保护法 第十九条、第四十七条).

One table says, per kind, how long a record is kept after it ended and what happens then; the
privacy notice reads the same table. `run()` works through the kinds in batches (set-based
statements over a batch of ids) until nothing is due or its time budget is spent, and reports
what it did; the job that calls it queues itself again while a backlog remains, so a county's
first run over years of data finishes in a string of short transactions instead of falling
behind at a fixed number a day.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import bindparam, delete, func, or_, select, update

from app.accounts.models import LoginThrottle
from app.cases import retention as case_retention
from app.cases.models import Case, TrackingAttempt
from app.cases.retention import forget_actor_in_timelines, months_before, placeholder_reporter
from app.contact.models import Message, MessageThread
from app.core.audit import AuditLog
from app.core.crypto import mask_personal
from app.core.time import utcnow
from app.extensions import db
from app.media import service as media
from app.media.models import Upload
from app.notifications.models import PENDING, SENDING, TAKEN, DeliveryLog, Notification
from app.praise.models import Praise
from app.privacy.models import OPEN, PrivacyRequest
from app.suggestions.models import Suggestion
from app.volunteering.models import Activity, Enrollment
from app.wishes.models import CANCELLED, CONFIRMED, EXPIRED, REJECTED, Wish

WISH_ENDED = (CONFIRMED, REJECTED, CANCELLED, EXPIRED)
SUGGESTION_ENDED = ("closed", "rejected", "answered", "replied")


@dataclass(frozen=True)
class Policy:
    kind: str
    label: str           # what the notice calls the record
    months: int | None   # None: RETENTION_MONTHS
    ends: str            # when its clock starts
    then: str            # what happens when it runs out
    apply: Callable[[datetime, int, datetime], int]


# -- one batch of each kind: (cutoff, batch size, now) → records handled ---------------------------

def mask_free_text(model, ids: list[int], columns: tuple[str, ...]) -> None:
    """Phone and ID numbers a person typed into a record's free text go with their name: masked in place."""
    if not ids:
        return
    table = model.__table__
    rows = db.session.execute(select(table.c.id, *[table.c[c] for c in columns]).where(table.c.id.in_(ids))).all()
    changed = []
    for row in rows:
        masked = {f"v_{c}": mask_personal(value or "") for c, value in zip(columns, row[1:], strict=True)}
        if any(masked[f"v_{c}"] != (value or "") for c, value in zip(columns, row[1:], strict=True)):
            changed.append({"row_id": row[0], **masked})
    if changed:
        db.session.execute(update(table).where(table.c.id == bindparam("row_id"))
                           .values({c: bindparam(f"v_{c}") for c in columns}), changed)


def _cases(cutoff: datetime, batch: int, now: datetime) -> int:
    ids = case_retention.anonymise_ended_cases(cutoff, batch, now)
    mask_free_text(Case, ids, ("description", "rating_comment"))
    return len(ids)


def _wishes(cutoff: datetime, batch: int, now: datetime) -> int:
    placeholder = placeholder_reporter()
    ended_at = func.coalesce(Wish.confirmed_at, Wish.fulfilled_at, Wish.claimed_at, Wish.created_at)
    rows = db.session.execute(
        select(Wish.id, Wish.photos).where(Wish.status.in_(WISH_ENDED), ended_at < cutoff,
                                           Wish.requester_id != placeholder.id)
        .order_by(Wish.id).limit(batch)).all()
    if not rows:
        return 0
    ids = [row.id for row in rows]
    forget_actor_in_timelines("wish", ids, Wish.requester_id)
    # The requester's own photos go; the photos of the service done (fulfil_photos) are the record.
    media.forget_uploads(media.uploads_by_ids([p["id"] for row in rows for p in (row.photos or []) if "id" in p]))
    db.session.execute(update(Wish).where(Wish.id.in_(ids)).values(
        requester_id=placeholder.id, contact_name="", phone_encrypted=None, address_encrypted=None,
        title=Wish.public_title, detail=Wish.public_detail, photos=[])
        .execution_options(synchronize_session=False))
    mask_free_text(Wish, ids, ("title", "detail", "public_title", "public_detail", "rating_comment"))
    return len(ids)


def _suggestions(cutoff: datetime, batch: int, now: datetime) -> int:
    placeholder = placeholder_reporter()
    ended_at = func.coalesce(Suggestion.closed_at, Suggestion.answered_at, Suggestion.created_at)
    ids = list(db.session.scalars(
        select(Suggestion.id).where(Suggestion.status.in_(SUGGESTION_ENDED), ended_at < cutoff,
                                    Suggestion.submitter_id != placeholder.id)
        .order_by(Suggestion.id).limit(batch)))
    if not ids:
        return 0
    forget_actor_in_timelines("suggestion", ids, Suggestion.submitter_id)
    db.session.execute(update(Suggestion).where(Suggestion.id.in_(ids)).values(submitter_id=placeholder.id)
                       .execution_options(synchronize_session=False))
    mask_free_text(Suggestion, ids, ("title", "body", "rating_comment"))
    return len(ids)


def _messages(cutoff: datetime, batch: int, now: datetime) -> int:
    ids = list(db.session.scalars(select(MessageThread.id).where(MessageThread.last_message_at < cutoff)
                                  .order_by(MessageThread.id).limit(batch)))
    if ids:
        db.session.execute(delete(Message).where(Message.thread_id.in_(ids)))
        db.session.execute(delete(MessageThread).where(MessageThread.id.in_(ids)))
    return len(ids)


def _delete_older(model, cutoff_column, *conditions) -> Callable[[datetime, int, datetime], int]:
    def apply(cutoff: datetime, batch: int, now: datetime) -> int:
        ids = list(db.session.scalars(select(model.id).where(cutoff_column < cutoff, *conditions)
                                      .order_by(model.id).limit(batch)))
        if ids:
            db.session.execute(delete(model).where(model.id.in_(ids)))
        return len(ids)
    return apply


def _enrollments(cutoff: datetime, batch: int, now: datetime) -> int:
    ids = list(db.session.scalars(
        select(Enrollment.id).join(Activity, Activity.id == Enrollment.activity_id)
        .where(Activity.ends_at < cutoff).order_by(Enrollment.id).limit(batch)))
    if ids:
        db.session.execute(delete(Enrollment).where(Enrollment.id.in_(ids)))
    return len(ids)


def _notifications(cutoff: datetime, batch: int, now: datetime) -> int:
    ids = list(db.session.scalars(
        select(Notification.id).where(Notification.created_at < cutoff,
                                      Notification.status.not_in((PENDING, TAKEN, SENDING)))
        .order_by(Notification.id).limit(batch)))
    if ids:
        db.session.execute(delete(DeliveryLog).where(DeliveryLog.notification_id.in_(ids)))
        db.session.execute(delete(Notification).where(Notification.id.in_(ids)))
    return len(ids)


_tracking_attempts = _delete_older(TrackingAttempt, TrackingAttempt.created_at)


def _unused_uploads(cutoff: datetime, batch: int, now: datetime) -> int:
    return media.forget_uploads(list(db.session.scalars(
        select(Upload).where(Upload.claimed_at.is_(None), Upload.created_at < cutoff).order_by(Upload.id).limit(batch))))


def _temporary(cutoff: datetime, batch: int, now: datetime) -> int:
    done = _tracking_attempts(cutoff, batch, now)
    if done < batch:
        # A throttle whose wait ended before the cutoff no longer slows anyone down.
        done += _delete_older(LoginThrottle, LoginThrottle.created_at, or_(
            LoginThrottle.next_try_at.is_(None), LoginThrottle.next_try_at < cutoff))(cutoff, batch - done, now)
    return done


POLICIES: tuple[Policy, ...] = (
    Policy("cases", "上报的事件", None, "办结、不予受理或撤回之日起",
           "上报人信息匿名化（时间线不再记录是谁上报，文字中的电话、身份证号打码，上报时的定位只保留到约百米、删除定位地址），事件内容、照片和办理过程留作统计和纪实", _cases),
    Policy("wishes", "微心愿", None, "确认完成、未通过、撤销或过期之日起",
           "删除联系人、电话、住址和许愿人上传的照片，原文以公开版本替代，许愿人信息匿名化；服务过程和时长留作纪实", _wishes),
    Policy("suggestions", "意见建议", None, "办结、答复或不予受理之日起",
           "提出人信息匿名化（文字中的电话、身份证号打码），建议与答复内容留作履职记录", _suggestions),
    Policy("messages", "我要联系的留言", 12, "最后一条留言之日起", "留言会话整段删除", _messages),
    Policy("praise", "点赞", 24, "点赞之日起", "删除（已生成的统计报表不受影响）",
           _delete_older(Praise, Praise.created_at)),
    Policy("enrollments", "活动报名与签到", 24, "活动结束之日起",
           "删除报名、签到记录；经审核的服务时长保存在时长台账中，作为志愿服务记录", _enrollments),
    Policy("notifications", "站内消息与通知", 12, "发送之日起", "删除", _notifications),
    Policy("privacy_requests", "个人信息申请", 36, "提出之日起", "删除",
           _delete_older(PrivacyRequest, PrivacyRequest.created_at, PrivacyRequest.status != OPEN)),
    Policy("audit_logs", "操作日志", 36, "记录之日起", "删除（《网络安全法》要求至少保存 6 个月）",
           _delete_older(AuditLog, AuditLog.created_at)),
    Policy("uploads", "上传后未提交的照片", 1, "上传之日起", "删除照片文件", _unused_uploads),
    Policy("temporary", "查询进度和登录的失败记录", 1, "记录之日起", "删除", _temporary),
)
BY_KIND = {p.kind: p for p in POLICIES}


def months_for(policy: Policy) -> int:
    overrides = current_app.config.get("RETENTION_OVERRIDES") or {}
    if policy.kind in overrides:
        return overrides[policy.kind]
    return policy.months if policy.months is not None else current_app.config["RETENTION_MONTHS"]


def schedule() -> list[dict]:
    """The table as the notice shows it, with the months configured for this deployment."""
    return [{"kind": p.kind, "label": p.label, "months": months_for(p), "starts": p.ends, "then": p.then}
            for p in POLICIES]


def run(*, now: datetime | None = None, budget_seconds: float | None = None, batch: int | None = None) -> dict:
    """Apply every policy, batch after batch, until nothing is due or the budget is spent.

    Returns {"handled": {kind: n}, "finished": bool, "seconds": float}: `finished` is False when a
    backlog remains (the caller runs it again)."""
    now = now or utcnow()
    batch = batch or current_app.config["RETENTION_BATCH"]
    started = time.monotonic()
    handled: dict[str, int] = {}
    finished = True
    for policy in POLICIES:
        cutoff = months_before(now, months_for(policy))
        total = 0
        while True:
            done = policy.apply(cutoff, batch, now)
            total += done
            db.session.flush()
            if done < batch:
                break
            if budget_seconds is not None and time.monotonic() - started >= budget_seconds:
                finished = False
                break
        handled[policy.kind] = total
        if not finished:
            break
    return {"handled": handled, "finished": finished, "seconds": round(time.monotonic() - started, 3)}
