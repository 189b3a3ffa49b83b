"""The resident portal as people use it, second pass: phone photos of real size, 我要联系 both ways, tracking
with steps and my reports, withdraw, a report without a code, a suggestion and a wish from the web; the staff
side of the messages in the console. Screenshots at 375 px (resident) and 1280 px (staff and desktop)."""
from __future__ import annotations

import os
import re

import pytest
from PIL import Image
from sqlalchemy import select

from tests.browser.helpers import check_page, console_login

pytestmark = pytest.mark.browser

PHONE = "13900001234"


def _photo(folder, width: int, height: int, quality: int, name: str):
    """A JPEG file of a phone photo's size: blurred noise compresses about as badly as a real scene."""
    noise = Image.frombytes("RGB", (width // 4, height // 4), os.urandom(width // 4 * height // 4 * 3))
    path = folder / name
    noise.resize((width, height), Image.BILINEAR).save(path, "JPEG", quality=quality)
    return path


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


def _stored_photos(live_server, tracking_no: str) -> list[dict]:
    from app.cases.models import Case
    from app.extensions import db

    app, _ = live_server
    with app.app_context():
        try:
            return db.session.scalar(select(Case.photos).where(Case.tracking_no == tracking_no))
        finally:
            db.session.remove()


def test_six_phone_photos_are_shrunk_in_the_browser_and_the_report_goes_through(page_factory, live_server,
                                                                                tmp_path):
    scene = _scene(live_server, "东城小区1号楼")
    photos = ([_photo(tmp_path, 4032, 3024, 72, f"IMG_00{i}.jpg") for i in range(5)]
              + [_photo(tmp_path, 8000, 6000, 86, "IMG_big.jpg")])
    sizes = [p.stat().st_size for p in photos]
    assert all(size > 2_000_000 for size in sizes[:5]) and sizes[5] > 15_000_000, sizes
    page, base, shot = page_factory(375, 812, mobile=True)
    page.goto(f"{base}/s/{scene}/report")
    page.select_option("#category_id", index=1)
    page.fill("#description", "楼道堆放杂物，堵住了消防通道。")
    page.set_input_files("#photos", photos, timeout=60000)
    page.locator(".filenames", has_text="已选择 6 张").wait_for(timeout=60000)
    sizes = page.evaluate("Array.from(document.querySelector('#photos').files).map(f => f.size)")
    assert len(sizes) == 6 and max(sizes) < 2_500_000, sizes
    check_page(page, shot, "second-01-report-photos-shrunk", 375)
    page.fill("#phone", PHONE)
    page.check("input[name=privacy_version]")
    page.get_by_role("button", name="提交上报").click()
    page.wait_for_url("**/track/GZ*", timeout=60000)
    tracking_no = page.url.rsplit("/", 1)[1]
    stored = _stored_photos(live_server, tracking_no)
    assert len(stored) == 6
    # Progress steps, the acceptance deadline (or the review notice), withdraw on offer.
    assert page.locator("ol.steps li").count() == 5
    assert page.get_by_role("heading", name="撤回上报").is_visible()
    check_page(page, shot, "second-02-tracked-steps", 375)

    page.goto(f"{base}/track")
    assert page.get_by_text(tracking_no).is_visible()
    check_page(page, shot, "second-03-my-reports", 375)
    page.goto(f"{base}/track/{tracking_no}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.fill("#withdraw-note", "已经清理好了")
    page.get_by_role("button", name="撤回上报").click()
    page.wait_for_url(f"**/track/{tracking_no}")
    assert page.locator("h1 .badge", has_text="已撤回").is_visible()


def test_every_problem_beside_its_field_and_the_typing_kept(page_factory, live_server):
    scene = _scene(live_server, "东城小区1号楼")
    page, base, shot = page_factory(375, 812, mobile=True)
    page.goto(f"{base}/s/{scene}/report")
    page.evaluate("document.querySelector('form[enctype]').noValidate = true")  # as an old browser would send it
    page.fill("#description", "路灯坏了")
    page.fill("#phone", "12345")
    page.get_by_role("button", name="提交上报").click()
    page.locator("#phone-error").wait_for()
    assert page.get_by_text("有 3 处需要修改").is_visible()
    for field in ("category_id", "phone", "privacy_version"):
        assert page.locator(f"#{field}-error").is_visible(), field
    assert page.input_value("#description") == "路灯坏了" and page.input_value("#phone") == "12345"
    check_page(page, shot, "second-04-errors-beside-fields", 375)


def test_a_message_and_its_reply_both_ways(page_factory, live_server):
    scene = _scene(live_server, "东城小区1号楼")
    resident, base, shot = page_factory(375, 812, mobile=True)
    resident.goto(f"{base}/s/{scene}/message")
    resident.select_option("#to_role", label="网格员")
    resident.fill("#body", "楼下的路灯坏了好几天，晚上回家很黑。")
    resident.fill("#phone", PHONE)
    resident.fill("#name", "周女士")
    resident.check("input[name=privacy_version]")
    resident.get_by_role("button", name="发送留言").click()
    resident.wait_for_url("**/messages/LY*")
    number = resident.url.rsplit("/", 1)[1]
    assert resident.get_by_text("等待回复").is_visible()
    check_page(resident, shot, "second-05-message-sent", 375)

    staff, _, staff_shot = page_factory(1280, 900)
    console_login(staff, base, "grid_east1")
    staff.get_by_role("link", name="留言", exact=True).click()
    check_page(staff, staff_shot, "second-06-console-messages", 1280)
    staff.locator("tr", has_text=number).get_by_role("link").click()
    assert staff.get_by_text("139****1234").is_visible()
    staff.get_by_role("button", name=re.compile("查看完整号码")).click()
    assert staff.locator("#full-phone").inner_text() == PHONE  # inner_text waits for the element
    staff.fill("#body", "周女士您好，已报修，今晚前修好。")
    staff.get_by_role("button", name="发送回复").click()
    staff.locator(".flash.success").wait_for()
    assert staff.get_by_text("已回复，居民会在留言页看到。").is_visible()
    check_page(staff, staff_shot, "second-07-console-thread", 1280)

    # Another phone of the same resident: the number and the last four digits open the thread.
    other, _, other_shot = page_factory(375, 812, mobile=True)
    other.goto(f"{base}/messages")
    other.fill("#number", number)
    other.fill("#phone_last4", PHONE[-4:])
    other.get_by_role("button", name="查看").click()
    other.wait_for_url(f"**/messages/{number}")
    assert other.get_by_text("周女士您好，已报修，今晚前修好。").is_visible()
    assert other.get_by_text("李网格员（网格员）").is_visible()  # who answered
    other.fill("#body", "谢谢！")
    other.get_by_role("button", name="发送").click()
    other.locator(".flash.success").wait_for()
    assert other.get_by_text("已发送，工作人员会收到通知。").is_visible()
    check_page(other, other_shot, "second-08-reply-read", 375)


def test_report_without_a_code_a_suggestion_and_a_wish(page_factory, live_server):
    for width in (375, 1280):
        page, base, shot = page_factory(width, 812 if width == 375 else 900, mobile=width == 375)
        page.goto(base + "/")
        check_page(page, shot, "second-09-home", width)
        page.get_by_role("link", name="我要上报").click()
        page.select_option("#community_id", label="东城社区")
        page.fill("#q", "1号楼")
        page.get_by_role("button", name="查找地点").click()
        check_page(page, shot, "second-10-find-place", width)
        page.get_by_role("link", name="东城小区1号楼").click()
        check_page(page, shot, "second-11-report-at-place", width)
        page.goto(base + "/suggestions/new")
        check_page(page, shot, "second-12-suggest", width)
        page.goto(base + "/wishes/new")
        check_page(page, shot, "second-13-wish", width)
        page.goto(base + "/messages")
        check_page(page, shot, "second-14-message-lookup", width)

    page, base, shot = page_factory(375, 812, mobile=True)
    page.goto(base + "/suggestions/new")
    page.select_option("#area_id", label="东城社区")
    page.fill("#title", "建议增设电动车充电桩")
    page.fill("#body", "楼道里充电很危险，建议在北门增设充电桩。")
    page.fill("#phone", PHONE)
    page.check("input[name=privacy_version]")
    page.get_by_role("button", name="提交建议").click()
    page.wait_for_url("**/suggestions")
    assert page.get_by_text("建议已提交").is_visible()
    page.goto(base + "/wishes/new")
    page.fill("#title", "想请人帮忙修水龙头")
    page.select_option("#category", label="维修帮忙")
    page.fill("#desired_date", "2099-01-01")  # beyond half a year: refused beside the field, typing kept
    page.select_option("#community_id", label="东城社区")
    page.fill("#address", "东城小区1号楼301")
    page.fill("#phone", PHONE)
    page.check("input[name=privacy_version]")
    page.get_by_role("button", name="提交心愿").click()
    page.locator("#desired_date-error").wait_for()
    assert page.input_value("#address") == "东城小区1号楼301"
    check_page(page, shot, "second-15-wish-refused", 375)


def _case_id(live_server, tracking_no: str) -> int:
    """The case's id; released from review as a moderator would, so the loop can run."""
    from app.cases.models import Case
    from app.extensions import db

    app, _ = live_server
    with app.app_context():
        try:
            case = db.session.scalar(select(Case).where(Case.tracking_no == tracking_no))
            case.moderation = "pass"
            db.session.commit()
            return case.id
        finally:
            db.session.remove()


def test_staff_choose_what_the_resident_reads(page_factory, live_server):
    """居民可见: the dispatch note stays internal (its default), the handling result is public; the resident's
    tracking page shows only the public one, the console shows both, marked."""
    resident, base, shot = page_factory(375, 812, mobile=True)
    resident.goto(f"{base}/s/{_scene(live_server, '东城小区2号楼')}/report")
    resident.select_option("#category_id", label="环境卫生")
    resident.fill("#description", "单元门口的垃圾桶满了两天没人清运。")
    resident.fill("#phone", PHONE)
    resident.check("input[name=privacy_version]")
    resident.get_by_role("button", name="提交上报").click()
    resident.wait_for_url("**/track/GZ*", timeout=60000)
    tracking_no = resident.url.rsplit("/", 1)[1]
    case_id = _case_id(live_server, tracking_no)

    staff, _, staff_shot = page_factory(1280, 900)
    console_login(staff, base, "east_admin")
    staff.goto(f"{base}/console/cases/{case_id}")
    staff.locator("details[data-action=accept] summary").click()
    assert staff.locator("details[data-action=accept] input[name=public][value='1']").is_checked()
    staff.get_by_role("button", name="确认受理").click()
    staff.locator("details[data-action=dispatch] summary").click()
    dispatch = staff.locator("details[data-action=dispatch]")
    assert dispatch.locator("input[name=public][value='0']").is_checked()  # internal by default
    dispatch.locator("input[name=target][value^='worker:']").first.check()
    dispatch.locator("#dispatch-note").fill("请今天下午去现场查看")
    check_page(staff, staff_shot, "second-16-dispatch-note-internal", 1280)
    dispatch.get_by_role("button", name="确认派遣").click()
    staff.wait_for_url(f"**/console/cases/{case_id}")

    worker, _, _ = page_factory(1280, 900)
    console_login(worker, base, "grid_east1")
    worker.goto(f"{base}/console/cases/{case_id}")
    worker.locator("details[data-action=handle] summary").click()
    handle = worker.locator("details[data-action=handle]")
    assert handle.locator("input[name=public][value='1']").is_checked()  # a handling result is public
    handle.locator("#handle-text").fill("已联系保洁清运，垃圾桶已清空。")
    handle.get_by_role("button", name="确认处理反馈").click()
    worker.wait_for_url(f"**/console/cases/{case_id}")

    staff.goto(f"{base}/console/cases/{case_id}")
    timeline = staff.locator("ol.timeline")
    assert timeline.get_by_text("请今天下午去现场查看").is_visible()
    assert timeline.locator(".badge", has_text="仅内部可见").count() == 1
    check_page(staff, staff_shot, "second-17-staff-timeline-marked", 1280)
    resident.goto(f"{base}/track/{tracking_no}")
    body = resident.inner_text("body")
    assert "已联系保洁清运，垃圾桶已清空。" in body and "请今天下午去现场查看" not in body
    check_page(resident, shot, "second-18-tracked-public-only", 375)
