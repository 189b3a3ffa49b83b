"""Certificates of volunteer service (志愿服务证明): issue from approved hours, render as PDF, verify, revoke."""
from __future__ import annotations

import hmac
import io
from datetime import date
from decimal import Decimal

import qrcode
from flask import current_app
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select

from app.accounts import profile
from app.accounts.models import ADMIN_ROLES, RoleGrant, User
from app.areas.models import COMMUNITY, Area
from app.core import audit, exports
from app.core.crypto import mask_name
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, OutOfScope
from app.core.ids import new_verification_code
from app.core.pagination import Page, paginate
from app.core.pdf_fonts import cjk_font
from app.core.scoping import Actor, admin_role, scope_filter
from app.core.time import to_local, utcnow
from app.core.workflow import record
from app.extensions import db
from app.members.models import PartyMember
from app.notifications.service import notify
from app.volunteering.models import (
    Certificate,
    CertificateItem,
    CertificateRequest,
    ProofPolicy,
    ServiceHours,
)
from app.volunteering.states import APPROVED, SYSTEM, VOLUNTEER

RULES = "《志愿服务记录与证明出具办法（试行）》"
SYSTEM_ACTOR = Actor(user_id=None)


def verify_url(code: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/verify/{code}"


def volunteer_names(users: list[User]) -> dict[int, str]:
    """Real names where given; else the name reviewed at dual registration (双报到); else the account's."""
    names = {user.id: user.label for user in users}
    rows = db.session.execute(select(PartyMember.user_id, PartyMember.name).where(
        PartyMember.user_id.in_(list(names)), PartyMember.status == APPROVED).order_by(PartyMember.id))
    names.update({user_id: name for user_id, name in rows if name})
    names.update({user.id: user.real_name for user in users if user.real_name})
    return names


REQUESTED, ISSUED = "requested", "issued"
REQUEST_LABELS = {REQUESTED: "待出具", ISSUED: "已出具"}


def request_proofs(actor: Actor, *, id_number: str | None = None, date_from: date | None = None,
                   date_to: date | None = None) -> list[CertificateRequest]:
    """Ask every organisation that recorded my approved hours in [from, to] for a proof of them."""
    user = db.session.get(User, actor.user_id)
    if not user.real_name:
        raise Invalid("志愿服务证明须载明本人姓名，请先在“我的”中填写姓名。", errors={"real_name": ["请先填写姓名"]})
    if id_number:
        profile.set_id_number(user, id_number)
    elif not user.id_number_encrypted:
        message = "志愿服务证明须载明居民身份证号（只显示前 3 位和后 4 位），请填写。"
        raise Invalid(message, errors={"id_number": [message]})
    date_to = date_to or to_local(utcnow()).date()
    if date_from and date_from > date_to:
        raise Invalid("开始日期不能晚于结束日期。", errors={"from": ["不能晚于结束日期"]})
    areas = list(db.session.scalars(select(Area).where(Area.id.in_(
        select(ServiceHours.organiser_area_id).where(*_covered(user.id, date_from, date_to))))
        .order_by(Area.id)))
    if not areas:
        raise NotFound("该时间段内没有已审核通过的志愿服务时长，暂不能申请证明。")
    requests = []
    for area in areas:
        open_request = db.session.scalar(select(CertificateRequest).where(
            CertificateRequest.user_id == user.id, CertificateRequest.area_id == area.id,
            CertificateRequest.status == REQUESTED))
        if open_request is None:
            open_request = CertificateRequest(user_id=user.id, user=user, area_id=area.id, area_path=area.path,
                                              status=REQUESTED)
            db.session.add(open_request)
        open_request.date_from, open_request.date_to = date_from, date_to
        db.session.flush()
        record("certificate_request", open_request.id, actor, VOLUNTEER, "request", None, REQUESTED)
        if auto_issues(area.id):
            _issue_request(open_request, SYSTEM_ACTOR, SYSTEM, automatic=True)
        else:
            notify(_admins_of(area), "certificate.requested", title="新的志愿服务证明申请",
                   body=f"{user.person_name}申请出具{area.name}记录的志愿服务证明，请在工作台出具。",
                   page="pages/hours/index", data={"subject": "志愿服务证明", "status": "待出具"},
                   subject=("certificate_request", open_request.id))
        requests.append(open_request)
    return requests


def auto_issues(area_id: int) -> bool:
    """Whether the recording organisation has said its proofs are issued at once, without a staff member."""
    return bool(db.session.scalar(select(ProofPolicy.auto_issue).where(ProofPolicy.area_id == area_id)))


def proof_policies(actor: Actor) -> list[dict]:
    """The communities the actor administers and how each issues its proofs."""
    if not actor.has_role(*ADMIN_ROLES):
        raise Forbidden("只有社区管理员可以设置证明出具方式。")
    areas = list(db.session.scalars(select(Area).where(
        Area.level == COMMUNITY, scope_filter(actor, Area.path, ADMIN_ROLES)).order_by(Area.path).limit(200)))
    automatic = set(db.session.scalars(select(ProofPolicy.area_id).where(
        ProofPolicy.area_id.in_([a.id for a in areas]), ProofPolicy.auto_issue.is_(True))))
    return [{"area": area, "auto_issue": area.id in automatic} for area in areas]


def set_proof_policy(actor: Actor, area_id: int, *, auto_issue: bool) -> ProofPolicy:
    """The organisation says whether its proofs are issued automatically (at once, on its behalf) or by its staff.
    Turning it on also issues the requests already waiting."""
    area = db.session.get(Area, area_id)
    if area is None:
        raise NotFound("社区不存在。")
    role = admin_role(actor, area.path)
    if not role:
        raise OutOfScope("只能设置本单位的证明出具方式。")
    if area.level != COMMUNITY:
        raise Invalid("证明由记录服务的社区（村）出具，请选择社区。", errors={"area_id": ["应为社区/村"]})
    policy = db.session.scalar(select(ProofPolicy).where(ProofPolicy.area_id == area.id))
    if policy is None:
        policy = ProofPolicy(area_id=area.id, auto_issue=False)
        db.session.add(policy)
    was = bool(policy.auto_issue)
    policy.auto_issue, policy.updated_by = bool(auto_issue), actor.user_id
    db.session.flush()
    record("proof_policy", policy.id, actor, role, "set", "auto" if was else "manual",
           "auto" if policy.auto_issue else "manual")
    audit.act("certificate.policy", area_id=area.id, auto_issue=policy.auto_issue)
    if policy.auto_issue:
        for waiting in db.session.scalars(select(CertificateRequest).where(
                CertificateRequest.area_id == area.id, CertificateRequest.status == REQUESTED)).all():
            try:
                _issue_request(waiting, SYSTEM_ACTOR, SYSTEM, automatic=True)
            except NotFound:
                continue  # its entries were rejected since: the request waits for the staff's answer
    return policy


def _admins_of(area: Area) -> list[int]:
    return list(db.session.scalars(select(RoleGrant.user_id).where(
        RoleGrant.role.in_(ADMIN_ROLES), RoleGrant.area_id == area.id)))


def _covered(user_id: int, date_from: date | None, date_to: date) -> list:
    where = [ServiceHours.user_id == user_id, ServiceHours.status == APPROVED, ServiceHours.served_on <= date_to,
             ServiceHours.organiser_area_id.is_not(None)]
    if date_from:
        where.append(ServiceHours.served_on >= date_from)
    return where


def list_requests(actor: Actor, *, status: str | None = REQUESTED, limit: int | None = None,
                  cursor: str | None = None) -> Page:
    """The requests the actor's organisation has to answer (scoped to the areas they administer)."""
    if not actor.has_role(*ADMIN_ROLES):
        raise Forbidden("只有社区管理员可以出具志愿服务证明。")
    stmt = select(CertificateRequest).where(scope_filter(actor, CertificateRequest.area_path, ADMIN_ROLES))
    if status:
        stmt = stmt.where(CertificateRequest.status == status)
    return paginate(stmt, CertificateRequest.id, limit=limit, cursor=cursor)


def issue_for_request(actor: Actor, request_id: int) -> Certificate:
    """The recording organisation issues the proof: only the entries it recorded, signed by its staff."""
    # Lock the request row only (its eager joins are an outer join PostgreSQL cannot lock).
    proof_request = db.session.scalar(select(CertificateRequest).where(CertificateRequest.id == request_id)
                                      .with_for_update(of=CertificateRequest)
                                      .execution_options(populate_existing=True))
    if proof_request is None:
        raise NotFound("证明申请不存在。")
    role = admin_role(actor, proof_request.area_path)
    if not role:
        raise OutOfScope("只有记录这些服务时长的组织可以出具证明（谁记录谁证明）。")
    if proof_request.status == ISSUED:  # issued already (a second click): the same proof, said so in the audit
        audit.act("certificate_request.issue", id=proof_request.id, already_issued=True)
        return proof_request.certificate
    return _issue_request(proof_request, actor, role)


def _issue_request(proof_request: CertificateRequest, actor: Actor, role: str, *,
                   automatic: bool = False) -> Certificate:
    """Issue the proof a request asks for, by the organisation's staff or, where the organisation has said so,
    by the system on its behalf (the proof still names the organisation; the records say it was automatic)."""
    area = db.session.get(Area, proof_request.area_id)
    certificate = _issue(actor, role, area=area, user=proof_request.user, date_from=proof_request.date_from,
                         date_to=proof_request.date_to, automatic=automatic)
    proof_request.status, proof_request.certificate_id = ISSUED, certificate.id
    proof_request.certificate, proof_request.issued_by = certificate, actor.user_id
    record("certificate_request", proof_request.id, actor, role, "issue", REQUESTED, ISSUED,
           data={"code": certificate.code, "automatic": automatic})
    audit.act("certificate.issue", code=certificate.code, area_id=area.id, automatic=automatic)
    notify([proof_request.user_id], "certificate.issued", title="志愿服务证明已出具",
           body=f"{certificate.issuer}已为您出具志愿服务证明（编号 {certificate.code}），可在小程序或网页下载。",
           page="pages/hours/index", data={"subject": "志愿服务证明", "status": "已出具"},
           subject=("certificate", certificate.id))
    return certificate


def issue_certificate(actor: Actor, *, user_id: int, area_id: int, date_from: date | None = None,
                      date_to: date | None = None) -> Certificate:
    """A proof over one person's approved entries recorded by `area_id` in [from, to]; staff of that area only.
    The same entries give back the same (valid) certificate."""
    area = db.session.get(Area, area_id)
    if area is None:
        raise NotFound("出具单位不存在。")
    role = admin_role(actor, area.path)
    if not role:
        raise OutOfScope("只有记录这些服务时长的组织可以出具证明（谁记录谁证明）。")
    return _issue(actor, role, area=area, user=db.session.get(User, user_id), date_from=date_from, date_to=date_to)


def _issue(actor: Actor, role: str, *, area: Area, user: User, date_from: date | None, date_to: date | None,
           automatic: bool = False) -> Certificate:
    date_to = date_to or to_local(utcnow()).date()
    entries = list(db.session.scalars(select(ServiceHours).where(
        *_covered(user.id, date_from, date_to), ServiceHours.organiser_area_id == area.id)
        .order_by(ServiceHours.served_on, ServiceHours.id)))
    if not entries:
        raise NotFound("该时间段内没有本单位记录并审核通过的服务时长，不能出具证明。")
    date_from = date_from or entries[0].served_on
    ids = [e.id for e in entries]
    same = _existing(user.id, area.id, date_from, date_to, ids)
    if same is not None:
        return same
    certificate = Certificate(
        user_id=user.id, holder_name=user.person_name, holder_id_masked=profile.masked_id_number(user) or "",
        period_from=date_from, period_to=date_to, total_hours=sum((e.hours for e in entries), Decimal("0.00")),
        issuer=_issuer(area, entries), issuer_area_id=area.id, issued_by=actor.user_id,
        issued_at=utcnow(), items=[CertificateItem(service_hours_id=e.id) for e in entries],
    )
    # 12 characters from 32 (60 bits): a clash is not a practical concern; the unique index still guards it.
    certificate.code = new_verification_code()
    db.session.add(certificate)
    db.session.flush()
    record("certificate", certificate.id, actor, role, "issue", None, "valid",
           data={"code": certificate.code, "hours": str(certificate.total_hours), "service_hours_ids": ids,
                 "automatic": automatic})
    return certificate


def _existing(user_id: int, area_id: int, date_from: date, date_to: date, ids: list[int]) -> Certificate | None:
    candidates = db.session.scalars(select(Certificate).where(
        Certificate.user_id == user_id, Certificate.issuer_area_id == area_id, Certificate.period_from == date_from,
        Certificate.period_to == date_to, Certificate.revoked_at.is_(None)))
    return next((c for c in candidates if sorted(c.service_hours_ids) == sorted(ids)), None)


def _issuer(area: Area, entries: list[ServiceHours]) -> str:
    """The recording organisation's name as its entries carry it (e.g. 东城社区党支部), else the area's."""
    names = {e.organiser_name for e in entries if e.organiser_name}
    return (names.pop() if len(names) == 1 else area.name)[:255]


def my_certificates(actor: Actor) -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).where(Certificate.user_id == actor.user_id)
                                   .order_by(Certificate.id.desc())))


