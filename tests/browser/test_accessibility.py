"""axe-core on every portal and console page: resident pages as a phone 375 px wide (in the standard and the
elder mode 长辈版), console pages as a desktop. Any violation of impact serious or critical of the WCAG 2 A/AA
rules fails, and in the elder mode the AAA contrast rule (7:1) as well.

Every GET page route of the portal and the console is either visited here or excluded below with a reason,
so a new page cannot be forgotten (`test_every_page_route_is_checked`).

axe-core comes from npm (tests/browser/package.json, installed by `make setup` with `npm ci`).
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.browser.helpers import check_page, console_login
from tests.conftest import IN_CI

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BAD = ("serious", "critical")
PHONE = "13966667777"


@pytest.fixture(scope="module", autouse=True)
def _axe_installed():
    if not AXE.exists():
        if IN_CI:
            pytest.fail(f"CI=true requires axe-core at {AXE} (make setup runs npm ci in tests/browser)")
        pytest.skip(f"needs axe-core at {AXE}: run `make setup` (npm ci in tests/browser) with npm installed")


# -- which page is visited how --------------------------------------------------------------------------------

# Resident pages: a path ({scene}, {place_id}, {code} from the demo data), or how the page is reached.
RESIDENT = {
    "portal.home": "/",
    "portal.scan": "/s/{scene}",
    "portal.report": "/s/{scene}/report",
    "portal.praise": "/s/{scene}/praise",
    "portal.message": "/s/{scene}/message",
    "portal.report_anywhere": "/report",
    "portal.report_at_place": "/places/{place_id}/report",
    "portal.track": "/track",
    "portal.tracked": "after filing a report",
    "portal.message_lookup": "/messages",
    "portal.message_thread": "after sending a message",
    "portal.points_board": "/points",
    "portal.praise_wall": "/praise",
    "portal.suggestion_board": "/suggestions",
    "portal.suggest": "/suggestions/new",
    "portal.wish_pool": "/wishes",
    "portal.make_wish": "/wishes/new",
    "portal.privacy": "/privacy",
    "portal.proof_download": "/proofs",
    "portal.verify_form": "/verify",
    "portal.verify": "/verify/{code}",
}

# Console pages: (who, path), or (who, the list page whose first link to the page is followed).
CONSOLE = {
    "console.login": (None, "/console/login"),
    "console.dashboard": ("east_admin", "/console/"),
    "console.cases": ("east_admin", "/console/cases"),
    "console.case_detail": ("east_admin", "link on /console/cases"),
    "console.activities": ("east_admin", "/console/activities"),
    "console.activity_roster": ("east_admin", "link on /console/activities"),
    "console.activity_check_in_code": ("east_admin", "link on console.activity_roster"),
    "console.activity_printed_code": ("east_admin", "link on console.activity_roster"),
    "console.categories": ("east_admin", "/console/categories"),
    "console.codes": ("east_admin", "/console/codes"),
    "console.corrections": ("east_admin", "/console/corrections"),
    "console.groups": ("east_admin", "/console/groups"),
    "console.hours": ("east_admin", "/console/hours"),
    "console.integrations": ("east_admin", "/console/integrations"),
    "console.area_map": ("east_admin", "/console/map"),
    "console.members": ("east_admin", "/console/members"),
    "console.messages": ("grid_east1", "/console/messages"),  # the grid worker's inbox: the message below
    "console.message_thread": ("grid_east1", "link on /console/messages"),
    "console.moderation_queue": ("east_admin", "/console/moderation"),
    "console.points_schemes": ("east_admin", "/console/points"),
    "console.points_applications": ("east_admin", "/console/points/applications"),
    "console.points_cashouts": ("east_admin", "/console/points/cashouts"),
    "console.points_evaluations": ("east_admin", "/console/points/evaluations"),
    "console.points_evaluation_detail": ("east_admin", "link on /console/points/evaluations"),
    "console.points_rankings": ("east_admin", "/console/points/rankings"),
    "console.points_shop": ("east_admin", "/console/points/shop"),
    "console.posts": ("east_admin", "/console/posts"),
    "console.privacy_requests": ("east_admin", "/console/privacy-requests"),
    "console.privacy_request": ("east_admin", "link on /console/privacy-requests"),
    "console.proofs": ("east_admin", "/console/proofs"),
    "console.stats": ("east_admin", "/console/stats"),
    "console.suggestions": ("street_admin", "/console/suggestions"),
    "console.suggestion_detail": ("street_admin", "link on /console/suggestions"),  # only 沁河镇's side reads it
    "console.targets": ("east_admin", "/console/targets"),
    "console.users": ("east_admin", "/console/users"),
    "console.wishes": ("east_admin", "/console/wishes"),
    "console.wish_detail": ("east_admin", "link on /console/wishes"),
}

# Routes that answer GET with something that is not a page.
EXCLUDED = {
    "portal.static": "the stylesheet and the script, not pages",
    "console.code_image": "a PNG of a QR code, opened from /console/codes (查看), not a page",
    "console.cases_export": "a file (CSV or XLSX), not a page",
    "console.stats_export": "a file (CSV or XLSX), not a page",
    "console.stats_chart": "an SVG chart embedded as <img> with a text alternative on /console/stats",
    "console.points_cashout_export": "an XLSX file, not a page",
    "console.privacy_request_export": "a ZIP file, not a page",
    "console.proof_file": "a PDF file, not a page",
}


def _page_routes(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules()
            if rule.endpoint.split(".")[0] in ("portal", "console") and "GET" in rule.methods}


def test_every_page_route_is_checked(live_server):
    app, _ = live_server
    routes = _page_routes(app)
    listed = set(RESIDENT) | set(CONSOLE)
    assert not listed & set(EXCLUDED), "a route both visited and excluded"
    missing = sorted(routes - listed - set(EXCLUDED))
    assert not missing, f"GET routes neither visited by the axe test nor excluded with a reason: {missing}"
    assert not (listed | set(EXCLUDED)) - routes, "routes listed here that the app no longer has"


# -- running axe ------------------------------------------------------------------------------------------------

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: (n.failureSummary || '').replace(/\\s+/g, ' '),
                              impact: n.impact}))}));
}"""


