"""Content safety on the portal and the console's moderation queue: a praise from the portal waits for review
before the wall, a report with a flagged word reads 审核中 to its reporter; the community's admin releases the
praise onto the wall and hides the report from the public with a reason its reporter then reads."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.browser.helpers import check_page, console_login

pytestmark = pytest.mark.browser


def _scene(live_server, place_name: str) -> str:
    from app.areas.models import Place
    from app.codes.models import Code
    from app.extensions import db

    app, _ = live_server
    with app.app_context():
        try:
            return db.session.scalar(select(Code.scene).join(Place, Place.id == Code.place_id)
                                     .where(Place.name == place_name, Code.active.is_(True)))
        finally:
            db.session.remove()


PRAISE = "2号楼保洁师傅每天把楼道拖得锃亮，谢谢！"
REPORT = "2号楼地下室有人聚众赌博，天天吵到半夜。"


def test_held_content_is_reviewed_in_the_console(page_factory, live_server):
    scene = _scene(live_server, "东城小区2号楼")

    # 1. A resident praises the building from the portal: it waits for review before the wall.
    resident, base, shot = page_factory(375, 812, mobile=True)
    resident.goto(f"{base}/s/{scene}/praise")
    resident.locator("input[name=target][value^=place]").first.check()
    resident.fill("#message", PRAISE)
    resident.fill("#phone", "13800138011")
    resident.fill("#name", "孙阿姨")
    resident.check("input[name=privacy_version]")  # 同意隐私保护指引
    resident.get_by_role("button", name="点赞").click()
    resident.wait_for_url("**/praise?community_id=*")
    assert resident.get_by_text("您的留言将在工作人员审核后展示在点赞墙上").is_visible()
    assert resident.get_by_text(PRAISE).count() == 0
    check_page(resident, shot, "moderation-01-praise-waits", 375)

    # 2. The same resident reports gambling: the report is held, and its page says so.
    resident.goto(f"{base}/s/{scene}/report")
    resident.select_option("#category_id", label="噪音扰民")
    resident.fill("#description", REPORT)
    resident.fill("#phone", "13800138011")
    resident.check("input[name=privacy_version]")  # 同意隐私保护指引
    resident.click("button[type=submit]")
    resident.wait_for_url("**/track/GZ*")
    tracked = resident.url
    assert resident.get_by_text("审核中").first.is_visible()
    assert resident.get_by_text("审核通过后开始计算受理期限").is_visible()
    check_page(resident, shot, "moderation-02-report-held", 375)

    # 3. 东城's admin finds both in 内容审核, with what the check said.
    admin, _, admin_shot = page_factory(1280)
    console_login(admin, base, "east_admin")
    admin.get_by_role("link", name="内容审核", exact=True).click()
    assert admin.locator(".tabs a.active").first.inner_text() == "待审核"
    praise_row = admin.locator("tr[data-hold]", has_text=PRAISE)
    report_row = admin.locator("tr[data-hold]", has_text=REPORT)
    assert praise_row.count() == 1 and report_row.count() == 1
    assert "未能检查" in praise_row.inner_text() and "点赞留言" in praise_row.inner_text()
    check_page(admin, admin_shot, "moderation-03-queue", 1280)

    # 4. Release the praise with a reason: it reaches the wall.
    praise_row.locator("details", has_text="放行").locator("summary").click()
    praise_row.locator("details", has_text="放行").locator("input[name=reason]").fill("真实表扬，同意公开")
    check_page(admin, admin_shot, "moderation-04-release-dialog", 1280)
    praise_row.locator("details", has_text="放行").get_by_role("button", name="确认放行").click()
    admin.wait_for_load_state("load")
    assert admin.get_by_text("已放行，内容恢复公开并已通知作者").is_visible()
    assert admin.locator("tr[data-hold]", has_text=PRAISE).count() == 0

    # 5. Hide the report from the public with a reason (it is still a report to handle).
    report_row = admin.locator("tr[data-hold]", has_text=REPORT)
    report_row.locator("details", has_text="隐藏").locator("summary").click()
    report_row.locator("details", has_text="隐藏").locator("input[name=reason]").fill("涉及他人隐私，不予公开")
    report_row.locator("details", has_text="隐藏").get_by_role("button", name="确认隐藏").click()
    admin.wait_for_load_state("load")
    assert admin.get_by_text("已隐藏，并已告知作者原因").is_visible()
    admin.get_by_role("link", name="已隐藏").click()
    assert admin.locator("tr[data-hold]", has_text=REPORT).get_by_text("涉及他人隐私，不予公开").is_visible()
    check_page(admin, admin_shot, "moderation-05-hidden-tab", 1280)

    # 6. The wall shows the released praise; the reporter reads why the report is not public.
    resident.goto(f"{base}/praise")
    assert resident.get_by_text(PRAISE).is_visible()
    check_page(resident, shot, "moderation-06-wall", 375)
    resident.goto(tracked)
    assert resident.get_by_text("已隐藏：涉及他人隐私，不予公开").is_visible()
    check_page(resident, shot, "moderation-07-report-hidden", 375)

    # 7. The queue on a phone, and 西园's admin sees none of 东城's items.
    phone_admin, _, phone_shot = page_factory(375, 812, mobile=True)
    console_login(phone_admin, base, "east_admin")
    phone_admin.goto(base + "/console/moderation?status=released")
    assert phone_admin.locator("tr[data-hold]", has_text=PRAISE).count() == 1
    check_page(phone_admin, phone_shot, "moderation-08-queue-phone", 375)
    west, _, west_shot = page_factory(1280)
    console_login(west, base, "west_admin")
    west.goto(base + "/console/moderation?status=hidden")
    assert west.locator("tr[data-hold]", has_text=REPORT).count() == 0
    check_page(west, west_shot, "moderation-09-other-community", 1280)
