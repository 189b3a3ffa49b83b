"""The recording community issues a requested proof in the console and downloads it."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.browser.helpers import check_page, console_login

pytestmark = pytest.mark.browser


def _requested(live_server) -> None:
    from app.accounts.models import User
    from app.accounts.service import actor_for
    from app.core import uow
    from app.extensions import db
    from app.volunteering.certificates import request_proofs

    app, _ = live_server
    with app.app_context():
        try:
            member = db.session.scalar(select(User).where(User.username == "member_east"))
            request_proofs(actor_for(member), id_number="11010519491231002X")
            uow.commit()
        finally:
            db.session.remove()


@pytest.mark.parametrize("width", [375, 1280])
def test_the_community_issues_a_requested_proof(page_factory, live_server, width):
    _requested(live_server)
    page, base, shot = page_factory(width, mobile=width == 375)
    console_login(page, base, "east_admin")
    page.goto(base + "/console/proofs")
    row = page.locator("tr", has_text="刘建军").first
    check_page(page, shot, "proofs", width)
    row.get_by_role("button", name="出具证明").click()
    page.wait_for_load_state("load")
    assert page.get_by_text("证明已出具").is_visible()
    check_page(page, shot, "proofs-issued", width)
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 PDF").first.click()
    assert download.value.suggested_filename.startswith("志愿服务证明-")
