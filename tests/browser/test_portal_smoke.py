"""The portal's public pages and console sign-in, in a real chromium, at phone and desktop widths."""
import pytest

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [375, 1280])
def test_home_and_privacy_render_in_chinese(page_factory, width):
    page, base, shot = page_factory(width)
    page.goto(base + "/")
    assert "居民服务" in page.title() or "首页" in page.title()
    assert page.get_by_text("办理进度查询").is_visible()
    shot(f"home-{width}")
    page.get_by_role("link", name="隐私保护指引").click()
    assert page.get_by_role("heading", name="隐私保护指引").is_visible()
    assert "匿名化" in page.content()
    # nothing overflows sideways on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(f"privacy-{width}")
    assert page.js_errors == []


def test_console_login_rejects_bad_password_then_signs_in(page_factory):
    page, base, shot = page_factory(1280)
    page.goto(base + "/console/")
    assert "/console/login" in page.url
    page.fill("#username", "east_admin")
    page.fill("#password", "wrong-password")
    page.click("button[type=submit]")
    assert page.get_by_text("用户名或密码错误").is_visible()
    shot("console-login-error")
    page.fill("#password", "gongzhi-demo")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/console/")
    assert page.get_by_text("东城社区书记").is_visible()
    shot("console-dashboard")
    headers = page.request.get(base + "/console/").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["gz_session"]["httpOnly"] and cookies["gz_session"]["sameSite"] == "Lax"
