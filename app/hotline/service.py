"""Verbs of the hand-over with an external platform (the 12345 hotline).

Out: staff hand a case over; a Handover row is written with the timeline step, and after the commit a job
sends the signed message (`send`). A failed send is retried with backoff by the periodic sweep
(`due_handovers`, tasks/hotline.py), so a platform or Redis outage loses nothing; after MAX_ATTEMPTS the hand-over is
marked failed on the timeline. In: the platform posts signed status updates and work orders (`receive`); each
is kept by the platform's own id, so a resend answers the same and changes nothing.
"""
from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime, timedelta

import requests
from flask import current_app
from sqlalchemy import select

from app import jobs
from app.accounts.models import User
from app.accounts.service import actor_for
from app.areas.service import get_area
from app.cases import notices
from app.cases import service as cases
from app.cases.models import Case
from app.cases.states import STATE_LABELS
from app.core import audit, crypto
from app.core.errors import Forbidden, Invalid, NotFound, Unauthorized
from app.core.scoping import ADMIN_ROLES, Actor, admin_role, require_scope, scope_filter
from app.core.time import local_display, utcnow
from app.core.workflow import record
from app.extensions import db
from app.geo import datum
from app.hotline import signing
from app.hotline.models import FAILED, PENDING, SENT, Handover, Inbound, Platform

log = logging.getLogger("gongzhi.hotline")

SYSTEM = Actor.anonymous()
SYSTEM_ROLE = "system"
MAX_ATTEMPTS = 6
BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(minutes=30),
           timedelta(hours=2))
SEND_TIMEOUT = 10
SEND_JOB = "tasks.hotline.send_handover"


def configure_platform(actor: Actor, *, area_id: int, name: str, endpoint: str, secret: str) -> Platform:
    """A platform over a community or street: its endpoint, the shared secret (kept encrypted), its account."""
    area = get_area(area_id)
    require_scope(actor, area.path, ADMIN_ROLES)
    name, endpoint = (name or "").strip()[:64], (endpoint or "").strip()
    if not name:
        raise Invalid("请填写平台名称。", errors={"name": ["不能为空"]})
    if not endpoint.startswith(("https://", "http://")) or len(endpoint) > 300:
        raise Invalid("接收地址须为 http(s) 网址。", errors={"endpoint": ["格式错误"]})
    if len(secret or "") < 16:
        raise Invalid("共享密钥至少 16 个字符。", errors={"secret": ["过短"]})
    account = User(username=f"hotline-{secrets.token_hex(6)}", display_name=name)
    db.session.add(account)
    db.session.flush()
    platform = Platform(name=name, area_id=area.id, area_path=area.path, endpoint=endpoint,
                        secret_encrypted=crypto.encrypt(secret), user_id=account.id)
    db.session.add(platform)
    db.session.flush()
    audit.act("hotline.platform_configured", platform_id=platform.id, area_id=area.id)
    return platform


# -- out -------------------------------------------------------------------------------------------

def hand_over(actor: Actor, case_id: int, platform_id: int, note: str = "") -> Handover:
    """Hand a case over to a platform that covers it (admins over the case); sent after the commit."""
    case = cases.get_case(actor, case_id)
    role = admin_role(actor, case.area_path)
    if role is None:
        raise Forbidden("只有管辖该案件的管理员可以移交热线。")
    platform = db.session.get(Platform, platform_id)
    if platform is None or not platform.active or not case.area_path.startswith(platform.area_path):
        raise Invalid("该案件所在区域没有这个对接平台。", errors={"platform_id": ["无效"]})
    audit.act("hotline.handover", case_id=case.id, platform_id=platform.id)
    handover = Handover(case_id=case.id, platform_id=platform.id, note=(note or "").strip()[:500],
                        status=PENDING, next_attempt_at=utcnow())
    db.session.add(handover)
    db.session.flush()
    record("case", case.id, actor, role, "handover", case.status, case.status, note=handover.note,
           data={"platform": platform.name})
    jobs.after_commit(SEND_JOB, handover.id)
    return handover


