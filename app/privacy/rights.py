"""A person's rights over their data (个人信息保护法 第四十四至四十七条): consent, export, cancellation,
and the requests of residents who use only the web portal, handled by staff within a deadline."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, select, true, update

from app.accounts.models import PARTY_MEMBER, STAFF_ROLES, AuthSession, RoleGrant, User, VolunteerProfile
from app.cases.models import Case, CaseFollower
from app.contact.models import Message, MessageThread
from app.core import audit, crypto
from app.core.crypto import mask_personal
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.idempotency import IdempotencyRecord
from app.core.pagination import Page, paginate
from app.core.scoping import Actor, scope_filter
from app.core.time import to_local, utcnow
from app.core.timeline import TimelineEvent
from app.core.workflow import record
from app.extensions import db
from app.media import service as media
from app.media.models import Upload
from app.members.models import PartyMember
from app.notifications.models import DeliveryLog, Notification, OfficialAccountFollower, SubscriptionQuota
from app.praise.models import Praise
from app.privacy import notice
from app.privacy.models import (
    CANCELLATION,
    DECLINED,
    DONE,
    OPEN,
    REQUEST_KINDS,
    Consent,
    PrivacyRequest,
)
from app.privacy.retention import mask_free_text
from app.suggestions.models import Suggestion
from app.volunteering.models import Certificate, CertificateRequest, Enrollment, ServiceHours
from app.wishes import service as wish_service
from app.wishes.models import APPROVED, CANCELLED, SUBMITTED, Wish

CANCELLED_NAME = "已注销用户"
REQUEST_DAYS = 15
REQUEST_ROLES = ("community_admin", "street_admin")


# -- consent --------------------------------------------------------------------------------------

def required_version(version: str) -> str:
    """The version a form says was accepted; nothing accepted (the box left unticked) is a 422."""
    if not version:
        message = "请先阅读并勾选同意《隐私保护指引》。"
        raise Invalid(message, errors={"privacy_version": [message]})
    return version


def record_consent(user: User, version: str, channel: str) -> Consent:
    """The person accepted this version of the notice, now. Only the current version can be accepted."""
    if version != notice.VERSION:
        message = f"隐私保护指引已更新，请阅读并同意当前版本（{notice.VERSION}）。"
        raise Invalid(message, errors={"version": [message]})
    consent = Consent(user_id=user.id, notice_version=version, channel=channel)
    db.session.add(consent)
    db.session.flush()
    return consent


def consents_of(user: User, *, limit: int | None = None, cursor: str | None = None) -> Page:
    return paginate(select(Consent).where(Consent.user_id == user.id), Consent.id, limit=limit, cursor=cursor)


def accepted_current(user: User) -> bool:
    return db.session.scalar(select(Consent.id).where(
        Consent.user_id == user.id, Consent.notice_version == notice.VERSION).limit(1)) is not None


# -- export ---------------------------------------------------------------------------------------

# What is held about a person: (file section, model, the column naming them, columns left out).
# A wish the person claimed carries someone else's contact: that is not theirs to export.
_SOURCES = (
    ("cases_reported", Case, Case.reporter_id, ()),
    ("cases_followed", CaseFollower, CaseFollower.user_id, ()),
    ("wishes_made", Wish, Wish.requester_id, ()),
    ("wishes_claimed", Wish, Wish.claimed_by, ("phone_encrypted", "address_encrypted", "contact_name", "title",
                                               "detail", "photos", "requester_id")),
    ("suggestions", Suggestion, Suggestion.submitter_id, ()),
    ("message_threads", MessageThread, MessageThread.resident_id, ()),
    ("messages_written", Message, Message.author_id, ()),
    ("praise_given", Praise, Praise.user_id, ()),
    ("party_member_registrations", PartyMember, PartyMember.user_id, ()),
    ("volunteer_profile", VolunteerProfile, VolunteerProfile.user_id, ()),
    ("enrollments", Enrollment, Enrollment.user_id, ()),
    ("service_hours", ServiceHours, ServiceHours.user_id, ()),
    ("certificates", Certificate, Certificate.user_id, ()),
    ("certificate_requests", CertificateRequest, CertificateRequest.user_id, ()),
    ("notifications", Notification, Notification.user_id, ()),
    ("timeline_events", TimelineEvent, TimelineEvent.actor_id, ()),
    ("consents", Consent, Consent.user_id, ()),
    ("privacy_requests", PrivacyRequest, PrivacyRequest.user_id, ()),
    ("uploads", Upload, Upload.owner_id, ()),
)
_NEVER = {"version", "password_hash", "phone_hash", "phone_last4"}


def _value(value):
    if isinstance(value, datetime):
        return to_local(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _row(obj, left_out=()) -> dict:
    data = {}
    for column in obj.__table__.columns:
        name = column.name
        if name in _NEVER or name in left_out:
            continue
        value = getattr(obj, column.key)
        if name.endswith("_encrypted"):
            name, value = name.removesuffix("_encrypted"), crypto.decrypt(value)
        data[name] = _value(value)
    return data


def export_data(user: User) -> bytes:
    """Everything held about this person: data.json and their photos, as a ZIP (PIPL art. 45)."""
    held = {"notice_version": notice.VERSION, "exported_at": _value(utcnow()), "account": _row(user)}
    held["account"]["roles"] = [{"role": g.role, "area_id": g.area_id} for g in user.grants]
    uploads = []
    for section, model, column, left_out in _SOURCES:
        rows = list(db.session.scalars(select(model).where(column == user.id).order_by(model.id)))
        held[section] = [_row(obj, left_out) for obj in rows]
        if model is Upload:
            uploads = rows
    audit.act("privacy.export", user_id=user.id)
    buffer = io.BytesIO()
    root = Path(current_app.config["MEDIA_DIR"])
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(held, ensure_ascii=False, indent=2))
        archive.writestr("说明.txt", "data.json 为本平台保存的您的全部个人信息；photos 目录为您上传的照片。\n"
                                    f"隐私保护指引版本：{notice.VERSION}\n")
        for upload in uploads:
            path = root / upload.path
            if path.is_file():
                archive.write(path, f"photos/{upload.path}")
    return buffer.getvalue()


# -- cancellation (注销) ----------------------------------------------------------------------------

def cancel_account(user: User, *, by: Actor | None = None) -> dict:
    """Close the account: tokens revoked, personal data erased, governance records kept under a pseudonym.

    What stays (the notice says so): the cases, suggestions and wishes with their timelines, the
    ledger of service hours and the proofs already issued, pointing to this row, now nameless."""
    if user.cancelled_at is not None:
        raise Conflict("该账号已注销。")
    if any(g.role in STAFF_ROLES for g in user.grants):
        raise Forbidden("工作人员账号不能自行注销，请由管理员收回角色后停用。")
    now = utcnow()
    uid = user.id
    audit.act("privacy.cancel_account", user_id=uid)  # first: it names the audit row (the steps below add theirs)
    kept_photos = _photos_kept_as_record(uid)
    db.session.execute(update(AuthSession).where(AuthSession.user_id == uid, AuthSession.revoked_at.is_(None))
                       .values(revoked_at=now).execution_options(synchronize_session=False))
    if user.unionid:
        db.session.execute(delete(OfficialAccountFollower).where(OfficialAccountFollower.unionid == user.unionid))
    # Cases stay (the record); the reporter is hidden from staff and no longer followed, and the phone
    # or ID numbers they typed into their texts are masked.
    db.session.execute(update(Case).where(Case.reporter_id == uid).values(anonymous=True)
                       .execution_options(synchronize_session=False))
    mask_free_text(Case, list(db.session.scalars(select(Case.id).where(Case.reporter_id == uid))),
                   ("description", "rating_comment"))
    mask_free_text(Suggestion, list(db.session.scalars(select(Suggestion.id).where(Suggestion.submitter_id == uid))),
                   ("title", "body", "rating_comment"))
    db.session.execute(delete(CaseFollower).where(CaseFollower.user_id == uid))
    _close_wishes(user, by)
    wish_service.return_claims_of(uid)
    threads = select(MessageThread.id).where(MessageThread.resident_id == uid).scalar_subquery()
    db.session.execute(delete(Message).where(Message.thread_id.in_(threads)))
    db.session.execute(delete(MessageThread).where(MessageThread.resident_id == uid))
    db.session.execute(delete(Praise).where(Praise.user_id == uid))
    notes = select(Notification.id).where(Notification.user_id == uid).scalar_subquery()
    db.session.execute(delete(DeliveryLog).where(DeliveryLog.notification_id.in_(notes)))
    db.session.execute(delete(Notification).where(Notification.user_id == uid))
    db.session.execute(delete(SubscriptionQuota).where(SubscriptionQuota.user_id == uid))
    db.session.execute(delete(VolunteerProfile).where(VolunteerProfile.user_id == uid))
    db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.user_id == uid))
    db.session.execute(update(PartyMember).where(PartyMember.user_id == uid).values(
        name=CANCELLED_NAME, org_name="", skills=[], availability="").execution_options(synchronize_session=False))
    db.session.execute(delete(RoleGrant).where(RoleGrant.user_id == uid, RoleGrant.role == PARTY_MEMBER))
    media.forget_uploads(list(db.session.scalars(
        select(Upload).where(Upload.owner_id == uid, Upload.id.not_in(kept_photos) if kept_photos else true()))))
    user.openid = user.unionid = None
    user.display_name, user.real_name = CANCELLED_NAME, ""
    user.id_number_encrypted = user.phone_encrypted = user.phone_last4 = user.phone_hash = None
    user.is_active = False
    user.cancelled_at = now
    db.session.flush()
    db.session.expire(user, ["grants"])
    return {"cancelled_at": now, "remains": notice.CANCELLATION}


def _close_wishes(user: User, by: Actor | None) -> None:
    """Every wish loses its contact and the requester's photos; one nobody has claimed yet is withdrawn."""
    actor = by or Actor(user_id=None)
    for wish in db.session.scalars(select(Wish).where(Wish.requester_id == user.id)):
        if wish.status in (SUBMITTED, APPROVED):
            record("wish", wish.id, actor, "system", "cancel", wish.status, CANCELLED, note="许愿人已注销账号，心愿撤销。")
            wish.status = CANCELLED
        wish.contact_name, wish.phone_encrypted, wish.address_encrypted = "", None, None
        wish.title, wish.detail, wish.photos = wish.public_title, wish.public_detail, []
        wish.public_title, wish.public_detail = mask_personal(wish.public_title), mask_personal(wish.public_detail)
        wish.title, wish.detail = wish.public_title, wish.public_detail


