"""The employer report (双报告) of a party member's services, as CSV for Excel and as a printable PDF."""
from __future__ import annotations

import io

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.core import exports
from app.core.pdf_fonts import cjk_font
from app.core.time import local_display
from app.records.service import Report


def filename(report: Report, ext: str) -> str:
    return f"党员服务纪实_{report.member['name']}_{report.date_from:%Y%m%d}-{report.date_to:%Y%m%d}.{ext}"


def _summary(report: Report) -> list[tuple[str, str]]:
    m, t = report.member, report.totals
    return [
        ("姓名", m["name"]),
        ("单位党组织", m["org_name"]),
        ("报到社区", m["community_name"]),
        ("统计期间", f"{report.date_from:%Y-%m-%d} 至 {report.date_to:%Y-%m-%d}"),
        ("完成心愿（件）", str(t["wishes_fulfilled"])),
        ("参加志愿活动（次）", str(t["activities_joined"])),
        ("已审核服务时长（小时）", f"{t['hours']:g}"),
        ("待审核服务时长（小时）", f"{t['pending_hours']:g}"),
        ("群众评分", f"{t['rating_average']:g} 分（{t['rating_count']} 次评价）" if t["rating_average"] else "暂无评价"),
        ("获得点赞（次）", str(report.praise_count)),
        *([("社区积分（双积分）", f"期间获得 {report.points['earned']} 分，现有 {report.points['balance']} 分")]
          if report.points else []),
        *_target(report),
    ]


def _target(report: Report) -> list[tuple[str, str]]:
    t = report.target
    if not t:
        return []
    if t["target"] is None:
        return [(f"{t['year']}年服务目标", t["label"])]
    return [(f"{t['year']}年服务目标", f"至少 {t['target']} 次，已完成 {t['done']} 次：{t['label']}")]


# One row per approved ledger entry: wishes and activities alike.
HEADER = ("序号", "服务日期", "服务内容", "类别", "服务地点", "记录单位", "服务时长（小时）", "群众评分", "服务说明")
PDF_HEADER = {"服务时长（小时）": "时长（小时）"}


def _row_cells(index: int, row: dict) -> list[str]:
    return [
        str(index), f"{row['served_on']:%Y-%m-%d}", row["title"], row["category_label"], row["place"] or "",
        row["organiser_name"] or "", f"{row['hours']:g}", str(row["rating"] or ""), row["note"] or "",
    ]


def to_csv(report: Report) -> bytes:
    return exports.csv_bytes([
        ["在职党员服务纪实报告（双报告）"],
        *_summary(report),
        [],
        HEADER,
        *(_row_cells(index, row) for index, row in enumerate(report.rows, start=1)),
        [],
        ["生成时间", local_display(report.generated_at)],
    ])


def to_pdf(report: Report) -> bytes:
    font = cjk_font()
    title = ParagraphStyle("title", fontName=font, fontSize=18, leading=24, alignment=1, spaceAfter=4 * mm)
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=14)
    cell = ParagraphStyle("cell", fontName=font, fontSize=8.5, leading=11, wordWrap="CJK")
    heading = ParagraphStyle("heading", fontName=font, fontSize=12, leading=16, spaceBefore=5 * mm, spaceAfter=2 * mm)

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title="在职党员服务纪实报告", author="共治平台",
                            # The canvas would start in Helvetica: a font in the PDF that is not embedded.
                            initialFontName=font)
    grid = TableStyle([
        ("FONT", (0, 0), (-1, -1), font, 9.5),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ])
    summary = Table([[Paragraph(k, body), Paragraph(exports.pdf_text(v), body)] for k, v in _summary(report)],
                    colWidths=[50 * mm, 130 * mm], style=grid)
    summary.setStyle(TableStyle([("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f3e9e9"))]))
    story = [Paragraph("在职党员服务纪实报告", title), Paragraph("（双报到、双报告）", ParagraphStyle("sub", parent=body, alignment=1)), Spacer(1, 4 * mm),
             summary, Paragraph("服务明细", heading)]
    if report.rows:
        # The PDF's narrow columns carry short headers, each wide enough not to break inside a phrase.
        data = [[Paragraph(PDF_HEADER.get(h, h), cell) for h in HEADER]]
        data += [[Paragraph(exports.pdf_text(c), cell) for c in _row_cells(i, r)] for i, r in enumerate(report.rows, start=1)]
        widths = [11, 20, 28, 14, 20, 20, 23, 17, 27]  # mm, 180 in all; 8.5 pt CJK is 3 mm a character
        table = Table(data, colWidths=[w * mm for w in widths], repeatRows=1, style=grid)
        table.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#c0392b")),
                                   ("TEXTCOLOR", (0, 0), (-1, 0), colors.white)]))
        story.append(table)
    else:
        story.append(Paragraph("统计期间内暂无已完成的服务。", body))
    story += [
        Spacer(1, 10 * mm),
        Paragraph("以上服务记录由社区在共治平台逐项登记，谁组织谁记录、谁记录谁证明。", body),
        Spacer(1, 8 * mm),
        Paragraph(f"报到社区党组织（盖章）：{exports.pdf_text(report.member['community_name'])}", body),
        Paragraph(f"生成时间：{local_display(report.generated_at)}", body),
    ]
    doc.build(story)
    return buffer.getvalue()

