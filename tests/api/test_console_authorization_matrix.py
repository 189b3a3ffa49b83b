"""The console's authorization matrix: every console route × every role, on 东城's objects.

The routes come from the app's URL map (blueprint `console`), so a new console route fails
`test_the_console_matrix_lists_every_route` until it is listed here. A role the table denies must be
sent to the sign-in page, or get 403 or 404, or (for a form the console answers with a redirect) see
only a refusal: never a page of 东城's object, never a success, never a message about the object's
state. A role the table allows must get past authorization. Every download, of the console and of
the API, is covered here or in tests/api/test_authorization_matrix.py.
"""
from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import select

from app.core.audit import is_export
from app.core.errors import DomainError
from app.extensions import db
from app.portal import web
from tests.api.test_authorization_matrix import MATRIX as API_MATRIX
from tests.api.test_authorization_matrix import world  # noqa: F401 - the same 东城 objects as the API matrix
from tests.console_client import Console

ROLES = ("anonymous", "resident", "east_admin", "west_admin", "grid_west1", "dept_wy", "street_admin")
STAFF = {"east_admin", "west_admin", "grid_west1", "dept_wy", "street_admin"}
ADMINS = {"east_admin", "west_admin", "street_admin"}
EAST = {"east_admin", "street_admin"}  # 东城's admin and the admin of the street above it
CASE_STAFF = STAFF
CODE_STAFF = ADMINS | {"grid_west1"}
STATS = ADMINS | {"grid_west1"}
PUBLIC = set(ROLES)

