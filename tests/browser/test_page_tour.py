"""Every page, as each kind of user, at 375 px and 1280 px: a screenshot each, no sideways overflow, no JS
error, no English, and no navigation link that leads nowhere."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.browser.helpers import check_page, console_login

pytestmark = pytest.mark.browser

STAFF = ["east_admin", "street_admin", "grid_east1", "dept_wy", "rep_npc"]


def _in_app(live_server, fn):
    from app.core import uow
    from app.extensions import db

    app, _ = live_server
    with app.app_context():
        try:
            result = fn(db)
            uow.commit()
            return result
        finally:
            db.session.remove()


def _scene(db):
    from app.codes.models import Code

    return db.session.scalar(select(Code.scene).where(Code.active.is_(True)).order_by(Code.id))


def _board_scene(db):
    from app.areas.models import Place
    from app.codes.models import Code

    return db.session.scalar(select(Code.scene).join(Place, Place.id == Code.place_id)
                             .where(Place.name == "东城小区1号楼", Code.active.is_(True)).order_by(Code.id))


def _certificate(db):
    """member_east's proof over the hours the demo approved for them, issued by 东城社区's admin."""
    from app.accounts.models import User
    from app.accounts.service import actor_for
    from app.areas.models import Area
    from app.volunteering.certificates import issue_certificate

    member = db.session.scalar(select(User).where(User.username == "member_east"))
    admin = db.session.scalar(select(User).where(User.username == "east_admin"))
    east = db.session.scalar(select(Area).where(Area.name == "东城社区"))
    return issue_certificate(actor_for(admin), user_id=member.id, area_id=east.id).code


@pytest.mark.parametrize("width", [375, 1280])
def test_resident_pages(page_factory, live_server, width):
    scene = _in_app(live_server, _scene)
    code = _in_app(live_server, _certificate)
    page, base, shot = page_factory(width, mobile=width < 720)
    pages = [("home", "/"), ("scan", f"/s/{scene}"), ("report", f"/s/{scene}/report"),
             ("praise", f"/s/{scene}/praise"), ("message", f"/s/{scene}/message"), ("track", "/track"),
             ("praise-wall", "/praise"), ("suggestions", "/suggestions"), ("wishes", "/wishes"),
             ("verify-form", "/verify"), ("verify", f"/verify/{code}"), ("privacy", "/privacy"),
             ("bad-code", "/s/not-a-real-code")]
    for name, path in pages:
        response = page.goto(base + path)
        assert response.status == (404 if name == "bad-code" else 200), path
        check_page(page, shot, f"resident-{name}", width)
    page.goto(base + f"/s/{_in_app(live_server, _board_scene)}")  # 东城社区第一网格's board
    dial = page.eval_on_selector_all("a.tel", "els => els.map(e => [e.getAttribute('href'), e.offsetHeight])")
    assert {href for href, _ in dial} == {"tel:13934561201", "tel:13834562210"}  # police and property
    assert all(height >= 44 for _, height in dial), dial  # a thumb-sized target
    assert page.get_by_text("138****0004").is_visible()  # the grid worker's own number stays masked
    check_page(page, shot, "resident-scan-board", width)
    page.goto(base + f"/verify/{code}")
    assert page.get_by_text("有效", exact=True).is_visible()
    assert page.get_by_text("刘*").first.is_visible()  # the holder's name masked
    page.goto(base + "/suggestions")
    assert page.locator(".card h2").count() >= 1  # the demo's published answer


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("username", STAFF)
def test_console_pages(page_factory, username, width):
    page, base, shot = page_factory(width, mobile=width < 720)
    console_login(page, base, username)
    links = page.eval_on_selector_all(".topnav a", "els => els.map(e => e.getAttribute('href'))")
    assert links[0] == "/console/"
    for href in links:
        response = page.goto(base + href)
        assert response.status == 200, href
        name = href.strip("/").replace("/", "-") or "console"
        check_page(page, shot, f"console-{username}-{name}", width)
        # Open the first item of the list, if the page has one, and check its detail page too.
        detail = page.locator("table.stack td:first-child a, .card h2 a").first
        if detail.count():
            detail.click()
            page.wait_for_load_state("load")
            check_page(page, shot, f"console-{username}-{name}-detail", width)
    if username == "east_admin":
        for extra in ("/console/hours", "/console/hours?status=approved", "/console/cases?status=closed"):
            assert page.goto(base + extra).status == 200
            check_page(page, shot, "console-east_admin-" + extra.strip("/").replace("/", "-").replace("?", "-")
                       .replace("=", "-"), width)


def test_console_hides_what_a_role_cannot_use(page_factory):
    page, base, shot = page_factory(1280)
    console_login(page, base, "grid_east1")
    nav = page.locator(".topnav").inner_text()
    assert "事件" in nav and "微心愿" not in nav and "人员角色" not in nav
    response = page.goto(base + "/console/wishes")
    assert response.status == 403
    assert page.get_by_text("您的角色不能使用此页面").is_visible()
    check_page(page, shot, "console-forbidden", 1280)