class Axe:
    """Runs axe on each page visited and keeps the serious and critical violations, to report them all."""

    def __init__(self, app, elder: bool = False):
        self.adapter = app.url_map.bind("127.0.0.1")
        self.tags = WCAG_AA + (["wcag2aaa"] if elder else [])
        self.found: list[str] = []
        self.visited: set[str] = set()
        self.pages: dict[str, str] = {}  # endpoint → the path it was checked at

    def endpoint(self, url: str) -> str | None:
        try:
            return self.adapter.match(urlsplit(url).path, method="GET")[0]
        except Exception:  # noqa: BLE001 - any URL the app does not route is simply not one of its pages
            return None

    def check(self, page, label: str) -> None:
        page.wait_for_load_state("load")
        self.visited.add(self.endpoint(page.url))
        page.add_script_tag(path=str(AXE))
        for v in page.evaluate(RUN_AXE, self.tags):
            nodes = [n for n in v["nodes"] if (n["impact"] or v["impact"]) in BAD]
            for node in nodes[:6]:
                self.found.append(f"{label} ({urlsplit(page.url).path}): {v['id']} [{node['impact'] or v['impact']}] "
                                  f"{v['help']} at {node['target']}: {node['summary'][:220]}")
            if len(nodes) > 6:
                self.found.append(f"{label}: {v['id']} at {len(nodes) - 6} more elements")

    def assert_clean(self) -> None:
        assert not self.found, "axe found serious or critical violations:\n" + "\n".join(self.found)


def _in_app(live_server, fn):
    from app.extensions import db

    app, _ = live_server
    with app.app_context():
        try:
            return fn(db)
        finally:
            db.session.remove()


def _demo(db) -> dict:
    from app.areas.models import Place
    from app.codes.models import Code
    from app.volunteering.models import Certificate

    scene, place_id = db.session.execute(
        select(Code.scene, Place.id).join(Place, Place.id == Code.place_id)
        .where(Place.name == "东城小区1号楼", Code.active.is_(True)).order_by(Code.id)).first()
    code = db.session.scalar(select(Certificate.code).order_by(Certificate.id))
    return {"scene": scene, "place_id": place_id, "code": code}


def _certificate(db) -> None:
    """A proof of service to verify (the page tour issues one the same way), if none was issued yet."""
    from app.accounts.models import User
    from app.accounts.service import actor_for
    from app.areas.models import Area
    from app.core import uow
    from app.volunteering.certificates import issue_certificate
    from app.volunteering.models import Certificate

    if db.session.scalar(select(Certificate.id).limit(1)) is None:
        member = db.session.scalar(select(User).where(User.username == "member_east"))
        admin = db.session.scalar(select(User).where(User.username == "east_admin"))
        east = db.session.scalar(select(Area).where(Area.name == "东城社区"))
        issue_certificate(actor_for(admin), user_id=member.id, area_id=east.id)
        uow.commit()


def _file_report(page, base: str, scene: str) -> None:
    page.goto(f"{base}/s/{scene}/report")
    page.select_option("#category_id", index=1)
    page.fill("#description", "单元门的门禁坏了，老人进出不方便。")
    page.fill("#phone", PHONE)
    page.check("input[name=privacy_version]")
    page.get_by_role("button", name="提交上报").click()
    page.wait_for_url("**/track/GZ*")


def _send_message(page, base: str, scene: str) -> None:
    page.goto(f"{base}/s/{scene}/message")
    page.select_option("#to_role", label="网格员")
    page.fill("#body", "请问楼道灯什么时候修？")
    page.fill("#phone", PHONE)
    page.check("input[name=privacy_version]")
    page.get_by_role("button", name="发送留言").click()
    page.wait_for_url("**/messages/LY*")