# (method, rule) → roles allowed past authorization on 东城 objects.
MATRIX: dict[tuple[str, str], set[str]] = {
    ("GET", "/console/login"): PUBLIC, ("POST", "/console/login"): PUBLIC, ("POST", "/console/logout"): PUBLIC,
    ("GET", "/console/"): STAFF,
    # cases
    ("GET", "/console/cases"): CASE_STAFF, ("GET", "/console/cases/<int:case_id>"): EAST,
    ("GET", "/console/cases/export.<fmt>"): CASE_STAFF,  # the list as a file: each sees the cases in their scope
    ("POST", "/console/cases/<int:case_id>/actions"): EAST,
    # wishes, members, volunteering
    ("GET", "/console/wishes"): ADMINS, ("GET", "/console/wishes/<int:wish_id>"): EAST,
    ("POST", "/console/wishes/<int:wish_id>/actions"): EAST,
    ("POST", "/console/wishes/<int:wish_id>/pledges/<int:pledge_id>/handover"): EAST,  # the world's goods wish
    ("GET", "/console/targets"): EAST, ("POST", "/console/targets"): EAST,  # 东城's yearly service target
    # the new groups: the world's pending registration, 东城's post and the owner's pending claim
    ("GET", "/console/groups"): ADMINS, ("POST", "/console/groups/workers/<int:worker_id>/actions"): EAST,
    ("GET", "/console/posts"): ADMINS, ("POST", "/console/posts"): EAST,
    ("POST", "/console/posts/<int:post_id>/close"): EAST, ("POST", "/console/claims/<int:claim_id>/actions"): EAST,
    ("GET", "/console/members"): ADMINS, ("POST", "/console/members/<int:member_id>/actions"): EAST,
    ("GET", "/console/activities"): ADMINS, ("POST", "/console/activities"): EAST,  # an activity in 东城
    ("GET", "/console/activities/<int:activity_id>"): EAST, ("POST", "/console/activities/<int:activity_id>"): EAST,
    ("GET", "/console/activities/<int:activity_id>/check-in-code"): EAST,
    ("GET", "/console/activities/<int:activity_id>/printed-code"): EAST,  # its paper code is on in the world
    ("POST", "/console/activities/<int:activity_id>/check-in-rules"): EAST,
    ("GET", "/console/hours"): ADMINS, ("POST", "/console/hours/<int:entry_id>/actions"): EAST,
    # the ledger's corrections and proofs: the recording organisation (东城) answers and issues
    ("POST", "/console/hours/<int:entry_id>/correct"): EAST,
    ("GET", "/console/corrections"): ADMINS, ("POST", "/console/corrections/<int:request_id>/decline"): EAST,
    ("GET", "/console/proofs"): ADMINS, ("POST", "/console/proofs/<int:proof_request_id>/issue"): EAST,
    ("GET", "/console/proofs/<string:code>.pdf"): EAST,
    ("POST", "/console/proofs/policy/<int:area_id>"): EAST,
    # suggestions: addressed to 张代表 of 沁河镇, so the street's admin reads them; only 张代表 acts on them
    ("GET", "/console/suggestions"): ADMINS | {"dept_wy"},
    ("GET", "/console/suggestions/<int:suggestion_id>"): {"street_admin"},
    ("POST", "/console/suggestions/<int:suggestion_id>/actions"): set(),
    # codes
    ("GET", "/console/codes"): CODE_STAFF, ("POST", "/console/codes/issue"): EAST,
    ("POST", "/console/codes/<int:code_id>/<any(disable, rotate):action>"): EAST,
    ("GET", "/console/codes/<int:code_id>/image"): EAST, ("POST", "/console/codes/sheet"): EAST,
    # categories (county-wide: street admins and above) and canned replies (owned by an area)
    ("GET", "/console/categories"): ADMINS, ("POST", "/console/categories"): {"street_admin"},
    ("POST", "/console/categories/<int:category_id>"): {"street_admin"},
    ("POST", "/console/categories/<int:category_id>/replies"): ADMINS,
    ("POST", "/console/replies/<int:reply_id>/delete"): EAST,
    # users and roles
    ("GET", "/console/users"): ADMINS, ("POST", "/console/users"): EAST,  # a grid worker for 东城
    ("POST", "/console/users/<int:user_id>/grants"): EAST, ("POST", "/console/grants/<int:grant_id>/revoke"): EAST,
    # statistics of 东城 (?area_id=)
    ("GET", "/console/stats"): EAST, ("GET", "/console/stats/chart/<name>.svg"): EAST,
    ("GET", "/console/stats/export.<fmt>"): EAST,
    # moderation: a praise held in 东城 (see the API matrix's world)
    ("GET", "/console/moderation"): ADMINS, ("POST", "/console/moderation/<int:hold_id>/decision"): EAST,
    # personal-data requests of portal residents: handled by the admins over the area of their records (东城)
    ("GET", "/console/privacy-requests"): ADMINS,
    ("GET", "/console/privacy-requests/<int:privacy_request_id>"): EAST,
    ("POST", "/console/privacy-requests/<int:privacy_request_id>/phone"): EAST,
    ("GET", "/console/privacy-requests/<int:privacy_request_id>/export.zip"): EAST,
    ("POST", "/console/privacy-requests/<int:privacy_request_id>/handle"): EAST,
    # points: each admin sees their own communities' pages; acting on 东城's objects is for 东城 (and above)
    ("GET", "/console/points"): ADMINS, ("POST", "/console/points/schemes"): EAST,
    ("POST", "/console/points/schemes/<int:scheme_id>/publish"): EAST,
    ("GET", "/console/points/applications"): ADMINS | {"grid_west1"},
    ("POST", "/console/points/applications/<int:application_id>/decision"): EAST,
    ("GET", "/console/points/shop"): ADMINS | {"grid_west1"}, ("POST", "/console/points/shop/items"): EAST,
    ("POST", "/console/points/shop/items/<int:shop_item_id>/restock"): EAST,
    ("POST", "/console/points/pickup"): EAST,  # the code of a 东城 reservation
    ("GET", "/console/points/rankings"): ADMINS,
    ("GET", "/console/points/evaluations"): ADMINS | {"grid_west1"}, ("POST", "/console/points/evaluations"): EAST,
    ("GET", "/console/points/evaluations/<int:evaluation_id>"): EAST,
    ("POST", "/console/points/evaluations/<int:evaluation_id>/<any(publish, finalise):step>"): EAST,
    ("POST", "/console/points/objections/<int:objection_id>/answer"): EAST,
    ("GET", "/console/points/cashouts"): ADMINS, ("POST", "/console/points/cashouts"): EAST,
    ("GET", "/console/points/cashouts/<int:cashout_id>.xlsx"): EAST,
    # 我要联系: the owner's message to 东城's grid worker, read and answered by the staff over 东城
    ("GET", "/console/messages"): STAFF, ("GET", "/console/messages/<int:thread_id>"): EAST,
    ("POST", "/console/messages/<int:thread_id>/phone"): EAST, ("POST", "/console/messages/<int:thread_id>/reply"): EAST,
    # maps and boundaries: a community's outline is the street's to draw (the form names 东城社区)
    ("GET", "/console/map"): CASE_STAFF - {"dept_wy"}, ("POST", "/console/map/boundary"): {"street_admin"},
    # the 12345 hotline and Open311 keys: admins over the area; a case is handed over by admins over it
    ("GET", "/console/integrations"): ADMINS, ("POST", "/console/integrations/open311"): EAST,
    ("POST", "/console/integrations/open311/<int:client_id>/revoke"): EAST,
    ("POST", "/console/integrations/hotline"): EAST, ("POST", "/console/cases/<int:case_id>/hotline"): EAST,
}

