"""长辈版 (elder mode) on a phone 375 px wide: one tap in the header, remembered on reload and on other pages,
text of 20 px and more, targets of 48 px and more, body text at 7:1 contrast or more, nothing wider than the
screen; and the same switch without script. Screenshots of a few pages in both modes."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.browser.helpers import check_page

pytestmark = pytest.mark.browser

# The contrast of an element's text against the first opaque background behind it (WCAG's formula).
CONTRAST = """el => {
  const rgb = s => s.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
  let bg = el, back = null;
  while (bg) { const c = rgb(getComputedStyle(bg).backgroundColor); if (c.length < 4 || c[3] > 0) { back = c; break; } bg = bg.parentElement; }
  back = back || [255, 255, 255];
  const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(back)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""

# Every target a finger is meant to hit: buttons, fields, menu links, tiles, tabs and dial links.
TARGETS = ("button, .btn, select, input[type=text], input[type=tel], input[type=search], textarea, .topnav a, "
           ".action, .tabs a, a.tel")


def _scene(live_server) -> str:
    from app.areas.models import Place
    from app.codes.models import Code
    from app.extensions import db

    app, _ = live_server
    with app.app_context():
        try:
            return db.session.scalar(select(Code.scene).join(Place, Place.id == Code.place_id)
                                     .where(Place.name == "东城小区1号楼", Code.active.is_(True)).order_by(Code.id))
        finally:
            db.session.remove()


def _is_elder(page) -> bool:
    return page.evaluate("document.documentElement.classList.contains('elder')")


def _font_px(page, selector: str) -> float:
    return page.eval_on_selector(selector, "el => parseFloat(getComputedStyle(el).fontSize)")


def _small_targets(page) -> list[str]:
    """Visible targets less than 48 px high or wide, as 'text (w×h)'."""
    return page.eval_on_selector_all(TARGETS, """els => els.filter(e => e.offsetParent !== null).map(e => {
        const r = e.getBoundingClientRect();
        return [(e.innerText || e.name || e.id || e.tagName).trim().slice(0, 12), Math.round(r.width), Math.round(r.height)];
      }).filter(([, w, h]) => w < 48 || h < 48).map(([t, w, h]) => `${t} (${w}×${h})`)""")


def _pressed(page) -> dict[str, str]:
    return dict(page.eval_on_selector_all(".mode-switch button", "els => els.map(e => [e.innerText.trim(), e.getAttribute('aria-pressed')])"))


def test_elder_mode_one_tap_remembered_larger_and_clearer(page_factory, live_server):
    scene = _scene(live_server)
    page, base, shot = page_factory(375, 812, mobile=True)
    pages = [("home", "/"), ("scan", f"/s/{scene}"), ("report", f"/s/{scene}/report"), ("track", "/track"),
             ("suggestions", "/suggestions"), ("wishes", "/wishes")]
    for name, path in pages:
        page.goto(base + path)
        check_page(page, shot, f"elder-off-{name}", 375)
    assert not _is_elder(page) and _font_px(page, "body") == 16
    assert _pressed(page) == {"标准版": "true", "长辈版": "false"}

    # One tap, on a form half filled in: the page changes at once and keeps what was typed.
    page.goto(f"{base}/s/{scene}/report")
    page.fill("#description", "楼道的灯不亮了。")
    with page.expect_response(lambda r: r.url.endswith("/display") and r.request.method == "POST") as sent:
        page.get_by_role("button", name="长辈版").tap()
    assert sent.value.status == 204
    assert _is_elder(page) and _pressed(page) == {"标准版": "false", "长辈版": "true"}
    assert page.input_value("#description") == "楼道的灯不亮了。"
    assert _font_px(page, "body") >= 20 and _font_px(page, "label[for=description]") >= 20
    assert _font_px(page, ".hint") >= 20 and _font_px(page, "h1") > 24

    # Remembered: the server draws the next pages in the elder mode (in the HTML it sends, so no flash).
    for name, path in pages:
        response = page.goto(base + path)
        assert '<html lang="zh-CN" class="elder">' in response.text(), path
        check_page(page, shot, f"elder-on-{name}", 375)  # no sideways overflow at 375 px, among others
        assert _font_px(page, "body") >= 20, path
        assert _small_targets(page) == [], (path, _small_targets(page))
        for selector in ("body", "h1", ".hint", ".meta", "main p", "label", ".footer"):
            for element in page.query_selector_all(selector)[:5]:
                if element.is_visible():
                    ratio = element.evaluate(CONTRAST)
                    assert ratio >= 7, (path, selector, element.inner_text()[:20], round(ratio, 2))
    page.reload()
    assert _is_elder(page)

    # The console keeps its own look, whatever the resident chose.
    response = page.goto(base + "/console/login")
    assert 'class="elder"' not in response.text() and not _is_elder(page)

    # And back, with one tap.
    page.goto(base + "/track")
    with page.expect_response(lambda r: r.url.endswith("/display")):
        page.get_by_role("button", name="标准版").tap()
    assert not _is_elder(page)
    page.reload()
    assert not _is_elder(page) and _font_px(page, "body") == 16


def test_elder_mode_switch_works_without_script(browser, live_server):
    _app, base = live_server
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(base + "/praise?x=1")
        page.get_by_role("button", name="长辈版").click()
        page.wait_for_load_state("load")
        assert page.url == base + "/praise?x=1"  # back on the same page, now in the elder mode
        assert page.locator("html.elder").count() == 1
        assert page.get_by_role("button", name="长辈版").get_attribute("aria-pressed") == "true"
        page.goto(base + "/wishes")
        assert page.locator("html.elder").count() == 1
        page.get_by_role("button", name="标准版").click()
        page.wait_for_load_state("load")
        assert page.url == base + "/wishes" and page.locator("html.elder").count() == 0
    finally:
        context.close()