def message(handover: Handover, case: Case, platform: Platform) -> dict:
    """What the platform receives: the case without its reporter, its point in WGS-84, where to answer."""
    lat = lng = None
    if case.location_lat is not None:
        lat, lng = datum.gcj02_to_wgs84(case.location_lat, case.location_lng)
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    return {"type": "handover", "handover_id": handover.id, "note": handover.note,
            "case": {"id": case.id, "tracking_no": case.tracking_no, "category": case.category.name,
                     "description": case.description, "status": case.status,
                     "status_label": STATE_LABELS[case.status], "address": case.where, "lat": lat, "long": lng,
                     "reported_at": case.created_at.isoformat(),
                     "due_at": case.due_at.isoformat() if case.due_at else None},
            "reply_to": {"url": f"{base}/hotline/v1/events", "platform": platform.id}}


def send(handover_id: int) -> str:
    """Send one pending hand-over (the job); a failure schedules the next attempt. Returns its status."""
    handover = db.session.scalar(select(Handover).where(Handover.id == handover_id, Handover.status == PENDING)
                                 .with_for_update(skip_locked=True))
    if handover is None:
        return "skipped"
    platform = db.session.get(Platform, handover.platform_id)
    case = db.session.scalar(select(Case).options(*cases.LOAD).where(Case.id == handover.case_id))
    body = json.dumps(message(handover, case, platform), ensure_ascii=False).encode()
    headers = {**signing.headers(crypto.decrypt(platform.secret_encrypted), body),
               signing.PLATFORM: str(platform.id)}
    handover.attempts += 1
    try:
        res = requests.post(platform.endpoint, data=body, headers=headers, timeout=SEND_TIMEOUT)
        res.raise_for_status()
        answer = res.json() if res.content else {}
    except (requests.RequestException, ValueError) as exc:
        return _failed(handover, case, platform, str(exc)[:300])
    handover.status, handover.sent_at, handover.next_attempt_at = SENT, utcnow(), None
    handover.external_id = str(answer.get("id") or "")[:64] if isinstance(answer, dict) else ""
    record("case", case.id, SYSTEM, SYSTEM_ROLE, "handover_sent", case.status, case.status,
           note=f"{platform.name}已接收" + (f"，工单号 {handover.external_id}" if handover.external_id else ""),
           data={"platform": platform.name, "external_id": handover.external_id})
    return SENT


def _failed(handover: Handover, case: Case, platform: Platform, error: str) -> str:
    log.warning("hand-over %s to %s failed (attempt %s): %s", handover.id, platform.name, handover.attempts, error)
    handover.last_error = error
    if handover.attempts >= MAX_ATTEMPTS:
        handover.status, handover.next_attempt_at = FAILED, None
        record("case", case.id, SYSTEM, SYSTEM_ROLE, "handover_failed", case.status, case.status,
               note=f"移交{platform.name}失败（已重试 {handover.attempts} 次），请人工联系", data={"platform": platform.name})
        return FAILED
    delay = BACKOFF[min(handover.attempts - 1, len(BACKOFF) - 1)]
    handover.next_attempt_at = utcnow() + delay  # the sweep (every minute) tries again then
    return PENDING


def due_handovers(limit: int = 100) -> list[int]:
    """Hand-overs whose next attempt is due (the sweep sends them: nothing waits on Redis)."""
    return list(db.session.scalars(select(Handover.id).where(Handover.status == PENDING,
                                                             Handover.next_attempt_at <= utcnow())
                                   .order_by(Handover.next_attempt_at).limit(limit)))


# -- in --------------------------------------------------------------------------------------------

def receive(platform_id: str | None, timestamp: str | None, signature: str | None, body: bytes) -> dict:
    """A signed message from a platform: a status update on a case handed to it, or a work order (工单直派)."""
    platform = db.session.get(Platform, int(platform_id)) if platform_id and platform_id.isdigit() else None
    if platform is None or not platform.active or not signing.valid(
            crypto.decrypt(platform.secret_encrypted), timestamp, signature, body):
        raise Unauthorized("签名无效。")
    try:
        data = json.loads(body)
        external_id, kind = str(data["id"])[:64], data["type"]
    except (ValueError, KeyError, TypeError):
        raise Invalid("消息须为 JSON，含 id 与 type。", errors={"body": ["格式错误"]}) from None
    seen = db.session.scalar(select(Inbound).where(Inbound.platform_id == platform.id,
                                                   Inbound.external_id == external_id))
    if seen is not None:
        return {"id": external_id, "case_id": seen.case_id, "duplicate": True}
    audit.act("hotline.received", platform_id=platform.id, external_id=external_id, kind=kind)
    if kind == "status_update":
        case_id = _status_update(platform, data)
    elif kind == "work_order":
        case_id = _work_order(platform, external_id, data)
    else:
        raise Invalid("type 须为 status_update 或 work_order。", errors={"type": ["未知类型"]})
    db.session.add(Inbound(platform_id=platform.id, external_id=external_id, kind=kind, case_id=case_id,
                           body=data))
    db.session.flush()
    return {"id": external_id, "case_id": case_id, "duplicate": False}