# Downloads: a file, not a page. Each must be in one of the two matrices.
CONSOLE_DOWNLOADS = {("GET", "/console/codes/<int:code_id>/image"), ("POST", "/console/codes/sheet"),
                     ("GET", "/console/cases/export.<fmt>"),
                     ("GET", "/console/points/cashouts/<int:cashout_id>.xlsx"),
                     ("GET", "/console/stats/chart/<name>.svg"), ("GET", "/console/stats/export.<fmt>"),
                     ("GET", "/console/proofs/<string:code>.pdf"),
                     ("GET", "/console/privacy-requests/<int:privacy_request_id>/export.zip")}
# Served outside both blueprints: static assets, and uploaded images at unguessable names.
OTHER_FILES = {"/portal-static/<path:filename>", "/static/<path:filename>", "/media/<path:filename>"}


def _console_routes(app) -> set[tuple[str, str]]:
    return {(method, rule.rule) for rule in app.url_map.iter_rules() if rule.endpoint.startswith("console.")
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_the_console_matrix_lists_every_route(app):
    routes = _console_routes(app)
    assert routes - set(MATRIX) == set(), "add the new console routes to MATRIX"
    assert set(MATRIX) - routes == set(), "MATRIX lists console routes that no longer exist"


def test_every_download_is_in_a_matrix(app):
    assert CONSOLE_DOWNLOADS <= set(MATRIX)
    files = re.compile(r"\.(<fmt>|csv|xlsx|pdf|png|svg)$|/image$|/sheet$|/file$|<path:")
    for rule in app.url_map.iter_rules():
        if not files.search(rule.rule):
            continue
        if rule.endpoint.startswith("console."):
            assert {(m, rule.rule) for m in rule.methods - {"HEAD", "OPTIONS"}} <= CONSOLE_DOWNLOADS, rule.rule
        elif rule.rule.startswith("/mp/v1/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/mp/v1"))
            path = re.sub(r"\{(\w+)\}$", r"{\1}", path)
            if "openapi" in path or "docs" in path:
                continue
            assert any(op[1] == path for op in API_MATRIX), f"download {rule.rule} is not in the API matrix"
        else:
            assert rule.rule in OTHER_FILES, f"a new download outside the matrices: {rule.rule}"


