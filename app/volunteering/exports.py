"""Approved hours as CSV and XLSX, for entry into the national volunteer information system."""
from __future__ import annotations

from datetime import date

from openpyxl.styles import Font
from sqlalchemy import select

from app.accounts.models import ADMIN_ROLES
from app.accounts.service import phone_of
from app.areas.service import get_area
from app.core import exports
from app.core.crypto import mask_phone
from app.core.errors import Forbidden, Invalid
from app.core.scoping import Actor, scope_filter
from app.core.time import local_display
from app.extensions import db
from app.volunteering.certificates import volunteer_names
from app.volunteering.models import ServiceHours
from app.volunteering.states import APPROVED

COLUMNS = ("记录编号", "志愿者姓名", "手机号（脱敏）", "服务项目", "服务类型", "服务日期", "服务时长（小时）",
           "组织单位", "评价", "审核时间")
SOURCE_LABELS = {"activity": "志愿活动", "wish": "微心愿", "report": "岗位上报"}


def approved_rows(actor: Actor, *, community_id: int | None = None, date_from: date | None = None,
                  date_to: date | None = None) -> list[list]:
    """Approved entries in the admin's scope, oldest service first."""
    if not actor.has_role(*ADMIN_ROLES):
        raise Forbidden("只有社区及以上管理员可以导出服务时长。")
    if date_from and date_to and date_from > date_to:
        raise Invalid("开始日期不能晚于结束日期。", errors={"from": ["不能晚于结束日期"]})
    stmt = select(ServiceHours).where(ServiceHours.status == APPROVED,
                                      scope_filter(actor, ServiceHours.area_path, ADMIN_ROLES))
    if community_id is not None:
        stmt = stmt.where(ServiceHours.area_path.startswith(get_area(community_id).path, autoescape=True))
    if date_from:
        stmt = stmt.where(ServiceHours.served_on >= date_from)
    if date_to:
        stmt = stmt.where(ServiceHours.served_on <= date_to)
    entries = list(db.session.scalars(stmt.order_by(ServiceHours.served_on, ServiceHours.id)))
    names = volunteer_names(list({e.user_id: e.user for e in entries}.values()))
    rows = []
    for entry in entries:
        rows.append([
            entry.id, names[entry.user_id], mask_phone(phone_of(entry.user)) or "", entry.description,
            SOURCE_LABELS.get(entry.source_type, entry.source_type), entry.served_on.isoformat(),
            float(entry.hours), entry.organiser_name, entry.evaluation, local_display(entry.decided_at),
        ])
    return rows


def to_csv(rows: list[list]) -> bytes:
    return exports.csv_bytes([COLUMNS, *rows])


def to_xlsx(rows: list[list]) -> bytes:
    book, sheet = exports.workbook("志愿服务时长")
    exports.append(sheet, COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in rows:
        exports.append(sheet, values)
    for letter, width in zip("ABCDEFGHIJ", (10, 12, 16, 30, 10, 12, 14, 20, 20, 20), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    return exports.xlsx_bytes(book)
