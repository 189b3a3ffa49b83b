"""三单制 and the new groups in the console, as the community's admin meets them: a disputed fulfilment reviewed,
a goods wish's hand-over confirmed, the members behind their yearly target, a courier's registration and a
driver's claim of a post approved, and the new groups' figures on the statistics page."""
from __future__ import annotations

import pytest

from tests.browser.helpers import check_page, console_login, shown_actions

pytestmark = pytest.mark.browser


def _open_wish(page, base, tab: str, title: str) -> None:
    page.goto(base + f"/console/wishes?status={tab}")
    page.get_by_role("link", name=title).click()
    page.wait_for_load_state("load")


def test_disputed_wish_and_goods_handover(page_factory):
    for width in (375, 1280):
        admin, base, shot = page_factory(width, mobile=width < 720)
        console_login(admin, base, "east_admin")
        admin.goto(base + "/console/wishes?status=disputed")
        assert admin.locator(".tabs a.active").inner_text() == "有异议"
        check_page(admin, shot, "three-01-disputed-queue", width)
        _open_wish(admin, base, "disputed", "卫生间灯不亮，想请人换个灯泡")
        assert "开关坏了" in admin.locator(".kv").inner_text()  # the resident's objection
        assert shown_actions(admin) == {"redo", "close"}
        check_page(admin, shot, "three-02-disputed-detail", width)
        _open_wish(admin, base, "approved", "留守儿童需要6个新书包")
        assert "6 件，已认捐 5 件" in admin.locator(".kv").inner_text()
        assert admin.locator("#pledges tr[data-pledge]").count() == 2
        check_page(admin, shot, "three-03-goods-detail", width)

    assert shown_actions(admin) == set()  # a goods wish has no service steps: donors' hand-overs fulfil it
    admin.locator("#pledges button[type=submit]").click()
    admin.wait_for_load_state("load")
    assert admin.get_by_text("已确认交接。").is_visible()
    assert admin.locator("#pledges button[type=submit]").count() == 0
    assert admin.locator("h1 .badge").inner_text() == "待认捐"  # 5 of 6 handed over: still waiting for donors
    assert "确认交接" in admin.locator(".timeline").inner_text()
    check_page(admin, shot, "three-04-goods-handed-over", 1280)

    _open_wish(admin, base, "disputed", "卫生间灯不亮，想请人换个灯泡")
    admin.locator("[data-action=redo] summary").click()
    admin.fill("#redo-reason", "电话核实开关确有问题，请再上门更换开关")
    admin.locator("[data-action=redo] button[type=submit]").click()
    admin.wait_for_load_state("load")
    assert admin.get_by_text("已退回党员重办。").is_visible()
    assert admin.locator("h1 .badge").inner_text() == "已认领"
    assert shown_actions(admin) == {"take_back", "reassign"}
    check_page(admin, shot, "three-05-redo", 1280)


def test_members_behind_their_yearly_target(page_factory):
    for width in (375, 1280):
        admin, base, shot = page_factory(width, mobile=width < 720)
        console_login(admin, base, "east_admin")
        admin.get_by_role("link", name="服务目标", exact=True).click()
        admin.wait_for_load_state("load")
        assert "每名党员全年至少服务 4 次" in admin.locator("#target").inner_text()
        row = admin.locator("tr[data-member=刘建军]")
        assert "未达标（还差" in row.inner_text()
        check_page(admin, shot, "three-06-targets", width)
    admin.check("input[name=behind]")
    admin.locator("form.inline button[type=submit]").first.click()
    admin.wait_for_load_state("load")
    assert admin.locator("tr[data-member=刘建军]").count() == 1
    check_page(admin, shot, "three-07-targets-behind", 1280)


def test_new_groups_registrations_and_posts(page_factory):
    admin, base, shot = page_factory(1280)
    console_login(admin, base, "east_admin")
    admin.get_by_role("link", name="新就业群体", exact=True).click()
    admin.wait_for_load_state("load")
    row = admin.locator("tr[data-worker=牛建国]")
    assert "快递员" in row.inner_text() and "顺丰速运" in row.inner_text()
    check_page(admin, shot, "three-08-registrations", 1280)
    row.get_by_role("button", name="通过报到").click()
    admin.wait_for_load_state("load")
    assert admin.get_by_text("已通过报到。").is_visible()

    admin.goto(base + "/console/posts")
    assert admin.locator("[data-post=流动网格员]").count() == 1
    claim = admin.locator("tr[data-claim=张国庆]")
    assert "网约车司机" in claim.inner_text() and "政策宣传员" in claim.inner_text()
    check_page(admin, shot, "three-09-posts", 1280)
    claim.get_by_role("button", name="批准上岗").click()
    admin.wait_for_load_state("load")
    assert admin.get_by_text("已批准上岗。").is_visible()
    admin.select_option("#kind", "civility")
    admin.fill("#duties", "在小区门口引导文明停放电动车。")
    admin.fill("#places", "4")
    admin.get_by_role("button", name="发布岗位").click()
    admin.wait_for_load_state("load")
    assert admin.get_by_text("岗位已发布。").is_visible()
    assert admin.locator("[data-post=文明示范员]").count() == 1

    for width in (375, 1280):
        page, base, shot = page_factory(width, mobile=width < 720)
        console_login(page, base, "east_admin")
        page.goto(base + "/console/posts?status=approved")
        assert page.locator("tr[data-claim=马骁]").count() == 1
        check_page(page, shot, "three-10-posts-on-duty", width)
        page.goto(base + "/console/stats")
        card = page.locator("#new-groups")
        assert "流动上报" in card.inner_text() and "外卖骑手" in card.inner_text()
        check_page(page, shot, "three-11-stats-new-groups", width)
