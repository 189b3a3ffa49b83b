"""The community's points book (积分台账) as a spreadsheet: every ledger line of a year, for audit and payment."""
from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import User
from app.areas.models import Place
from app.core import audit, exports
from app.core.scoping import Actor
from app.core.time import local_display
from app.extensions import db
from app.points.models import ENTRY_LABELS, Household, PointEntry
from app.points.service import get_community, months_of, require_admin

COLUMNS = ["记录号", "月份", "姓名", "家庭户", "积分项目", "类别", "积分", "说明", "来源", "审核人", "记入时间"]
MAX_ROWS = 200_000


def book_xlsx(actor: Actor, *, community_id: int, year: int) -> tuple[bytes, str]:
    community = get_community(community_id)
    require_admin(actor, community.path)
    _label, months = months_of("year", str(year))
    entries = list(db.session.scalars(select(PointEntry).where(
        PointEntry.community_id == community.id, PointEntry.period.in_(months)).order_by(PointEntry.id)
        .limit(MAX_ROWS)))
    user_ids = {e.user_id for e in entries} | {e.approved_by for e in entries if e.approved_by}
    names = {u.id: u.person_name for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))} \
        if user_ids else {}
    household_ids = {e.household_id for e in entries if e.household_id}
    homes = {r.id: f"{r.name}{r.room}" for r in db.session.execute(
        select(Household.id, Household.room, Place.name).join(Place, Place.id == Household.place_id)
        .where(Household.id.in_(household_ids)))} if household_ids else {}
    book, sheet = exports.workbook(f"{year}年积分台账")
    exports.append(sheet, COLUMNS)
    for e in entries:
        exports.append(sheet, [e.id, e.period, names.get(e.user_id, ""), homes.get(e.household_id, ""),
                               f"{e.item_code} {e.item_name}".strip(), ENTRY_LABELS[e.kind], e.points, e.note,
                               f"{e.source_type}#{e.source_id}", names.get(e.approved_by, ""),
                               local_display(e.created_at)])
    audit.act("points.export_book", community_id=community.id, year=year, rows=len(entries))
    return exports.xlsx_bytes(book), f"{community.name}{year}年积分台账.xlsx"