def _status_update(platform: Platform, data: dict) -> int:
    case_id = data.get("case_id")
    handed = db.session.scalar(select(Handover.id).where(Handover.case_id == case_id,
                                                         Handover.platform_id == platform.id)) \
        if isinstance(case_id, int) else None
    if handed is None:
        raise NotFound("该案件未移交给此平台。")
    case = db.session.scalar(select(Case).options(*cases.LOAD).where(Case.id == case_id))
    note = str(data.get("note") or "").strip()[:500] or f"{platform.name}更新了办理情况"
    # Shown as 系统 (no staff member took this step), with the platform named in the note and data.
    record("case", case.id, SYSTEM, SYSTEM_ROLE, "hotline_update", case.status, case.status,
           note=f"{platform.name}：{note}",
           data={"platform": platform.name, "external_status": str(data.get("status") or "")[:32]})
    notices.to_watchers(case, "case_hotline", "您上报的问题有新的办理情况", body=note[:100])
    return case.id


def _work_order(platform: Platform, external_id: str, data: dict) -> int:
    """A work order dispatched down (工单直派): a case in our loop, at its point, with the order's deadline."""
    actor = actor_for(db.session.get(User, platform.user_id))
    location = None
    if data.get("lat") is not None and data.get("long") is not None:
        try:
            glat, glng = datum.wgs84_to_gcj02(float(data["lat"]), float(data["long"]))
        except (TypeError, ValueError):
            raise Invalid("lat/long 须为数字。", errors={"lat": ["无效"]}) from None
        location = {"latitude": glat, "longitude": glng, "address": str(data.get("address") or "")[:200]}
    category_id = data.get("service_code")
    filed = cases.report_case(actor, category_id=int(category_id) if str(category_id).isdigit() else 0,
                              description=str(data.get("description") or ""), location=location,
                              place_id=data.get("address_id") if isinstance(data.get("address_id"), int) else None)
    case = db.session.get(Case, filed.case.id)
    if not case.area_path.startswith(platform.area_path):
        raise Forbidden("工单位置不在该平台对接的区域内。")
    due = _deadline(data.get("due_at"))
    if due is not None and case.due_at is not None:
        now = utcnow()
        case.due_at, case.remind_at = due, due - min((due - now) / 4, timedelta(hours=24))
    record("case", case.id, SYSTEM, SYSTEM_ROLE, "work_order", case.status, case.status,
           note=f"{platform.name}工单 {external_id}" + (f"，办理时限 {local_display(due)}" if due else ""),
           data={"platform": platform.name, "external_id": external_id})
    return case.id


def _deadline(text) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise Invalid("due_at 须为 ISO 8601 时间。", errors={"due_at": ["格式错误"]}) from None
    if value.tzinfo is None:
        raise Invalid("due_at 须带时区。", errors={"due_at": ["缺少时区"]})
    return value


def list_platforms(actor: Actor) -> list[Platform]:
    """The platforms configured over areas the actor administers (a handful: at most 200)."""
    return list(db.session.scalars(select(Platform).where(scope_filter(actor, Platform.area_path, ADMIN_ROLES))
                                   .order_by(Platform.id.desc()).limit(200)))


def platforms_for(case: Case) -> list[Platform]:
    """The active platforms a case may be handed to: those configured over an area above it."""
    return [p for p in db.session.scalars(select(Platform).where(Platform.active.is_(True)).order_by(Platform.id))
            if case.area_path.startswith(p.area_path)]