def _photos_kept_as_record(uid: int) -> list[int]:
    """Photos that belong to a governance record (a case, a suggestion, a service done): they stay."""
    ids: set[int] = set()
    for photos in (*db.session.scalars(select(Case.photos).where(Case.reporter_id == uid)),
                   *db.session.scalars(select(Suggestion.photos).where(Suggestion.submitter_id == uid)),
                   *db.session.scalars(select(Wish.fulfil_photos).where(Wish.claimed_by == uid))):
        ids.update(p["id"] for p in photos or [] if isinstance(p, dict) and "id" in p)
    return sorted(ids)


# -- requests from residents of the web portal ----------------------------------------------------

def submit_request(phone: str, kind: str, detail: str) -> PrivacyRequest | None:
    """A portal resident asks about their data. The same answer whether or not the phone is known, so
    that the form does not tell who has used the portal; a request exists only for a known person."""
    if kind not in REQUEST_KINDS:
        raise Invalid("请选择申请事项。", errors={"kind": [f"应为 {'、'.join(REQUEST_KINDS)}"]})
    user = db.session.scalar(select(User).where(User.phone_hash.in_(crypto.lookup_hashes(phone)),
                                                User.username.is_(None), User.cancelled_at.is_(None))
                             .order_by(User.id).limit(1))
    if user is None:
        return None
    now = utcnow()
    request = PrivacyRequest(user_id=user.id, kind=kind, detail=detail[:500], area_path=_area_of(user.id),
                             due_at=now + timedelta(days=REQUEST_DAYS))
    db.session.add(request)
    db.session.flush()
    return request


