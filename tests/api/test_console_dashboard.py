"""The console's 概览: "24 小时内到期（N 件）" counts exactly the cases its table lists."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.areas.models import Place
from app.cases.models import Case, Category
from app.core.time import utcnow
from app.extensions import db
from tests.console_client import Console


def _report(login, text: str) -> Case:
    place = db.session.scalar(select(Place).where(Place.name == "东城小区1号楼"))
    category = db.session.scalar(select(Category).order_by(Category.id))
    created = login.resident().post("/cases", json={"place_id": place.id, "category_id": category.id,
                                                    "description": text}).get_json()
    return db.session.get(Case, created["id"])


def test_due_within_24_hours_counts_what_its_table_lists(app, login, areas):
    now = utcnow()
    due = {"井盖松动，有安全隐患。": timedelta(hours=5), "路灯不亮，晚上很黑。": timedelta(hours=20),
           "楼道堆放杂物。": timedelta(days=3), "垃圾桶满了没人清。": -timedelta(hours=2)}
    cases = {}
    for text, delta in due.items():
        case = _report(login, text)
        case.due_at = now + delta
        cases[text] = case
    cases["垃圾桶满了没人清。"].overdue = True  # marked by the sweep: shown as 已超时, not as due soon
    db.session.commit()

    page = Console(app.test_client(), "east_admin").get("/console/").get_data(as_text=True)
    section = page[page.index("24 小时内到期"):]
    section = section[:section.index("</div>")]
    count = int(re.search(r"24 小时内到期（(\d+) 件）", section).group(1))
    rows = re.findall(r'<td data-label="受理编号"><a[^>]*>([^<]+)</a>', section)
    assert count == len(rows), (count, rows)
    listed = {c.tracking_no for c in db.session.scalars(select(Case).where(Case.tracking_no.in_(rows)))}
    assert cases["井盖松动，有安全隐患。"].tracking_no in listed and cases["路灯不亮，晚上很黑。"].tracking_no in listed
    assert cases["楼道堆放杂物。"].tracking_no not in listed and cases["垃圾桶满了没人清。"].tracking_no not in listed