@pytest.fixture
def console_world(app, world, areas):  # noqa: F811 - the fixture imported above
    from app.accounts.models import RoleGrant, User

    grid_east2 = db.session.scalar(select(User).where(User.username == "grid_east2"))
    grant = db.session.scalar(select(RoleGrant).where(RoleGrant.user_id == grid_east2.id))
    clients = {"anonymous": Console(app.test_client()), "resident": Console(app.test_client(), "member_east")}
    clients["anonymous"].token_from("/console/login")
    for name in ("east_admin", "west_admin", "grid_west1", "dept_wy", "street_admin"):
        clients[name] = Console(app.test_client(), name)
    from app.volunteering.models import Enrollment

    enrolled = db.session.scalar(select(Enrollment.user_id).where(Enrollment.activity_id == world["activity"].id))
    assert enrolled is not None, "the demo activity should have someone enrolled"
    world["activity"].fallback_code_enabled = True  # so its printable paper code can be opened
    db.session.commit()
    privacy_request = _privacy_request(world)
    from app.points.models import Redemption

    pickup_code = db.session.scalar(select(Redemption.code).where(Redemption.area_path == areas["东城社区"].path))
    assert pickup_code, "the demo should have a reservation in 东城's points supermarket"
    client_id, platform_id = _integrations(areas["东城社区"])
    params = {**world["params"], "pickup_code": pickup_code, "step": "publish", "enrolled_id": enrolled,
              "privacy_request_id": privacy_request.id, "client_id": client_id, "user_id": grid_east2.id,
              "grant_id": grant.id, "action": "disable", "name": "status", "fmt": "csv"}
    return {"clients": clients, "params": params, "east": areas["东城社区"], "grid": areas["东城社区第一网格"],
            "platform_id": platform_id}


def _integrations(east) -> tuple[int, int]:
    """An Open311 key and a hotline platform of 东城 (the hotline's address refuses connections at once)."""
    from app.accounts.models import User
    from app.accounts.service import actor_for
    from app.hotline import service as hotline
    from app.open311 import service as open311

    admin = actor_for(db.session.scalar(select(User).where(User.username == "east_admin")))
    client, _ = open311.issue_client(admin, name="矩阵平台", area_id=east.id)
    platform = hotline.configure_platform(admin, area_id=east.id, name="矩阵热线", endpoint="http://127.0.0.1:9/x",
                                          secret="matrix-secret-0123456789")
    db.session.flush()
    return client.id, platform.id


def _privacy_request(objects):
    """A portal resident's request about their data, in 东城 (where the owner's case is)."""
    from datetime import timedelta

    from app.accounts.models import User
    from app.cases.models import Case
    from app.core.time import utcnow
    from app.privacy.models import PrivacyRequest

    owner = db.session.scalar(select(User).where(User.openid == "o_matrix_owner"))
    case = db.session.get(Case, objects["params"]["case_id"])
    found = PrivacyRequest(user_id=owner.id, kind="correction", detail="称呼写错了", area_path=case.area_path,
                           due_at=utcnow() + timedelta(days=15))
    db.session.add(found)
    db.session.flush()
    return found