def _area_of(uid: int) -> str:
    """The area of the person's latest record: its staff handle the request."""
    latest = [db.session.execute(select(model.created_at, model.area_path).where(column == uid)
                                 .order_by(model.id.desc()).limit(1)).first()
              for model, column in ((Case, Case.reporter_id), (Wish, Wish.requester_id),
                                    (Suggestion, Suggestion.submitter_id), (MessageThread, MessageThread.resident_id),
                                    (Praise, Praise.user_id))]
    found = [row for row in latest if row is not None]
    return max(found)[1] if found else "/"


def list_requests(actor: Actor, *, status: str | None = OPEN, limit: int | None = None,
                  cursor: str | None = None) -> Page:
    stmt = select(PrivacyRequest).where(scope_filter(actor, PrivacyRequest.area_path, REQUEST_ROLES))
    if status:
        stmt = stmt.where(PrivacyRequest.status == status)
    return paginate(stmt, PrivacyRequest.id, limit=limit, cursor=cursor)


def load_request(actor: Actor, request_id: int) -> PrivacyRequest:
    found = db.session.scalar(select(PrivacyRequest).where(
        PrivacyRequest.id == request_id, scope_filter(actor, PrivacyRequest.area_path, REQUEST_ROLES)))
    if found is None:
        raise NotFound("申请不存在或不在您的管辖范围内。")
    return found


