"""A volunteer's correction request (申请更正) answered in the console; the record keeps both values."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.browser.helpers import check_page, console_login

pytestmark = pytest.mark.browser


def _request_on_an_approved_entry(live_server) -> int:
    from app.accounts.models import User
    from app.accounts.service import actor_for
    from app.core import uow
    from app.extensions import db
    from app.volunteering.corrections import request_correction
    from app.volunteering.models import ServiceHours

    app, _ = live_server
    with app.app_context():
        try:
            member = db.session.scalar(select(User).where(User.username == "member_east"))
            member.real_name = "刘建军"
            entry = db.session.scalar(select(ServiceHours).where(
                ServiceHours.user_id == member.id, ServiceHours.status == "approved"))
            request_correction(actor_for(member), entry.id, reason="签退晚扫了半小时，实际服务时长少半小时")
            uow.commit()
            return entry.id
        finally:
            db.session.remove()


@pytest.mark.parametrize("width", [375, 1280])
def test_the_organisation_answers_a_correction_request(page_factory, live_server, width):
    entry_id = _request_on_an_approved_entry(live_server) if width == 375 else None
    page, base, shot = page_factory(width, mobile=width == 375)
    console_login(page, base, "east_admin")
    page.goto(base + "/console/corrections")
    if entry_id is None:  # the 1280 run looks at the answered state
        assert page.get_by_text("没有待答复的更正申请").is_visible()
        check_page(page, shot, "corrections-empty", width)
        return
    row = page.locator("tr", has_text="签退晚扫了半小时")
    assert "刘建军" in row.inner_text()
    check_page(page, shot, "corrections", width)
    row.locator("summary", has_text="更正").first.click()
    row.locator("input[name=hours]").fill("1.5")
    row.locator("input[name=reason]").first.fill("核对签到表，按实际时长更正")
    row.locator("button", has_text="更正").click()
    page.wait_for_load_state("load")
    assert page.get_by_text("已更正该服务记录").is_visible()
    check_page(page, shot, "corrections-answered", width)

    from app.extensions import db
    from app.volunteering.corrections import corrections_of

    app, _ = live_server
    with app.app_context():
        try:
            (correction,) = corrections_of(entry_id)
            assert correction.status == "corrected" and correction.new_values["hours"] == "1.50"
            assert correction.old_values["hours"] != correction.new_values["hours"]
        finally:
            db.session.remove()
