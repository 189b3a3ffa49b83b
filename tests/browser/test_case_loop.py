"""The closed loop in a real browser: a resident reports by scanning, the community accepts and dispatches,
the grid worker handles, the community verifies, and the resident sees it closed and rates it."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.browser.helpers import check_page, console_login, shown_actions, tiny_jpeg

pytestmark = pytest.mark.browser

PHONE = "13655551234"


def _in_app(live_server, fn):
    from app.extensions import db

    app, _ = live_server
    with app.app_context():
        try:
            return fn(db)
        finally:
            db.session.remove()


def _scene(live_server, place_name: str) -> str:
    from app.areas.models import Place
    from app.codes.models import Code

    return _in_app(live_server, lambda db: db.session.scalar(
        select(Code.scene).join(Place, Place.id == Code.place_id)
        .where(Place.name == place_name, Code.active.is_(True))))


def _allowed(live_server, tracking_no: str, username: str) -> set[str]:
    """What the cases service itself allows this staff member now: the page must offer exactly this."""
    from app.accounts.models import User
    from app.accounts.service import actor_for
    from app.cases.models import Case
    from app.cases.states import CASE_FLOW

    def query(db):
        case = db.session.scalar(select(Case).where(Case.tracking_no == tracking_no))
        user = db.session.scalar(select(User).where(User.username == username))
        return set(CASE_FLOW.allowed_actions(case, actor_for(user)))

    return _in_app(live_server, query)


def _open_case(page, base, tracking_no):
    page.goto(base + "/console/cases?q=" + tracking_no)
    page.get_by_role("link", name=tracking_no).click()
    page.wait_for_url("**/console/cases/*")


def test_report_dispatch_handle_verify_and_rate(page_factory, live_server):
    scene = _scene(live_server, "东城小区1号楼")

    # 1. A resident scans the code on 东城小区1号楼 with a plain camera and reports, with a photo.
    resident, base, shot = page_factory(375, 812, mobile=True)
    resident.goto(f"{base}/s/{scene}")
    assert resident.get_by_role("heading", name="东城小区1号楼").is_visible()
    assert resident.get_by_text("李网格员").is_visible()
    check_page(resident, shot, "loop-01-scan", 375)
    resident.get_by_role("link", name="我要上报").click()
    resident.select_option("#category_id", label="设施损坏")
    resident.fill("#description", "1号楼2单元楼道灯坏了一个星期，晚上上下楼很危险。")
    resident.set_input_files("#photos", [tiny_jpeg()])
    resident.fill("#phone", PHONE)
    resident.check("input[name=privacy_version]")  # 同意隐私保护指引
    resident.fill("#name", "周阿姨")
    check_page(resident, shot, "loop-02-report-form", 375)
    resident.click("button[type=submit]")
    resident.wait_for_url("**/track/GZ*")
    tracking_no = resident.url.rsplit("/", 1)[1]
    assert resident.get_by_text("上报成功").is_visible()
    assert resident.locator(".timeline li").count() == 1
    assert resident.locator(".photos img").count() == 1
    assert resident.locator(".photos img").evaluate("img => img.naturalWidth") > 0
    check_page(resident, shot, "loop-03-reported", 375)

    # 2. The community admin accepts and dispatches it to the grid worker of that grid.
    admin, _, admin_shot = page_factory(1280)
    console_login(admin, base, "east_admin")
    check_page(admin, admin_shot, "loop-04-dashboard", 1280)
    admin.goto(base + "/console/cases?status=submitted")
    assert admin.get_by_role("link", name=tracking_no).is_visible()
    check_page(admin, admin_shot, "loop-05-inbox", 1280)
    _open_case(admin, base, tracking_no)
    assert shown_actions(admin) == _allowed(live_server, tracking_no, "east_admin") == {"accept", "reject"}
    assert admin.get_by_text("周*").first.is_visible()  # the reporter's name masked, never in full
    assert PHONE not in admin.content()
    check_page(admin, admin_shot, "loop-06-case-submitted", 1280)
    admin.locator("[data-action=accept] summary").click()
    admin.locator("[data-action=accept] button[type=submit]").click()
    admin.wait_for_load_state("load")
    assert admin.get_by_text("已受理").first.is_visible()
    assert shown_actions(admin) == _allowed(live_server, tracking_no, "east_admin")
    assert "dispatch" in shown_actions(admin)
    admin.locator("[data-action=dispatch] summary").click()
    dialog = admin.locator("[data-action=dispatch]")
    choices = dialog.locator("label.choice").all_inner_texts()
    # Only the grid worker of this grid, and departments serving this community, are offered.
    assert any("李网格员" in c for c in choices)
    assert not any("赵网格员" in c or "王网格员" in c for c in choices)
    assert any("城管执法中队" in c for c in choices)
    check_page(admin, admin_shot, "loop-07-dispatch-dialog", 1280)
    dialog.get_by_label("李网格员").check()
    dialog.locator("textarea[name=note]").fill("请今天内到现场查看。")
    dialog.locator("button[type=submit]").click()
    admin.wait_for_load_state("load")
    assert admin.get_by_text("已派遣").is_visible()
    assert shown_actions(admin) == _allowed(live_server, tracking_no, "east_admin")

    # 3. The grid worker, on a phone, handles it with a photo of the repaired light.
    worker, _, worker_shot = page_factory(375, 812, mobile=True)
    console_login(worker, base, "grid_east1")
    check_page(worker, worker_shot, "loop-08-worker-dashboard", 375)
    worker.goto(base + "/console/cases?mine=1")
    assert worker.get_by_role("link", name=tracking_no).is_visible()
    check_page(worker, worker_shot, "loop-09-worker-inbox", 375)
    _open_case(worker, base, tracking_no)
    assert shown_actions(worker) == _allowed(live_server, tracking_no, "grid_east1")
    assert "handle" in shown_actions(worker)
    worker.locator("[data-action=handle] summary").click()
    worker.fill("#handle-text", "已更换楼道灯泡，现场测试正常。")
    worker.set_input_files("#handle-photos", [tiny_jpeg((40, 160, 60))])
    check_page(worker, worker_shot, "loop-10-worker-handle", 375)
    worker.locator("[data-action=handle] button[type=submit]").click()
    worker.wait_for_load_state("load")
    assert worker.get_by_text("已处理反馈").is_visible()
    assert shown_actions(worker) == _allowed(live_server, tracking_no, "grid_east1")
    assert "verify" not in shown_actions(worker)  # nobody verifies their own work

    # 4. The community admin verifies it on site and closes it.
    _open_case(admin, base, tracking_no)
    assert shown_actions(admin) == _allowed(live_server, tracking_no, "east_admin") == {"verify"}
    admin.locator("[data-action=verify] summary").click()
    admin.locator("[data-action=verify] input[name=passed][value='1']").check()
    admin.locator("[data-action=verify] button[type=submit]").click()
    admin.wait_for_load_state("load")
    assert admin.get_by_text("已核查").is_visible()
    assert admin.locator("h1 .badge.done").inner_text() == "已办结"
    assert shown_actions(admin) == set()
    check_page(admin, admin_shot, "loop-11-closed-console", 1280)

    # 5. The resident, in a new browser, tracks it by number and the last four digits, and rates it.
    again, _, again_shot = page_factory(375, 812, mobile=True)
    again.goto(base + "/track")
    check_page(again, again_shot, "loop-12-track-form", 375)
    again.fill("#tracking_no", tracking_no)
    again.fill("#phone_last4", "0000")
    again.click("button[type=submit]")
    assert again.get_by_text("未找到匹配的事件").is_visible()
    again.fill("#tracking_no", tracking_no)
    again.fill("#phone_last4", PHONE[-4:])
    again.click("button[type=submit]")
    again.wait_for_url(f"**/track/{tracking_no}")
    assert again.locator("h1 .badge").inner_text() == "已办结"
    timeline = again.locator(".timeline").inner_text()
    assert "网格员" in timeline and "社区管理员" in timeline
    assert "李网格员" not in timeline and "东城社区书记" not in timeline  # staff shown by role, not by name
    check_page(again, again_shot, "loop-13-tracked-closed", 375)
    again.get_by_label("满意", exact=True).check()
    again.fill("#comment", "修得很快，谢谢网格员！")
    again.get_by_role("button", name="提交评价").click()
    again.wait_for_load_state("load")
    assert again.get_by_text("感谢您的评价").is_visible()
    assert again.get_by_text("修得很快，谢谢网格员！").first.is_visible()
    assert again.get_by_role("button", name="提交评价").count() == 0  # rated once
    check_page(again, again_shot, "loop-14-rated", 375)

    # The admin sees the rating on the case.
    _open_case(admin, base, tracking_no)
    assert admin.get_by_text("修得很快，谢谢网格员！").first.is_visible()
