"""The console's gaps of issue #20, in the browser: the activity list with each activity's phase, the printable
paper check-in code, and the case list's export."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.core.time import travel, utcnow
from tests.browser.helpers import check_page, console_login

pytestmark = pytest.mark.browser


def _activities(live_server, tag: str) -> int:
    from app.accounts.models import User
    from app.accounts.service import actor_for
    from app.areas.models import Area
    from app.core import uow
    from app.extensions import db
    from app.volunteering.activities import create_activity

    app, _ = live_server
    with app.app_context():
        try:
            admin = actor_for(db.session.scalar(select(User).where(User.username == "east_admin")))
            west = actor_for(db.session.scalar(select(User).where(User.username == "west_admin")))
            east_id = db.session.scalar(select(Area.id).where(Area.name == "东城社区"))
            west_id = db.session.scalar(select(Area.id).where(Area.name == "西园社区"))
            soon = utcnow() + timedelta(hours=1)
            create_activity(admin, title=f"东城敬老院慰问{tag}", community_id=east_id, starts_at=soon,
                            ends_at=soon + timedelta(hours=2), capacity=10, place_text="东城敬老院")
            later = utcnow() + timedelta(days=10)
            printed = create_activity(admin, title=f"东城河道清理{tag}", community_id=east_id, starts_at=later,
                                      ends_at=later + timedelta(hours=3), capacity=20, place_text="东城河道")
            printed.fallback_code_enabled = True
            create_activity(west, title=f"西园读书会{tag}", community_id=west_id, starts_at=later,
                            ends_at=later + timedelta(hours=2), capacity=10, place_text="西园图书室")
            uow.commit()
            return printed.id
        finally:
            db.session.remove()


@pytest.mark.parametrize("width", [375, 1280])
def test_activity_list_phases_and_the_printable_code(page_factory, live_server, width):
    tag = f"（{width}）"
    printed_id = _activities(live_server, tag)
    travel(timedelta(days=1))  # 东城敬老院慰问 is over
    page, base, shot = page_factory(width, mobile=width < 720)
    console_login(page, base, "east_admin")
    page.goto(base + "/console/activities")
    assert page.locator("tr", has_text=f"东城敬老院慰问{tag}").locator(".badge").inner_text() == "已结束"
    assert page.locator("tr", has_text=f"东城河道清理{tag}").locator(".badge").inner_text() == "未开始"
    assert page.get_by_text(f"西园读书会{tag}").count() == 0
    check_page(page, shot, "console-activities", width)
    page.locator("a", has_text=f"东城河道清理{tag}").click()
    page.get_by_role("link", name="打开打印页").click()
    assert page.url.endswith(f"/console/activities/{printed_id}/printed-code")
    assert page.get_by_role("img", name="纸质备用签到码").is_visible()
    check_page(page, shot, "console-printed-code", width)
    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible() and not page.get_by_text("返回报名与考勤").is_visible()
    assert page.get_by_role("img", name="纸质备用签到码").is_visible()
    shot(f"console-printed-code-print-{width}")


def test_case_list_export_from_the_console(page_factory):
    page, base, shot = page_factory(1280)
    console_login(page, base, "east_admin")
    page.goto(base + "/console/cases")
    check_page(page, shot, "console-cases", 1280)
    listed = page.eval_on_selector_all("td[data-label=受理编号] a", "els => els.map(e => e.textContent.trim())")
    with page.expect_download() as download:
        page.get_by_text("导出电子表格（按当前筛选）").click()
    assert download.value.suggested_filename == "事件列表.xlsx"
    with open(download.value.path(), "rb") as file:
        sheet = load_workbook(io.BytesIO(file.read())).active
    exported = {row[0] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert listed and set(listed) <= exported
