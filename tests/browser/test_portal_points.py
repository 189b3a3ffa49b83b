"""The resident portal's 积分 page: boards, the evaluation in notice and the supermarket, with every name masked."""
from __future__ import annotations

import pytest

from tests.browser.helpers import check_page

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [375, 1280])
def test_the_public_points_board(page_factory, width):
    page, base, shot = page_factory(width, mobile=width < 720)
    page.goto(base + "/")
    page.click("text=积分公示与积分超市")
    page.wait_for_url(base + "/points")
    body = page.inner_text("main")
    assert "个人积分榜" in body and "家庭户积分榜" in body and "积分超市" in body and "东北大米 5kg" in body
    assert "月度评议" in body and "刘*军户" in body
    for full_name in ("刘建军", "张桂兰", "李福生", "301", "101"):
        assert full_name not in body, full_name
    check_page(page, shot, "resident-points", width)
