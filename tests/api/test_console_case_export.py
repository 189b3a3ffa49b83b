"""The console's case export: the list as it is filtered, as a file, only the cases in scope, audited."""
from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from app.core.audit import AuditLog
from app.extensions import db
from tests.console_client import Console


def test_the_case_list_exports_what_it_shows(app, areas):
    east = Console(app.test_client(), "east_admin")
    page = east.get("/console/cases?status=open").get_data(as_text=True)
    link = re.search(r'href="(/console/cases/export\.xlsx[^"]*)"', page)
    assert link, "the list offers its export"
    listed = set(re.findall(r">(GZ\d{8}-[A-Z0-9]{6})<", page))
    res = east.get(link.group(1).replace("&amp;", "&"))
    assert res.status_code == 200 and res.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(res.data)).active
    exported = {row[0] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert listed and listed <= exported
    assert db.session.scalar(select(AuditLog.action).order_by(AuditLog.id.desc()).limit(1)) == "cases.export"
    west = Console(app.test_client(), "west_admin").get("/console/cases/export.csv?status=").get_data(as_text=True)
    assert not exported & set(re.findall(r"GZ\d{8}-[A-Z0-9]{6}", west))  # each sees only their own cases
