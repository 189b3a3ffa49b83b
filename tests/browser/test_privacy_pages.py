"""Personal data in the browser: a resident reads the notice, ticks it to report, then asks to cancel and
for a copy of their data; the community's admin verifies them, sends the copy and cancels the account."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import check_page, console_login
from tests.browser.test_scan_actions import _scene

pytestmark = pytest.mark.browser
PHONE = "13955556666"


def test_notice_consent_and_a_request_handled_in_the_console(page_factory, live_server):
    scene = _scene(live_server, "东城小区1号楼")
    resident, base, rshot = page_factory(375, 812, mobile=True)
    resident.goto(f"{base}/privacy")
    expect(resident.get_by_role("heading", name="隐私保护指引")).to_be_visible()
    expect(resident.get_by_role("heading", name="保存多久")).to_be_visible()
    expect(resident.get_by_role("heading", name="注销账号后")).to_be_visible()
    check_page(resident, rshot, "privacy-01-notice", 375)

    resident.goto(f"{base}/s/{scene}/report")
    resident.select_option("#category_id", index=1)
    resident.fill("#description", "小区东门的井盖松动，踩上去会晃。")
    resident.fill("#phone", PHONE)
    resident.click("button[type=submit]")
    assert "/report" in resident.url  # the browser keeps the form until the notice is accepted
    consent = resident.locator("input[name=privacy_version]")
    assert consent.evaluate("box => box.validity.valueMissing")
    consent.check()
    check_page(resident, rshot, "privacy-02-report-with-consent", 375)
    resident.click("button[type=submit]")
    resident.wait_for_url("**/track/GZ*")

    for kind in ("export", "cancellation"):
        resident.goto(f"{base}/privacy#request")
        resident.select_option("#kind", kind)
        resident.fill("#phone", PHONE)
        resident.fill("#detail", "请核实后办理")
        resident.get_by_role("button", name="提交申请").click()
        expect(resident.get_by_text("申请已提交")).to_be_visible()
    check_page(resident, rshot, "privacy-03-request-sent", 375)

    staff, base, sshot = page_factory(1280)
    console_login(staff, base, "east_admin")
    staff.get_by_role("link", name="个人信息申请").click()
    expect(staff.get_by_role("heading", name="个人信息申请")).to_be_visible()
    check_page(staff, sshot, "privacy-04-console-requests", 1280)

    staff.get_by_role("link", name="查阅、复制个人信息").click()
    staff.wait_for_url("**/console/privacy-requests/*")
    assert PHONE not in staff.inner_text("body")  # masked until the audited button is pressed
    staff.get_by_role("button", name="查看完整手机号以核实身份（记入操作日志）").click()
    expect(staff.locator("#full-phone")).to_have_text(PHONE)
    with staff.expect_download() as download:
        staff.get_by_role("link", name="下载该居民的全部个人信息（ZIP）").click()
    with zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes())) as archive:
        held = json.loads(archive.read("data.json"))
    assert held["account"]["phone"] == PHONE
    assert held["cases_reported"][0]["description"] == "小区东门的井盖松动，踩上去会晃。"
    staff.fill("#answer", "已致电核实为本人，已将数据副本交给本人。")
    staff.get_by_role("button", name="提交").click()
    expect(staff.get_by_text("已办结，办理记录已保存")).to_be_visible()
    check_page(staff, sshot, "privacy-05-export-done", 1280)

    staff.goto(f"{base}/console/privacy-requests")
    staff.get_by_role("link", name="注销账号、删除个人信息").click()
    expect(staff.get_by_text("选择“办结”将立即注销该居民的账号")).to_be_visible()
    staff.fill("#answer", "已致电核实为本人，同意注销。")
    staff.get_by_role("button", name="提交").click()
    expect(staff.get_by_text("已办结，办理记录已保存")).to_be_visible()
    expect(staff.locator("dt:has-text('居民手机号') + dd")).to_have_text("—")  # the phone went with the account
    check_page(staff, sshot, "privacy-06-cancelled", 1280)

    narrow, base, nshot = page_factory(375, 812, mobile=True)
    console_login(narrow, base, "east_admin")
    narrow.goto(f"{base}/console/privacy-requests?status=done")
    check_page(narrow, nshot, "privacy-07-console-requests", 375)
    resident.set_viewport_size({"width": 1280, "height": 900})
    resident.goto(f"{base}/privacy")
    check_page(resident, rshot, "privacy-08-notice", 1280)
