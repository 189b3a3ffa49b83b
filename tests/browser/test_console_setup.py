"""Console setup in a browser: codes issued and printed as a PDF sheet, a canned reply added and offered on a
case, and a grid worker's account created within the community admin's scope."""
from __future__ import annotations

import pytest

from tests.browser.helpers import check_page, console_login

pytestmark = pytest.mark.browser


def test_codes_issue_and_print_sheet(page_factory):
    page, base, shot = page_factory(1280)
    console_login(page, base, "east_admin")
    page.goto(base + "/console/codes")
    page.locator("details.dialog summary").first.click()
    page.select_option("#issue-area", label="社区/村 · 东城社区")
    page.get_by_role("button", name="生成", exact=True).click()
    page.wait_for_load_state("load")
    assert page.get_by_text("已为 5 个场所准备好二维码").is_visible()
    places = page.locator("table.stack tbody tr").all_inner_texts()
    assert len(places) == 5 and not any("西园" in p for p in places)  # only East's places
    page.check("input[data-check-all=ids]")
    # The sheet opens in a new tab: listen on the whole browser context.
    with page.context.expect_event("response", lambda r: r.url.endswith("/console/codes/sheet")) as sheet:
        page.get_by_role("button", name="打印所选（A4 PDF）").click()
    response = sheet.value
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    # Chromium's PDF viewer stands in for the body there; fetch the same form with the page's cookies.
    ids = page.eval_on_selector_all("input[name=ids]:checked", "els => els.map(e => e.value)")
    token = page.get_attribute("#sheet input[name=csrf_token]", "value")
    fetched = page.request.post(base + "/console/codes/sheet",
                                multipart={"csrf_token": token, "kind": "qrcode", "ids": ids[0]})
    assert fetched.status == 200 and fetched.body().startswith(b"%PDF-")
    check_page(page, shot, "setup-01-codes", 1280)


def test_canned_reply_is_offered_on_a_case(page_factory):
    page, base, shot = page_factory(1280)
    console_login(page, base, "east_admin")
    page.goto(base + "/console/categories")
    card = page.locator(".card", has=page.get_by_role("heading", name="环境卫生"))
    card.locator("details summary").click()
    card.locator("input[name=title]").fill("今日保洁")
    card.locator("textarea[name=body]").fill("已安排保洁员今日下午清理，请您留意。")
    card.get_by_role("button", name="添加").click()
    page.wait_for_load_state("load")
    assert page.get_by_text("已添加回复模板").is_visible()
    check_page(page, shot, "setup-02-categories", 1280)

    page.goto(base + "/console/cases?status=submitted")
    page.locator("tr", has_text="环境卫生").locator("a").first.click()
    page.locator("[data-action=accept] summary").click()
    page.select_option("#accept-reply", label="今日保洁")
    assert page.input_value("#accept-text") == "已安排保洁员今日下午清理，请您留意。"
    check_page(page, shot, "setup-03-canned-reply", 1280)


def test_admin_creates_a_grid_worker_in_scope(page_factory):
    page, base, shot = page_factory(375, 812, mobile=True)
    console_login(page, base, "east_admin")
    page.goto(base + "/console/users")
    page.locator("details.dialog summary").first.click()
    roles = page.locator("#new-role option").all_inner_texts()
    assert roles == ["网格员"]  # a community admin grants only what is below them
    areas = page.locator("#new-area option").all_inner_texts()
    assert not any("西园" in a for a in areas)
    page.fill("#username", "grid_east3")
    page.fill("#display_name", "孙网格员")
    page.fill("#password", "a-long-password")
    page.select_option("#new-area", label="网格 · 东城社区第二网格")
    page.get_by_role("button", name="创建").click()
    page.wait_for_load_state("load")
    assert page.get_by_text("已创建账号").is_visible()
    assert page.get_by_text("孙网格员").is_visible()
    check_page(page, shot, "setup-04-users", 375)

    # The new account signs in and sees its grid's cases.
    worker, _, worker_shot = page_factory(375, 812, mobile=True)
    console_login(worker, base, "grid_east3", "a-long-password")
    assert worker.get_by_text("孙网格员（网格员）").is_visible()
    check_page(worker, worker_shot, "setup-05-new-worker", 375)
