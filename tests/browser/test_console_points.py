"""积分 in the console: an application decided, a pick-up confirmed by its code, goods put on the shelf, the
rankings read with full names, and a new version of the scheme saved and published for next month."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.browser.helpers import check_page, console_login

pytestmark = pytest.mark.browser


def _pickup_code(live_server) -> str:
    from app.extensions import db
    from app.points.models import RESERVED, Redemption

    app, _ = live_server
    with app.app_context():
        try:
            return db.session.scalar(select(Redemption.code).where(Redemption.status == RESERVED))
        finally:
            db.session.remove()


@pytest.mark.parametrize("width", [375, 1280])
def test_a_community_admin_runs_the_points_pages(page_factory, live_server, width):
    page, base, shot = page_factory(width, mobile=width == 375)
    console_login(page, base, "east_admin")
    page.click("nav.topnav >> text=积分")
    page.wait_for_url(base + "/console/points/applications")
    if width == 375:
        row = page.locator("tr", has_text="赵奶奶送饭")
        assert "李福生" in row.inner_text() and "孝老爱亲" in row.inner_text()
        check_page(page, shot, "points-applications", width)
        row.locator("button", has_text="通过").click()
        page.wait_for_load_state("load")
        assert page.get_by_text("已通过，积分已记入。").is_visible()
    else:
        page.goto(base + "/console/points/applications?status=approved")
        assert page.locator("tr", has_text="赵奶奶送饭").count() == 1
    check_page(page, shot, "points-applications-done", width)

    page.click("nav.tabs >> text=积分超市")
    page.wait_for_url(base + "/console/points/shop")
    assert page.locator("tr", has_text="东北大米 5kg").count() == 1
    check_page(page, shot, "points-shop", width)
    if width == 375:
        code = _pickup_code(live_server)
        assert page.locator("tr", has_text="社区食堂午餐券").count() >= 1
        page.fill("#code", code)
        page.click("button:has-text('确认领取')")
        page.wait_for_load_state("load")
        assert page.get_by_text(f"已核销：社区食堂午餐券（领取码 {code}）").is_visible()
        assert page.get_by_text("没有待领取的兑换").is_visible()
    else:
        page.click("summary:has-text('上架新商品')")
        page.fill("#name", "保温杯")
        page.fill("#price", "40")
        page.fill("#stock", "5")
        page.click("button:has-text('上架')")
        page.wait_for_load_state("load")
        assert page.get_by_text("已上架。").is_visible() and page.locator("tr", has_text="保温杯").count() == 1
    check_page(page, shot, "points-shop-after", width)

    page.click("nav.tabs >> text=积分排行")
    page.wait_for_url(base + "/console/points/rankings")
    board = page.locator("table").inner_text()
    assert "刘建军" in board or "李福生" in board  # full names for the community's staff
    check_page(page, shot, "points-rankings", width)
    page.select_option("#by", "household")
    page.click("button:has-text('查看')")
    page.wait_for_load_state("load")
    assert "户主" in page.locator("table").inner_text()
    check_page(page, shot, "points-rankings-households", width)

    page.click("nav.tabs >> text=积分方案")
    page.wait_for_url(base + "/console/points")
    assert page.locator("tr", has_text="参加志愿服务（每小时）").count() >= 1
    check_page(page, shot, "points-schemes", width)
    if width == 1280:
        page.click("summary:has-text('新建版本')")
        draft = page.locator("details.dialog form")
        draft.locator("input[name=points]").first.fill("3")
        draft.locator("button:has-text('保存草稿')").click()
        page.wait_for_load_state("load")
        assert page.get_by_text("已保存为草稿").is_visible()
        page.locator("tr", has_text="草稿").locator("button", has_text="发布").click()
        page.wait_for_load_state("load")
        assert page.get_by_text("起生效。").first.is_visible()
        check_page(page, shot, "points-schemes-published", width)
        from app.extensions import db
        from app.points.models import PointScheme

        app, _ = live_server
        with app.app_context():
            try:
                newest = db.session.scalar(select(PointScheme).order_by(PointScheme.version.desc()).limit(1))
                # The form edits items; the monthly indicators, tiers and dividend share carry over.
                assert len(newest.indicators) == 10 and newest.tiers and newest.dividend_percent == 20
                assert next(i.points for i in newest.items if i.code == "A01") == 3
            finally:
                db.session.remove()


@pytest.mark.parametrize("width", [375, 1280])
def test_the_monthly_evaluation_in_the_console(page_factory, live_server, width):
    page, base, shot = page_factory(width, mobile=width == 375)
    console_login(page, base, "east_admin")
    page.goto(base + "/console/points/evaluations")
    assert page.get_by_text("公示中").first.is_visible()
    check_page(page, shot, "points-evaluations", width)
    page.click("text=查看")
    page.wait_for_load_state("load")
    # The demo's scores by the grid worker, with the households in full for the community's staff.
    assert "户主 刘建军" in page.locator("table").first.inner_text()
    assert page.get_by_text("暂无异议").is_visible()
    check_page(page, shot, "points-evaluation-notice", width)
    if width == 1280:
        page.goto(base + "/console/points/evaluations")
        page.click("summary:has-text('新建评议')")
        rows = page.locator("details.dialog tbody tr")
        first = rows.first
        for n, cell in enumerate(first.locator("input[type=number]").all()):
            cell.fill(str(5 if n == 8 else 9))
        check_page(page, shot, "points-evaluation-sheet", width)
        page.click("button:has-text('保存评分')")
        page.wait_for_load_state("load")
        assert page.get_by_text("评分已保存").is_visible()
        assert page.get_by_text("您是评分人").is_visible()
        assert "86" in page.locator("table").first.inner_text()
        check_page(page, shot, "points-evaluation-draft", width)


@pytest.mark.parametrize("width", [375, 1280])
def test_a_yearly_cash_out_in_the_console(page_factory, live_server, width):
    page, base, shot = page_factory(width, mobile=width == 375)
    console_login(page, base, "east_admin")
    page.goto(base + "/console/points/cashouts")
    if width == 375:
        assert page.get_by_text("还没有计算过年兑现").is_visible()
        check_page(page, shot, "points-cashouts-empty", width)
        page.click("summary:has-text('计算年兑现')")
        from app.core.time import to_local, utcnow

        page.fill("#year", str(to_local(utcnow()).year))
        page.fill("#income", "500000")
        page.click("button:has-text('计算')")
        page.wait_for_load_state("load")
        assert page.get_by_text("已计算，公示 7 天后按发放表发放。").is_visible()
    assert page.get_by_text("分红池 100000.00 元").is_visible()
    assert page.get_by_text("与台账一致").is_visible()
    table = page.locator("table").inner_text()
    assert "户主 刘建军" in table
    check_page(page, shot, "points-cashouts", width)
    with page.expect_download() as download:
        page.click("text=导出发放表（电子表格）")
    assert download.value.suggested_filename.endswith("积分兑现.xlsx")
