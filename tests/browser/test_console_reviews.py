"""Community reviews in the console: a wish approved into the pool and dispatched to a party member, and a
party member's dual registration approved; the public wish page then shows figures, never the resident."""
from __future__ import annotations

import pytest

from tests.browser.helpers import check_page, console_login, shown_actions

pytestmark = pytest.mark.browser


def test_wish_review_and_dispatch(page_factory):
    admin, base, shot = page_factory(1280)
    console_login(admin, base, "east_admin")
    admin.get_by_role("link", name="微心愿", exact=True).click()
    assert admin.locator(".tabs a.active").inner_text() == "待审核"
    check_page(admin, shot, "wish-01-review-queue", 1280)
    admin.get_by_role("link", name="厨房水龙头漏水，想请人帮忙修").click()
    assert shown_actions(admin) == {"approve", "reject"}
    assert admin.get_by_text("东城小区1号楼3单元502").is_visible()  # the admin sees the address to arrange help
    check_page(admin, shot, "wish-02-detail", 1280)

    admin.locator("[data-action=approve] summary").click()
    admin.fill("#public_title", "帮老人修厨房水龙头")
    admin.locator("[data-action=approve] button[type=submit]").click()
    admin.wait_for_load_state("load")
    assert admin.get_by_text("已审核通过").is_visible()
    assert admin.locator("h1 .badge").inner_text() == "待认领"
    assert shown_actions(admin) == {"dispatch"}

    admin.locator("[data-action=dispatch] summary").click()
    candidates = admin.locator("[data-action=dispatch] label.choice")
    assert candidates.count() == 1 and "刘建军" in candidates.inner_text()
    assert "水电维修" in candidates.inner_text()  # the reason for the ranking is shown
    check_page(admin, shot, "wish-03-dispatch", 1280)
    admin.locator("[data-action=dispatch] button[type=submit]").click()
    admin.wait_for_load_state("load")
    assert admin.get_by_text("已社区派单").is_visible()
    # 派单 waits for the member's 接单; the community may still take it back or reassign it.
    assert admin.locator("h1 .badge").inner_text() == "待接单"
    assert admin.get_by_text("接单期限").is_visible()
    assert shown_actions(admin) == {"take_back", "reassign"}
    assert "社区派单" in admin.locator(".timeline").inner_text()
    check_page(admin, shot, "wish-04-dispatched", 1280)

    # The public page: counts and approved titles only; no name, phone or address.
    for width in (375, 1280):
        public, _, public_shot = page_factory(width, mobile=width < 720)
        public.goto(base + "/wishes")
        body = public.inner_text("body")
        assert "党员服务中" in body and "孙子想要一套初中英语辅导书" in body
        assert "王秀兰" not in body and "王*兰" not in body
        assert "502" not in body and "13700005678" not in body
        assert "帮老人修厨房水龙头" not in body  # claimed wishes leave the waiting list
        check_page(public, public_shot, "wish-05-public-pool", width)


def test_party_member_approval(page_factory):
    admin, base, shot = page_factory(375, 812, mobile=True)
    console_login(admin, base, "east_admin")
    admin.goto(base + "/console/members")
    row = admin.locator("tr[data-member=陈晓燕]")
    assert row.get_by_text("沁源县第一中学党总支").is_visible()
    assert row.get_by_text("139****1234").is_visible()  # phone masked
    check_page(admin, shot, "member-01-pending", 375)
    row.get_by_role("button", name="通过").click()
    admin.wait_for_load_state("load")
    assert admin.get_by_text("已通过报到申请").is_visible()
    assert admin.locator("tr[data-member=陈晓燕]").count() == 0
    admin.get_by_role("link", name="已报到").click()
    approved = admin.locator("tr[data-member=陈晓燕]")
    assert approved.get_by_text("已报到").is_visible()
    check_page(admin, shot, "member-02-approved", 375)

    # West's admin cannot see East's registrations.
    west, _, west_shot = page_factory(1280)
    console_login(west, base, "west_admin")
    west.goto(base + "/console/members?status=approved")
    assert west.locator("tr[data-member=陈晓燕]").count() == 0
    check_page(west, west_shot, "member-03-other-community", 1280)
