"""The holder downloads an issued proof on the portal (verification code + last 4 of the ID number), and a
community sets its proofs to be issued automatically."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.browser.helpers import check_page, console_login

pytestmark = pytest.mark.browser


def _issued_code(live_server) -> str:
    from app.accounts.models import User
    from app.accounts.service import actor_for
    from app.core import uow
    from app.extensions import db
    from app.volunteering.certificates import issue_for_request, request_proofs

    app, _ = live_server
    with app.app_context():
        try:
            member = db.session.scalar(select(User).where(User.username == "member_east"))
            admin = db.session.scalar(select(User).where(User.username == "east_admin"))
            requests = request_proofs(actor_for(member), id_number="11010519491231002X")
            code = issue_for_request(actor_for(admin), requests[0].id).code
            uow.commit()
            return code
        finally:
            db.session.remove()


@pytest.mark.parametrize("width", [375, 1280])
def test_the_holder_downloads_the_proof_on_the_portal(page_factory, live_server, width):
    code = _issued_code(live_server)
    page, base, shot = page_factory(width, mobile=width == 375)
    page.goto(f"{base}/verify/{code}")
    check_page(page, shot, "verify-with-download", width)
    page.get_by_role("link", name="凭身份证号后四位下载 PDF").click()
    assert page.locator("#code").input_value() == code
    page.fill("#id_last4", "1234")
    page.get_by_role("button", name="下载证明（PDF）").click()
    page.wait_for_load_state("load")
    assert page.get_by_text("证明编号或身份证号后四位不正确。").is_visible()
    check_page(page, shot, "proof-download-refused", width)
    page.fill("#code", code)
    page.fill("#id_last4", "002X")
    with page.expect_download() as download:
        page.get_by_role("button", name="下载证明（PDF）").click()
    assert download.value.suggested_filename == f"志愿服务证明-{code}.pdf"
    page.goto(base + "/proofs")
    check_page(page, shot, "proof-download", width)


@pytest.mark.parametrize("width", [375, 1280])
def test_the_community_sets_its_proofs_to_be_issued_automatically(page_factory, live_server, width):
    page, base, shot = page_factory(width, mobile=width == 375)
    console_login(page, base, "east_admin")
    page.goto(base + "/console/proofs")
    policy = page.locator("form.policy", has_text="东城社区")
    policy.locator("input[name=auto_issue]").check()
    policy.get_by_role("button", name="保存").click()
    page.wait_for_load_state("load")
    assert page.get_by_text("已设为自动出具").is_visible()
    assert page.locator("form.policy", has_text="东城社区").locator("input[name=auto_issue]").is_checked()
    check_page(page, shot, "proofs-policy", width)
    # Back to issuing by hand: the live server's database is shared with the other browser tests.
    page.locator("form.policy", has_text="东城社区").locator("input[name=auto_issue]").uncheck()
    page.locator("form.policy", has_text="东城社区").get_by_role("button", name="保存").click()
    page.wait_for_load_state("load")
    assert page.get_by_text("已设为人工出具。").is_visible()