def _form(rule: str, cw) -> dict:
    p, east, grid = cw["params"], cw["east"], cw["grid"]
    forms = {
        "/console/activities": {"title": "矩阵活动", "community_id": east.id, "capacity": 5,
                                "starts_at": "2027-03-01T09:00", "ends_at": "2027-03-01T11:00"},
        "/console/activities/<int:activity_id>": {"user_id": p["enrolled_id"], "action": "absent", "reason": "未到"},
        "/console/activities/<int:activity_id>/check-in-rules": {"fallback_code_enabled": "on"},
        "/console/proofs/policy/<int:area_id>": {"auto_issue": "on"},
        "/console/cases/<int:case_id>/actions": {"action": "accept", "note": "已受理"},
        "/console/wishes/<int:wish_id>/actions": {"action": "approve"},
        "/console/members/<int:member_id>/actions": {"action": "approve"},
        "/console/hours/<int:entry_id>/actions": {"action": "approve"},
        "/console/hours/<int:entry_id>/correct": {"hours": "1.5", "reason": "矩阵更正"},
        "/console/corrections/<int:request_id>/decline": {"answer": "记录无误"},
        "/console/suggestions/<int:suggestion_id>/actions": {"action": "accept"},
        "/console/codes/issue": {"area_id": east.id},
        "/console/map/boundary": {"area_id": east.id, "geojson": (io.BytesIO(json.dumps({"type": "Polygon", "coordinates": [
            [[112.33, 36.49], [112.35, 36.49], [112.35, 36.51], [112.33, 36.51], [112.33, 36.49]]]}).encode()),
            "east.geojson")},
        "/console/integrations/open311": {"name": "矩阵 12345", "area_id": east.id},
        "/console/integrations/hotline": {"name": "矩阵 12345", "area_id": east.id, "endpoint": "https://hotline.example/gz",
                                          "secret": "matrix-secret-0123456789"},
        "/console/cases/<int:case_id>/hotline": {"platform_id": cw["platform_id"], "note": "矩阵移交"},
        "/console/codes/sheet": {"ids": p["code_id"], "kind": "qrcode"},
        "/console/categories": {"name": "矩阵类别", "accept_hours": 24, "handle_hours": 72},
        "/console/categories/<int:category_id>": {"accept_hours": 24, "handle_hours": 72, "active": "1"},
        "/console/categories/<int:category_id>/replies": {"title": "矩阵模板", "body": "您好"},
        "/console/users": {"username": "matrix_grid", "password": "gongzhi-demo-1", "display_name": "矩阵网格员",
                           "role": "grid_worker", "area_id": grid.id},
        "/console/users/<int:user_id>/grants": {"role": "grid_worker", "area_id": grid.id},
        "/console/login": {"username": "nobody", "password": "wrong"},
        "/console/moderation/<int:hold_id>/decision": {"action": "hide", "reason": "矩阵隐藏"},
        "/console/privacy-requests/<int:privacy_request_id>/handle": {"outcome": "done", "answer": "已致电核实并更正"},
        "/console/points/schemes": {"community_id": east.id, "title": "矩阵方案", "code": "B01", "name": "矩阵项目",
                                    "points": "1", "kind": "applied", "source": "", "monthly_cap": "",
                                    "approver_role": "community_admin"},
        "/console/points/applications/<int:application_id>/decision": {"approve": "1"},
        "/console/points/shop/items": {"community_id": east.id, "name": "矩阵商品", "price": "1", "stock": "1"},
        "/console/points/shop/items/<int:shop_item_id>/restock": {"add": "1"},
        "/console/points/pickup": {"code": p["pickup_code"]},
        "/console/points/evaluations": {"community_id": east.id, "period": "2026-01"},
        "/console/points/objections/<int:objection_id>/answer": {"uphold": "0", "answer": "矩阵答复"},
        "/console/points/cashouts": {"community_id": east.id, "year": "2025", "income": "1000"},
        "/console/targets": {"community_id": east.id, "year": 2026, "services": 4},
        "/console/groups/workers/<int:worker_id>/actions": {"action": "approve"},
        "/console/posts": {"community_id": east.id, "kind": "policy", "duties": "宣传防诈骗知识", "places": 2},
        "/console/claims/<int:claim_id>/actions": {"action": "approve"},
        "/console/messages/<int:thread_id>/reply": {"body": "您好，已收到，明天上午处理。"},
    }
    return forms.get(rule, {})


QUERIES = {"/console/stats": "area_id={area_id}", "/console/targets": "community_id={area_id}", "/console/stats/chart/<name>.svg": "area_id={area_id}",
           "/console/stats/export.<fmt>": "area_id={area_id}"}


def _url(rule: str, params: dict) -> str:
    if "/pledges/" in rule:  # pledges belong to the world's goods wish
        params = {**params, "wish_id": params["goods_wish_id"]}
    url = re.sub(r"<(?:[^:>]+:)?(\w+)>", lambda m: str(params[m.group(1)]), rule)
    return url + ("?" + QUERIES[rule].format(**params) if rule in QUERIES else "")


@pytest.fixture
def refusals(monkeypatch):
    """The domain errors the console's forms answered with (they flash a message and redirect)."""
    seen: list[DomainError] = []
    original = web.attempt

    def recording(call, *args, success=None, **kwargs):
        def run(*a, **k):
            try:
                return call(*a, **k)
            except DomainError as exc:
                seen.append(exc)
                raise
        return original(run, *args, success=success, **kwargs)

    monkeypatch.setattr(web, "attempt", recording)
    return seen


