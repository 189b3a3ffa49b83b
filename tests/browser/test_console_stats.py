"""The statistics page: figures, SVG charts that actually render, and an Excel download."""
import io
import re

import pytest
from openpyxl import load_workbook

from tests.browser.helpers import check_page, console_login

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [375, 1280])
def test_statistics_page_with_charts_and_export(page_factory, width):
    page, base, shot = page_factory(width, mobile=width < 720)
    console_login(page, base, "street_admin")
    page.goto(base + "/console/stats")
    assert page.get_by_role("heading", name="统计报表 · 沁河镇").is_visible()
    page.wait_for_function("Array.from(document.images).every(i => i.complete)")
    sizes = page.eval_on_selector_all(".chart img", "els => els.map(e => e.naturalWidth)")
    assert len(sizes) == 4 and all(w > 100 for w in sizes), sizes
    # Each chart is drawn for about the width it is shown at: its smallest text, as shown, is >= 12 px.
    shown = page.eval_on_selector_all(".chart img", "els => els.map(e => [e.currentSrc, e.clientWidth / e.naturalWidth])")
    for src, scale in shown:
        svg = page.request.get(src).text()
        smallest = min(float(s) for s in re.findall(r"font-size:\s*([\d.]+)px", svg))
        assert smallest * scale >= 12, (src, smallest, scale)
        assert "处置中" not in svg
    check_page(page, shot, "console-stats", width)
    with page.expect_download() as download:
        page.get_by_text("导出电子表格").click()
    with open(download.value.path(), "rb") as file:
        sheet = load_workbook(io.BytesIO(file.read())).active
    assert sheet["A1"].value.startswith("沁河镇")
    assert isinstance(sheet["C3"].value, int)  # 上报总数, a number a spreadsheet can add up
    # a community admin cannot pick the street
    page.context.clear_cookies()
    console_login(page, base, "east_admin")
    page.goto(base + "/console/stats")
    options = page.eval_on_selector_all("#area_id option", "els => els.map(e => e.textContent)")
    assert options == ["东城社区"]