def my_requests(actor: Actor) -> list[CertificateRequest]:
    return list(db.session.scalars(select(CertificateRequest).where(CertificateRequest.user_id == actor.user_id)
                                   .order_by(CertificateRequest.id.desc())))


def certificate_for_download(actor: Actor, code: str) -> Certificate:
    """The holder, or the staff of the issuing organisation; anyone else learns nothing."""
    certificate = db.session.scalar(select(Certificate).where(Certificate.code == code.strip().upper()))
    if certificate is None or not (certificate.user_id == actor.user_id or _issuer_staff(certificate, actor)):
        raise NotFound("证明不存在。")
    audit.act("personal.read_proof", id=certificate.id, holder_id=certificate.user_id)
    return certificate


def certificate_for_holder(code: str, id_last4: str) -> Certificate:
    """A proof downloaded on the web portal, which has no WeChat sign-in: the verification code printed on the
    proof (and sent to the holder when it was issued) plus the last 4 characters of the holder's ID number.
    Either wrong gives the same answer; a revoked proof is not handed out as if it were valid."""
    wrong = NotFound("证明编号或身份证号后四位不正确。")
    code, id_last4 = (code or "").strip().upper(), (id_last4 or "").strip().upper()
    if not code or len(code) > 16 or len(id_last4) != 4:
        raise wrong
    certificate = db.session.scalar(select(Certificate).where(Certificate.code == code))
    on_proof = (certificate.holder_id_masked or "")[-4:].upper() if certificate else ""
    if certificate is None or len(on_proof) != 4 or not hmac.compare_digest(on_proof, id_last4):
        raise wrong
    if certificate.revoked_at is not None:
        raise Conflict(f"该证明已撤销：{certificate.revoke_reason or '未说明原因'}。如需证明请重新申请。")
    audit.act("certificate.download", code=certificate.code, by="holder_on_portal")
    return certificate