def _outcome(res, errors: list[DomainError], flashes) -> str:
    """"refused", "passed" or "leaked" (a refusal that talks about the object instead of the caller)."""
    location = res.headers.get("Location", "")
    if res.status_code in (401, 403, 404) or (res.status_code == 302 and "/console/login" in location):
        return "refused"
    if errors:
        permission = all(e.status_code in (401, 403, 404) for e in errors)
        succeeded = any(kind == "success" for kind, _ in flashes)
        return "refused" if permission and not succeeded else "passed-with-error"
    return "passed"


# Routes that remove their object: once an allowed role has removed it, the next one finds nothing.
REMOVING = {("POST", "/console/grants/<int:grant_id>/revoke"), ("POST", "/console/replies/<int:reply_id>/delete")}
OBJECT_ROUTES = sorted(k for k in MATRIX if k not in {("GET", "/console/login"), ("POST", "/console/login"),
                                                        ("POST", "/console/logout")})


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=[f"{m} {r}" for m, r in OBJECT_ROUTES])
def test_console_routes_allow_exactly_the_table(console_world, refusals, route):
    method, rule = route
    allowed = MATRIX[route]
    url = _url(rule, console_world["params"])
    leaks, denied, removed = [], [], False
    # Denied roles first, so a destructive call by an allowed role cannot hide a leak.
    for role in sorted(ROLES, key=lambda r: r in allowed):
        client = console_world["clients"][role]
        refusals.clear()
        client.flashes()
        res = client.get(url) if method == "GET" else client.post(url, data=_form(rule, console_world))
        assert res.status_code < 500, (role, route, res.get_data(as_text=True)[:300])
        outcome = _outcome(res, list(refusals), client.flashes())
        if role in allowed and outcome == "refused" and not (route in REMOVING and removed):
            denied.append((role, res.status_code, [e.message for e in refusals]))
        removed = removed or (role in allowed and outcome == "passed")
        if role not in allowed and outcome != "refused":
            leaks.append((role, res.status_code, [e.message for e in refusals]))
    assert leaks == [], f"{method} {rule} let through roles the table denies: {leaks}"
    assert denied == [], f"{method} {rule} refused roles the table allows: {denied}"


def test_signing_in_and_out_is_open_to_everyone(app):
    anonymous = Console(app.test_client())
    anonymous.token_from("/console/login")
    assert anonymous.get("/console/login").status_code == 200
    assert anonymous.post("/console/login", data={"username": "nobody", "password": "wrong"}).status_code == 401
    assert anonymous.post("/console/logout").status_code == 302


# Every console write and every console download leaves an audit row naming the act the service declared
# (the same act the API's twin of the route records), the staff member and the address.
# Downloads of records (exports, workbooks, proofs) are audited; a code's image or a chart carries no record.
# (A route no staff role may use on 东城's objects has nothing to audit here.)
AUDITED = sorted(k for k in OBJECT_ROUTES if (k[0] == "POST" or (k in CONSOLE_DOWNLOADS and is_export(k[1])))
                 and MATRIX[k] & STAFF)
# Forms that succeed on the matrix's objects (the matrix's own forms only need to get past authorization).
AUDIT_FORMS = {
    "/console/hours/<int:entry_id>/actions": {"action": "reject", "reason": "核对后不予认定"},
    "/console/activities/<int:activity_id>": {"user_id": "{pending_volunteer}", "action": "absent", "reason": "未到"},
}


