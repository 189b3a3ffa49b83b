"""A representative handles a suggestion in the console: accept, answer directly, close."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.browser.helpers import check_page, console_login, shown_actions

pytestmark = pytest.mark.browser


def _submit_suggestion(live_server) -> int:
    from app.accounts.service import actor_for, portal_resident
    from app.core import uow
    from app.extensions import db
    from app.suggestions.models import Representative
    from app.suggestions.service import submit

    app, _ = live_server
    with app.app_context():
        try:
            rep = db.session.scalar(select(Representative).where(Representative.name == "张代表"))
            resident = portal_resident("13600001234", "赵居民")
            suggestion = submit(actor_for(resident), title="建议在东城小区增设电动车充电桩",
                                body="楼道里私拉电线给电动车充电，有火灾隐患。", representative_id=rep.id)
            uow.commit()
            return suggestion.id
        finally:
            db.session.remove()


def test_representative_accepts_answers_and_closes(page_factory, live_server):
    suggestion_id = _submit_suggestion(live_server)
    page, base, shot = page_factory(1280)
    console_login(page, base, "rep_npc")
    page.goto(base + f"/console/suggestions/{suggestion_id}")
    assert shown_actions(page) == {"accept", "reject"}
    assert "13600001234" not in page.inner_text("body")  # the resident's phone is not shown in full
    check_page(page, shot, "suggestion-01-received", 1280)

    page.locator("[data-action=accept] summary").click()
    page.locator("[data-action=accept] button[type=submit]").click()
    page.wait_for_load_state("load")
    assert {"answer", "refer"} <= shown_actions(page)

    page.locator("[data-action=answer] summary").click()
    page.fill("#answer-note", "已联系物业，本月内在车棚安装 20 个充电桩。")
    page.locator("[data-action=answer] button[type=submit]").click()
    page.wait_for_load_state("load")
    assert "已答复" in page.locator("h1").inner_text()
    check_page(page, shot, "suggestion-02-answered", 1280)

    page.locator("[data-action=close] summary").click()
    page.locator("[data-action=close] button[type=submit]").click()
    page.wait_for_load_state("load")
    assert "已办结" in page.locator("h1").inner_text()
    timeline = page.locator(".timeline").inner_text()
    assert "受理" in timeline and "直接答复" in timeline and "办结反馈" in timeline
    check_page(page, shot, "suggestion-03-closed", 1280)