def _issuer_staff(certificate: Certificate, actor: Actor) -> bool:
    area = db.session.get(Area, certificate.issuer_area_id) if certificate.issuer_area_id else None
    return bool(area and admin_role(actor, area.path))


def issued_by_area(actor: Actor, *, limit: int | None = None, cursor: str | None = None) -> Page:
    """The certificates the actor's organisations issued, newest first in pages."""
    if not actor.has_role(*ADMIN_ROLES):
        raise Forbidden("只有社区管理员可以查看出具的证明。")
    stmt = select(Certificate).join(Area, Area.id == Certificate.issuer_area_id).where(
        scope_filter(actor, Area.path, ADMIN_ROLES))
    return paginate(stmt, Certificate.id, limit=limit, cursor=cursor)


def revoke_covering(entry: ServiceHours, *, reason: str) -> list[Certificate]:
    """Revoke every valid certificate that counted `entry`."""
    certificates = list(db.session.scalars(
        select(Certificate).join(CertificateItem, CertificateItem.certificate_id == Certificate.id)
        .where(CertificateItem.service_hours_id == entry.id, Certificate.revoked_at.is_(None))))
    for certificate in certificates:
        certificate.revoked_at = utcnow()
        certificate.revoke_reason = reason[:255]
        record("certificate", certificate.id, Actor(user_id=None), SYSTEM, "revoke", "valid", "revoked", note=reason)
    return certificates


