"""The other two scan actions on a phone: praise the grid worker (it waits for review before the wall; once a day),
and leave a message for the property manager; and what an unknown address shows."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.browser.helpers import check_page

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


def test_praise_then_message(page_factory, live_server):
    scene = _scene(live_server, "幸福里3号楼2单元")
    page, base, shot = page_factory(375, 812, mobile=True)
    page.goto(f"{base}/s/{scene}")
    page.get_by_role("link", name="我要点赞").click()
    page.get_by_label("赵网格员").check()
    page.fill("#message", "赵网格员帮我们协调了停车位，谢谢！")
    page.fill("#phone", "13800138000")
    page.check("input[name=privacy_version]")  # 同意隐私保护指引
    page.fill("#name", "吴先生")
    page.get_by_role("button", name="点赞").click()
    page.wait_for_url("**/praise?community_id=*")
    # The portal has no WeChat to check the text: it reaches the wall once staff release it
    # (tests/browser/test_moderation_queue.py).
    assert page.get_by_text("点赞成功！您的留言将在工作人员审核后展示在点赞墙上。").is_visible()
    assert page.locator(".card", has_text="赵网格员帮我们协调了停车位").count() == 0
    check_page(page, shot, "scan-01-praised-wall", 375)

    page.goto(f"{base}/s/{scene}/praise")
    page.get_by_label("赵网格员").check()
    page.fill("#message", "再赞一次")
    page.fill("#phone", "13800138000")
    page.check("input[name=privacy_version]")  # 同意隐私保护指引
    page.get_by_role("button", name="点赞").click()
    assert page.get_by_text("今天已经为TA点过赞了").is_visible()
    assert page.input_value("#message") == "再赞一次"  # what was typed is kept
    check_page(page, shot, "scan-02-praise-once-a-day", 375)

    page.goto(f"{base}/s/{scene}/message")
    page.select_option("#to_role", label="物业")
    page.fill("#body", "2单元门禁坏了，进出不方便。")
    page.fill("#phone", "13800138000")
    page.check("input[name=privacy_version]")  # 同意隐私保护指引
    page.get_by_role("button", name="发送留言").click()
    page.wait_for_url("**/messages/LY*")  # the thread, where the answer will appear
    assert page.get_by_text("留言已送达物业").is_visible()
    check_page(page, shot, "scan-03-message-sent", 375)

    page.goto(f"{base}/s/{scene}/message")
    page.fill("#body", "测试")
    page.fill("#phone", "12345")
    page.check("input[name=privacy_version]")  # 同意隐私保护指引
    page.get_by_role("button", name="发送留言").click()
    assert page.get_by_text("请填写正确的 11 位手机号码").is_visible()


def test_unknown_address_is_a_chinese_page(page_factory):
    page, base, shot = page_factory(375, 812, mobile=True)
    response = page.goto(base + "/console/no-such-page")
    assert response.status == 404
    assert page.get_by_role("heading", name="没有找到").is_visible()
    check_page(page, shot, "not-found", 375)
