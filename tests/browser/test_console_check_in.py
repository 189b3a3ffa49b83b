"""On site: the organiser shows the code that changes every minute, sets the place and the printed fallback,
and confirms a check-in made away from the place."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.time import travel, utcnow
from tests.browser.helpers import check_page, console_login

pytestmark = pytest.mark.browser


def _under_way(live_server) -> tuple[int, list[int]]:
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
            activity = create_activity(actor_for(admin), title="日晷公园环境清洁", community_id=east.id,
                                       starts_at=start, ends_at=start + timedelta(hours=2), capacity=10,
                                       place_text="日晷公园东门广场")
            people = [portal_resident("13500003333", "孙到场"), portal_resident("13500004444", "周远方")]
            for person in people:
                enroll(actor_for(person), activity.id)
            uow.commit()
            return activity.id, [p.id for p in people]
        finally:
            db.session.remove()


def _check_in(live_server, activity_id: int, user_id: int, code: str, **where) -> str:
    from app.accounts.models import User
    from app.accounts.service import actor_for
    from app.core import uow
    from app.extensions import db
    from app.volunteering.attendance import check_in

    app, _ = live_server
    with app.app_context():
        try:
            enrollment = check_in(actor_for(db.session.get(User, user_id)), activity_id, code, **where)
            presence = enrollment.presence
            uow.commit()
            return presence
        finally:
            db.session.remove()


def test_the_code_on_site_the_rules_and_a_check_in_away_from_the_place(page_factory, live_server):
    activity_id, (near_id, far_id) = _under_way(live_server)
    travel(timedelta(hours=1, minutes=5))  # the activity is under way; the live server shares this clock
    page, base, shot = page_factory(1280)
    console_login(page, base, "east_admin")
    page.goto(f"{base}/console/activities/{activity_id}")
    page.get_by_text("签到规则：纸质备用码、活动地点与签到半径").click()
    page.check("input[name=fallback_code_enabled]")
    page.fill("#place_lat", "36.500000")
    page.fill("#place_lng", "112.360000")
    page.fill("#place_radius_m", "200")
    page.get_by_role("button", name="保存签到规则").click()
    page.wait_for_load_state("load")
    assert page.get_by_text("签到规则已保存。").is_visible()
    assert page.locator(".printed-code img").is_visible()
    check_page(page, shot, "activity-check-in-rules", 1280)

    page.get_by_role("link", name="展示动态签到码").click()
    assert page.url.endswith(f"/console/activities/{activity_id}/check-in-code")
    renew = page.locator(".check-in-code").get_attribute("data-renew-in")  # portal.js renews it in place
    assert 1 <= int(renew) <= 61
    code = page.locator(".code-text").inner_text().strip()
    assert page.locator(".check-in-code img").is_visible()
    check_page(page, shot, "activity-check-in-code", 1280)

    assert _check_in(live_server, activity_id, near_id, code, lat=36.5007, lng=112.3603) == ""
    assert _check_in(live_server, activity_id, far_id, code, lat=36.51, lng=112.36) == "pending"

    page.goto(f"{base}/console/activities/{activity_id}")
    row = page.locator("tr", has_text="周远方")
    assert "待组织方确认" in row.inner_text() and "动态签到码" in row.inner_text()
    check_page(page, shot, "activity-roster-pending", 1280)
    row.locator("summary").click()
    assert row.locator("select[name=action]").input_value() == "confirm_presence"
    row.locator("input[name=reason]").fill("在公园西门集合点服务，现场见到")
    row.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    assert page.get_by_text("已确认到场，并记入活动纪实。").is_visible()
    assert "组织方已确认" in page.locator("tr", has_text="周远方").inner_text()


def test_the_code_and_roster_on_a_phone(page_factory, live_server):
    activity_id, _ = _under_way(live_server)
    travel(timedelta(hours=1, minutes=5))
    page, base, shot = page_factory(375)
    console_login(page, base, "east_admin")
    page.goto(f"{base}/console/activities/{activity_id}/check-in-code")
    check_page(page, shot, "activity-check-in-code", 375)
    page.goto(f"{base}/console/activities/{activity_id}")
    check_page(page, shot, "activity-roster", 375)