def verify(code: str) -> dict:
    certificate = db.session.scalar(select(Certificate).where(Certificate.code == code.strip().upper()))
    if certificate is None:
        raise NotFound("证明编号不存在，请核对后重试。")
    return {
        "code": certificate.code,
        "valid": certificate.revoked_at is None,
        "status": "valid" if certificate.revoked_at is None else "revoked",
        "status_label": "有效" if certificate.revoked_at is None else "已撤销",
        "holder_name": mask_name(certificate.holder_name),
        "period_from": certificate.period_from.isoformat(),
        "period_to": certificate.period_to.isoformat(),
        "total_hours": float(certificate.total_hours),
        "issuer": certificate.issuer,
        "issued_at": to_local(certificate.issued_at).isoformat(),
        "revoked_at": to_local(certificate.revoked_at).isoformat() if certificate.revoked_at else None,
        "revoke_reason": certificate.revoke_reason or None,
        "items": [
            {"description": item.service_hours.description, "served_on": item.service_hours.served_on.isoformat(),
             "hours": float(item.service_hours.hours), "organiser": item.service_hours.organiser_name}
            for item in certificate.items
        ],
        "verify_url": verify_url(certificate.code),
    }


# -- the PDF ------------------------------------------------------------------------------------

def _cn_date(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _hours(value: Decimal) -> str:
    return f"{Decimal(value).quantize(Decimal('0.01')).normalize():f}"


def qr_png(url: str) -> io.BytesIO:
    image = qrcode.make(url, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    return buffer


def render_pdf(certificate: Certificate) -> bytes:
    """An A4 proof in Chinese: holder and masked ID number, period, each entry (content, place, date, hours),
    total, the issuing organisation, date of issue, code and QR code."""
    font = cjk_font()
    # Sentences break only at the spaces between phrases (a name, a date, the rules' title stay whole);
    # free text in table cells may break between any two characters.
    base = ParagraphStyle("body", fontName=font, fontSize=11.5, leading=20)
    title = ParagraphStyle("title", parent=base, fontSize=24, leading=34, alignment=TA_CENTER, spaceAfter=6)
    cell = ParagraphStyle("cell", parent=base, fontSize=10, leading=14, wordWrap="CJK")
    right = ParagraphStyle("right", parent=base, alignment=TA_RIGHT)
    total = ParagraphStyle("total", parent=base, fontSize=13, leading=22)
    small = ParagraphStyle("small", parent=base, fontSize=9, leading=13, textColor=colors.HexColor("#555555"))

    items = [item.service_hours for item in certificate.items]
    url = verify_url(certificate.code)
    story = [
        Paragraph("志愿服务证明", title),
        Paragraph(f"证明编号：{certificate.code}", right),
        Spacer(1, 4 * mm),
        Paragraph(
            f"兹证明 {exports.pdf_text(certificate.holder_name)} （居民身份证号 {exports.pdf_text(certificate.holder_id_masked or '未登记')}） "
            f"于 {_cn_date(certificate.period_from)} 至 {_cn_date(certificate.period_to)} "
            f"期间在 {exports.pdf_text(certificate.issuer)} 参加志愿服务 {len(items)} 次， 服务记录如下：", base),
        Spacer(1, 3 * mm),
    ]
    rows = [[Paragraph(h, cell) for h in ("序号", "服务内容", "服务地点", "服务日期", "时长（小时）")]]
    for index, entry in enumerate(items, start=1):
        rows.append([Paragraph(str(index), cell), Paragraph(exports.pdf_text(entry.description), cell),
                     Paragraph(exports.pdf_text(entry.place or "—"), cell),
                     Paragraph(f"{entry.served_on:%Y-%m-%d}", cell), Paragraph(_hours(entry.hours), cell)])
    rows.append([Paragraph("", cell), Paragraph("合计", cell), Paragraph("", cell), Paragraph("", cell),
                 Paragraph(_hours(certificate.total_hours), cell)])
    table = Table(rows, colWidths=[13 * mm, 58 * mm, 50 * mm, 27 * mm, 26 * mm], repeatRows=1)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), font),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#888888")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#F3E3E3")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    story += [table, Spacer(1, 4 * mm),
              Paragraph(f"累计服务时长：{_hours(certificate.total_hours)} 小时", total),
              Spacer(1, 2 * mm),
              Paragraph(f"以上服务时长由本单位记录并审核， 依据{RULES}出具 （谁记录谁证明）。", base),
              Spacer(1, 4 * mm),
              Paragraph(f"出具单位（盖章）：{exports.pdf_text(certificate.issuer)}", right),
              Paragraph(f"出具日期：{_cn_date(to_local(certificate.issued_at).date())}", right),
              Spacer(1, 8 * mm)]
    qr = Image(qr_png(url), width=32 * mm, height=32 * mm)
    verify_text = Paragraph(
        f"验证码：{certificate.code}<br/>扫描二维码或访问以下网址核验本证明真伪：<br/>{exports.pdf_text(url)}", small)
    footer = Table([[qr, verify_text]], colWidths=[38 * mm, 136 * mm])
    footer.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), font), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    story.append(footer)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=20 * mm,
                            bottomMargin=18 * mm, title="志愿服务证明", author=certificate.issuer,
                            subject=f"证明编号 {certificate.code}",
                            # The canvas would start in Helvetica: a font in the PDF that is not embedded.
                            initialFontName=font)
    doc.build(story)
    return buffer.getvalue()