def _points_setup(rule: str, cw, params: dict) -> dict:
    """For the points routes: objects in the state the route acts on (a draft scheme, a draft evaluation made
    by another admin), and a form that succeeds. Returns the form, or {} for routes that need nothing."""
    from app.accounts.models import User
    from app.accounts.service import actor_for
    from app.demo_points import INDICATORS, ITEMS
    from app.points import evaluation as evaluations
    from app.points import service as points
    from app.points.models import Household

    east = cw["east"]
    street = actor_for(db.session.scalar(select(User).where(User.username == "street_admin")))
    household = db.session.scalar(select(Household).where(Household.community_id == east.id).order_by(Household.id))
    marks = {f"s-{household.id}-{i['code']}": str(i["weight"] // 2) for i in INDICATORS}
    if rule == "/console/points/schemes/<int:scheme_id>/publish":
        draft = points.create_scheme(street, community_id=east.id, title="第二版方案", items=ITEMS, indicators=INDICATORS)
        params["scheme_id"] = draft.id
    elif rule == "/console/points/evaluations/<int:evaluation_id>/<any(publish, finalise):step>":
        draft = evaluations.create_evaluation(street, community_id=east.id, period="2026-06", scores=[
            {"household_id": household.id, "scores": {i["code"]: i["weight"] // 2 for i in INDICATORS}}])
        params["evaluation_id"], params["step"] = draft.id, "publish"
    elif rule == "/console/points/evaluations":
        return {"community_id": east.id, "period": "2026-07", "household_id": household.id, **marks}
    elif rule == "/console/points/cashouts":  # the API matrix's world computed this year's: compute it again
        from app.points.models import Cashout

        for done in db.session.scalars(select(Cashout).where(Cashout.community_id == east.id)):
            db.session.delete(done)
        db.session.flush()
        return {"community_id": east.id, "year": str(points.local_today().year), "income": "1000"}
    return {}


def _pending_registration(cw) -> int:
    """A party member's registration in 东城 still waiting for review."""
    from app.accounts.models import User
    from app.accounts.service import actor_for
    from app.members import service as members

    user = User(openid="audit-matrix-member", display_name="待审党员")
    db.session.add(user)
    db.session.flush()
    return members.register(actor_for(user), name="王建华", org_name="县供电公司", community_id=cw["east"].id)["id"]


def _pending_volunteer(cw) -> int:
    """Someone enrolled in 东城's demo activity whose hours nobody has decided yet."""
    from app.accounts.models import User
    from app.volunteering.models import Enrollment
    from app.volunteering.states import ENROLLED

    user = User(openid="audit-matrix-volunteer", display_name="志愿者")
    db.session.add(user)
    db.session.flush()
    db.session.add(Enrollment(activity_id=cw["params"]["activity_id"], user_id=user.id, status=ENROLLED,
                              position=1000))
    db.session.flush()
    return user.id


@pytest.mark.parametrize("route", AUDITED, ids=[f"{m} {r}" for m, r in AUDITED])
def test_every_console_write_and_download_is_audited_with_its_act(console_world, refusals, route):
    from app.accounts.models import User
    from app.core.audit import AuditLog

    method, rule = route
    role = sorted(MATRIX[route] & STAFF)[0]
    client = console_world["clients"][role]
    params = dict(console_world["params"])
    if rule == "/console/members/<int:member_id>/actions":
        params["member_id"] = _pending_registration(console_world)
    form = {k: (str(_pending_volunteer(console_world)) if v == "{pending_volunteer}" else v)
            for k, v in AUDIT_FORMS.get(rule, _form(rule, console_world)).items()}
    if rule.startswith("/console/points/"):
        form = _points_setup(rule, console_world, params) or form
    url = _url(rule, params)
    before = db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1)) or 0
    res = client.get(url) if method == "GET" else client.post(url, data=form)
    assert res.status_code < 500, res.get_data(as_text=True)[:300]
    assert _outcome(res, list(refusals), client.flashes()) == "passed", (role, route, [e.message for e in refusals])
    rows = list(db.session.scalars(select(AuditLog).where(AuditLog.id > before)))
    staff_id = db.session.scalar(select(User.id).where(User.username == role))
    assert [(r.actor_id, r.method, r.path.split("?")[0]) for r in rows] == [(staff_id, method, url.split("?")[0])]
    assert not rows[0].action.startswith("console."), f"{rule}: the service declares no act (audit.act)"
