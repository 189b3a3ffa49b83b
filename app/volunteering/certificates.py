"""Certificates of volunteer service (志愿服务证明): issue from approved hours, render as PDF, verify, revoke."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from app.accounts.models import User
from app.core import exports
from app.core.crypto import mask_name
from app.core.errors import Invalid, NotFound
from app.core.ids import new_verification_code
from app.core.scoping import Actor
from app.core.time import local_display, to_local, utcnow
from app.core.workflow import record
from app.extensions import db
from app.volunteering.models import Certificate, CertificateItem, ServiceHours
from app.volunteering.states import APPROVED, SYSTEM, VOLUNTEER

FONT = "STSong-Light"
RULES = "《志愿服务记录与证明出具办法（试行）》"


def verify_url(code: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/verify/{code}"


def volunteer_names(users: list[User]) -> dict[int, str]:
    """Names as the community reviewed them at dual registration (双报到) when there is one, else the account's."""
    names = {user.id: user.label for user in users}
    try:
        from app.members.models import PartyMember
    except ImportError:
        return names
    rows = db.session.execute(select(PartyMember.user_id, PartyMember.name).where(
        PartyMember.user_id.in_(list(names)), PartyMember.status == APPROVED).order_by(PartyMember.id))
    names.update({user_id: name for user_id, name in rows if name})
    return names


def issue_certificate(actor: Actor, *, date_from: date | None = None, date_to: date | None = None) -> Certificate:
    """A certificate over my approved hours in [from, to]; the same hours give back the same certificate."""
    user = db.session.get(User, actor.user_id)
    date_to = date_to or to_local(utcnow()).date()
    if date_from and date_from > date_to:
        raise Invalid("开始日期不能晚于结束日期。", errors={"from": ["不能晚于结束日期"]})
    stmt = select(ServiceHours).where(ServiceHours.user_id == user.id, ServiceHours.status == APPROVED,
                                      ServiceHours.served_on <= date_to)
    if date_from:
        stmt = stmt.where(ServiceHours.served_on >= date_from)
    entries = list(db.session.scalars(stmt.order_by(ServiceHours.served_on, ServiceHours.id)))
    if not entries:
        raise NotFound("该时间段内没有已审核通过的志愿服务时长，暂不能出具证明。")
    date_from = date_from or entries[0].served_on
    ids = [e.id for e in entries]
    same = _existing(user.id, date_from, date_to, ids)
    if same is not None:
        return same
    certificate = Certificate(
        user_id=user.id, holder_name=volunteer_names([user])[user.id], period_from=date_from, period_to=date_to,
        total_hours=sum((e.hours for e in entries), Decimal("0.00")), issuer=_issuer(entries),
        issued_at=utcnow(), items=[CertificateItem(service_hours_id=e.id) for e in entries],
    )
    # 12 characters from 32 (60 bits): a clash is not a practical concern; the unique index still guards it.
    certificate.code = new_verification_code()
    db.session.add(certificate)
    db.session.flush()
    record("certificate", certificate.id, actor, VOLUNTEER, "issue", None, "valid",
           data={"code": certificate.code, "hours": str(certificate.total_hours), "service_hours_ids": ids})
    return certificate


def _existing(user_id: int, date_from: date, date_to: date, ids: list[int]) -> Certificate | None:
    candidates = db.session.scalars(select(Certificate).where(
        Certificate.user_id == user_id, Certificate.period_from == date_from, Certificate.period_to == date_to,
        Certificate.revoked_at.is_(None)))
    return next((c for c in candidates if sorted(c.service_hours_ids) == sorted(ids)), None)


def _issuer(entries: list[ServiceHours]) -> str:
    """谁记录谁证明: the organisers that recorded these hours issue the proof together."""
    return "、".join(dict.fromkeys(e.organiser_name for e in entries if e.organiser_name))[:255]


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
    import qrcode

    image = qrcode.make(url, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    return buffer


def render_pdf(certificate: Certificate) -> bytes:
    """An A4 certificate in Chinese: holder, period, each service, total, issuer, code and QR code."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    base = ParagraphStyle("body", fontName=FONT, fontSize=11.5, leading=20, wordWrap="CJK")
    title = ParagraphStyle("title", parent=base, fontSize=24, leading=34, alignment=TA_CENTER, spaceAfter=6)
    cell = ParagraphStyle("cell", parent=base, fontSize=10, leading=14)
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
            f"兹证明 {exports.pdf_text(certificate.holder_name)} 于 {_cn_date(certificate.period_from)} 至 "
            f"{_cn_date(certificate.period_to)} 期间参加志愿服务 {len(items)} 次，服务记录如下：", base),
        Spacer(1, 3 * mm),
    ]
    rows = [[Paragraph(h, cell) for h in ("序号", "服务项目", "服务日期", "时长（小时）", "组织单位")]]
    for index, entry in enumerate(items, start=1):
        rows.append([Paragraph(str(index), cell), Paragraph(exports.pdf_text(entry.description), cell),
                     Paragraph(_cn_date(entry.served_on), cell), Paragraph(_hours(entry.hours), cell),
                     Paragraph(exports.pdf_text(entry.organiser_name), cell)])
    rows.append([Paragraph("", cell), Paragraph("合计", cell), Paragraph("", cell),
                 Paragraph(_hours(certificate.total_hours), cell), Paragraph("", cell)])
    table = Table(rows, colWidths=[13 * mm, 56 * mm, 29 * mm, 24 * mm, 52 * mm], repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#888888")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#F3E3E3")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    story += [table, Spacer(1, 4 * mm),
              Paragraph(f"累计服务时长：{_hours(certificate.total_hours)} 小时", total),
              Spacer(1, 2 * mm),
              Paragraph(f"以上服务时长由组织单位记录并审核，依据{RULES}出具（谁组织谁记录、谁记录谁证明）。", base),
              Spacer(1, 4 * mm),
              Paragraph(f"出具单位（盖章）：{exports.pdf_text(certificate.issuer)}", right),
              Paragraph(f"出具时间：{local_display(certificate.issued_at)}", right),
              Spacer(1, 8 * mm)]
    qr = Image(qr_png(url), width=32 * mm, height=32 * mm)
    verify_text = Paragraph(
        f"验证码：{certificate.code}<br/>扫描二维码或访问以下网址核验本证明真伪：<br/>{exports.pdf_text(url)}", small)
    footer = Table([[qr, verify_text]], colWidths=[38 * mm, 136 * mm])
    footer.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    story.append(footer)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=20 * mm,
                            bottomMargin=18 * mm, title="志愿服务证明", author=certificate.issuer,
                            subject=f"证明编号 {certificate.code}")
    doc.build(story)
    return buffer.getvalue()
