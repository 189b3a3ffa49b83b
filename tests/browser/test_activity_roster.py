"""The organiser's roster: enrolled volunteers, and an attendance correction recorded with its reason."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.time import travel, utcnow
from tests.browser.helpers import check_page, console_login

pytestmark = pytest.mark.browser


def _activity_with_a_volunteer(live_server) -> int:
    from app.accounts.models import User
    from app.accounts.service import actor_for, portal_resident
    from app.areas.models import Area
    from app.core import uow
    from app.extensions import db
    from app.volunteering.activities import create_activity
    from app.volunteering.enrolling import enroll

    app, _ = live_server
    with app.app_context():
        try:
            admin = db.session.scalar(select(User).where(User.username == "east_admin"))
            east = db.session.scalar(select(Area).where(Area.name == "东城社区"))
            start = utcnow() + timedelta(hours=1)
            activity = create_activity(actor_for(admin), title="东城小区楼道清扫", community_id=east.id,
                                       starts_at=start, ends_at=start + timedelta(hours=2), capacity=10,
                                       place_text="东城小区1号楼")
            volunteer = portal_resident("13500002222", "钱志愿")
            enroll(actor_for(volunteer), activity.id)
            uow.commit()
            return activity.id
        finally:
            db.session.remove()


def test_organiser_corrects_hours_with_a_reason(page_factory, live_server):
    activity_id = _activity_with_a_volunteer(live_server)
    travel(timedelta(hours=2))  # the activity is under way; the live server shares this clock
    page, base, shot = page_factory(1280)
    console_login(page, base, "east_admin")
    page.goto(base + "/console/activities")
    page.get_by_role("link", name="东城小区楼道清扫").click()
    assert page.url.endswith(f"/console/activities/{activity_id}")
    row = page.locator("tr", has_text="钱志愿")
    assert "已报名" in row.inner_text()
    check_page(page, shot, "activity-roster", 1280)
    row.locator("summary").click()
    row.locator("select[name=action]").select_option("hours")
    row.locator("input[name=hours]").fill("1.5")
    row.locator("input[name=reason]").fill("忘记签退，按组织方记录核定")
    row.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    assert page.get_by_text("已核定时长，并记入活动纪实。").is_visible()
    row = page.locator("tr", has_text="钱志愿")
    assert "1.5" in row.inner_text() and "忘记签退" in row.inner_text()
    check_page(page, shot, "activity-roster-corrected", 1280)
    # the correction needs a reason: the browser refuses to submit without one
    assert page.locator("tr", has_text="钱志愿").locator("input[name=reason]").get_attribute("required") is not None