def _resident_tour(page, base: str, axe: Axe, shot, mode: str, demo: dict) -> None:
    for endpoint, how in RESIDENT.items():
        if how == "after filing a report":
            _file_report(page, base, demo["scene"])
        elif how == "after sending a message":
            _send_message(page, base, demo["scene"])
        else:
            response = page.goto(base + how.format(**demo))
            assert response.status == 200, how
        name = f"a11y-{mode}-{endpoint.split('.')[1]}"
        axe.check(page, name)
        check_page(page, shot, name, 375)
    assert page.goto(base + "/s/not-a-real-code").status == 404  # the error page too
    axe.check(page, f"a11y-{mode}-not-found")
    check_page(page, shot, f"a11y-{mode}-not-found", 375)


@pytest.mark.parametrize("mode", ["standard", "elder"])
def test_resident_pages_pass_axe_on_a_phone(page_factory, live_server, mode):
    app, _ = live_server
    _in_app(live_server, _certificate)
    demo = _in_app(live_server, _demo)
    page, base, shot = page_factory(375, 812, mobile=True, bypass_csp=True)
    if mode == "elder":
        page.goto(base + "/")
        page.get_by_role("button", name="长辈版").click()
        page.wait_for_selector("html.elder")
    axe = Axe(app, elder=mode == "elder")
    _resident_tour(page, base, axe, shot, mode, demo)
    assert axe.visited >= set(RESIDENT), sorted(set(RESIDENT) - axe.visited)
    axe.assert_clean()


def _privacy_request(page, base: str) -> None:
    """A resident's request to correct their data, so that the console's request page has one to open (not a
    copy or a cancellation: tests/browser/test_privacy_pages.py picks those by name from the same list)."""
    page.goto(f"{base}/privacy#request")
    page.select_option("#kind", "correction")
    page.fill("#phone", PHONE)
    page.fill("#detail", "请核实后办理")
    page.get_by_role("button", name="提交申请").click()
    page.get_by_text("申请已提交").wait_for()


def _link_to(page, axe: Axe, endpoint: str) -> str | None:
    hrefs = page.eval_on_selector_all("main a[href]", "els => els.map(e => e.getAttribute('href'))")
    return next((h for h in hrefs if axe.endpoint(h) == endpoint), None)


def _enable_paper_code(page) -> None:
    """The organiser switches on the activity's paper check-in code, whose print page is then linked."""
    page.locator("details", has=page.locator("input[name=fallback_code_enabled]")).locator("summary").click()
    page.check("input[name=fallback_code_enabled]")
    page.get_by_role("button", name="保存签到规则").click()
    page.wait_for_load_state("load")


# What a console page needs done first, when the demo data has none of it.
PREPARE = {"console.activity_printed_code": _enable_paper_code}


def test_console_pages_pass_axe_on_a_desktop(page_factory, live_server):
    app, _ = live_server
    demo = _in_app(live_server, _demo)
    resident, base, _shot = page_factory(375, 812, mobile=True)
    _file_report(resident, base, demo["scene"])  # the phone the privacy request names must have a record
    _privacy_request(resident, base)
    _send_message(resident, base, demo["scene"])  # to the grid worker, whose inbox is checked

    axe = Axe(app)
    pages: dict[str | None, tuple] = {}
    for endpoint, (who, how) in CONSOLE.items():
        if who not in pages:
            pages[who] = page_factory(1280, 900, bypass_csp=True)
            if who:
                console_login(pages[who][0], pages[who][1], who)
        page, base, shot = pages[who]
        if how.startswith("link on "):
            source = how.removeprefix("link on ")
            if not source.startswith("/"):  # a detail page visited just before
                source = axe.pages[source]
            page.goto(base + source)
            target = _link_to(page, axe, endpoint)
            if target is None and endpoint in PREPARE:
                PREPARE[endpoint](page)
                target = _link_to(page, axe, endpoint)
            assert target, f"no link to {endpoint} on {source}"
            how = target
        response = page.goto(base + how)
        assert response.status == 200, how
        axe.pages[endpoint] = urlsplit(page.url).path
        name = f"a11y-{endpoint.replace('.', '-')}"
        axe.check(page, name)
        check_page(page, shot, name, 1280)
    assert axe.visited >= set(CONSOLE), sorted(set(CONSOLE) - axe.visited)
    axe.assert_clean()


def test_charts_have_text_alternatives(page_factory, live_server):
    """The charts (excluded above: SVG images) carry their figures as alt text where the console shows them."""
    page, base, _shot = page_factory(1280)
    console_login(page, base, "east_admin")
    page.goto(base + "/console/stats")
    images = page.eval_on_selector_all("img", "els => els.map(e => [e.getAttribute('src'), e.getAttribute('alt')])")
    charts = [(src, alt) for src, alt in images if src and "/console/stats/chart/" in src]
    assert charts, "no chart on /console/stats"
    assert all(alt and len(alt.strip()) > 4 for _src, alt in charts), charts