def masked_phone(request: PrivacyRequest) -> str | None:
    user = db.session.get(User, request.user_id)
    return crypto.mask_phone(crypto.decrypt(user.phone_encrypted)) if user and user.phone_encrypted else None


def requester_phone(actor: Actor, request: PrivacyRequest) -> str | None:
    """Staff call the resident back to confirm it is them: a read of a phone in clear, audited."""
    user = db.session.get(User, request.user_id)
    audit.act("personal.read_phone", subject="privacy_request", id=request.id, user_id=request.user_id,
              reason="核实个人信息申请")
    return crypto.decrypt(user.phone_encrypted) if user else None


def export_for_request(actor: Actor, request_id: int) -> bytes:
    request = load_request(actor, request_id)
    if request.status != OPEN:
        raise Conflict("该申请已办结。")
    return export_data(db.session.get(User, request.user_id))


def handle_request(actor: Actor, request_id: int, *, outcome: str, answer: str) -> PrivacyRequest:
    """Close a request: done (for a cancellation, the account is cancelled now) or declined with a reason."""
    request = load_request(actor, request_id)
    if request.status != OPEN:
        raise Conflict("该申请已办结。")
    answer = (answer or "").strip()
    if outcome not in (DONE, DECLINED):
        raise Invalid("请选择办理结果。", errors={"outcome": ["应为 done 或 declined"]})
    if not answer:
        raise Invalid("请填写办理说明（将记入办理记录）。", errors={"answer": ["必填"]})
    if outcome == DONE and request.kind == CANCELLATION:
        user = db.session.get(User, request.user_id)
        if user.cancelled_at is None:
            cancel_account(user, by=actor)
    request.status, request.answer = outcome, answer[:1000]
    request.handled_by, request.handled_at = actor.user_id, utcnow()
    audit.act("privacy.handle_request", id=request.id, kind=request.kind, outcome=outcome)
    db.session.flush()
    return request


def overdue(request: PrivacyRequest) -> bool:
    return request.status == OPEN and request.due_at <= utcnow()
