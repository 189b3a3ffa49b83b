"""The one request edge, written as the attacks of the independent probe (issue 26: findings 7, 8, 9, 12)
and as the rules both doors must share (issue 19: audit, sessions, commit once)."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import Flask, g, request
from sqlalchemy import select

from app.core.time import travel
from app.demo import DEMO_PASSWORD
from app.extensions import db

SIGN_IN_FAILED = "用户名或密码错误。"


def _password(client, username, password, addr="10.9.0.1"):
    return client.post("/mp/v1/auth/password", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": addr})


# -- finding 9: username enumeration and lockout as denial of service -----------------------------

def test_a_real_and_an_unknown_username_fail_alike(client):
    real = _password(client, "west_admin", "wrong")
    unknown = _password(client, "no_such_user", "wrong")
    assert real.status_code == unknown.status_code == 401
    assert real.get_json()["message"] == unknown.get_json()["message"] == SIGN_IN_FAILED


def test_failures_slow_the_guesser_down_without_locking_the_account(client, app):
    free = app.config["LOGIN_FREE_FAILURES"]
    for _ in range(free):
        assert _password(client, "west_admin", "wrong").status_code == 401
    # The next try right away waits, with the right password too, and says how long.
    waiting = _password(client, "west_admin", DEMO_PASSWORD)
    assert waiting.status_code == 429
    assert re.search(r"请 \d+ 秒后再试", waiting.get_json()["message"])
    # An unknown username is throttled in exactly the same way.
    for _ in range(free):
        _password(client, "ghost_user", "wrong")
    assert _password(client, "ghost_user", "wrong").get_json()["message"] == waiting.get_json()["message"]
    # The wait doubles with each further failure (1 s, then 2 s) ...
    travel(timedelta(seconds=1.5))
    assert _password(client, "west_admin", "wrong").status_code == 401
    travel(timedelta(seconds=1.5))
    assert _password(client, "west_admin", DEMO_PASSWORD).status_code == 429
    # ... and the account itself is never locked: the admin signs in from their own machine at once,
    travel(timedelta(seconds=1))
    assert _password(client, "west_admin", DEMO_PASSWORD, addr="10.9.0.2").status_code == 200
    # and from the guesser's address once the wait is over.
    assert _password(client, "west_admin", DEMO_PASSWORD).status_code == 200


def test_the_console_sign_in_answers_like_the_api(client):
    page = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    bodies = []
    for username in ("west_admin", "no_such_user"):
        res = client.post("/console/login", data={"username": username, "password": "wrong", "csrf_token": token})
        assert res.status_code == 401
        bodies.append(res.get_data(as_text=True))
    assert all(SIGN_IN_FAILED in body for body in bodies)
    assert "还可尝试" not in "".join(bodies)
    assert "将锁定" not in page.get_data(as_text=True)  # the page no longer promises a lockout


# -- finding 7: a login token replayed to another client ------------------------------------------

def test_sign_in_answers_are_never_stored_or_replayed(client, fake_wechat):
    from app.core.idempotency import IdempotencyRecord

    key = {"Idempotency-Key": "shared-by-everyone-behind-nginx"}
    first = client.post("/mp/v1/auth/password", json={"username": "east_admin", "password": DEMO_PASSWORD},
                        headers=key)
    assert first.status_code == 200
    # Another person behind the same proxy, same key, wrong password: no token for them.
    other = client.post("/mp/v1/auth/password", json={"username": "east_admin", "password": "guess"},
                        headers=key)
    assert other.status_code == 401 and "access_token" not in other.get_json()
    code = fake_wechat.issue_code()
    assert client.post("/mp/v1/auth/login", json={"code": code}, headers=key).status_code == 200
    assert client.post("/mp/v1/auth/login", json={"code": code}, headers=key).status_code == 401
    assert db.session.scalar(select(IdempotencyRecord.id)) is None


# -- finding 12: idempotency keys bound to their request ------------------------------------------

def _wish(areas, title: str) -> dict:
    from app.wishes.models import CATEGORIES

    return {"title": title, "detail": f"希望有人帮忙{title}。", "category": next(iter(CATEGORIES)),
            "desired_date": (date.today() + timedelta(days=7)).isoformat(), "community_id": areas["东城社区"].id,
            "contact_phone": "13912345678", "address": "东城小区1号楼302"}


def test_a_key_replays_only_the_request_it_was_first_used_for(login, areas):
    from app.core.idempotency import IdempotencyRecord

    resident = login.resident()
    key = {"Idempotency-Key": "wish-1"}
    wish = _wish(areas, "帮忙修理轮椅")
    first = resident.post("/wishes", json=wish, headers=key)
    assert first.status_code == 201, first.get_json()
    again = resident.post("/wishes", json=wish, headers=key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    # The same key on another operation, or with another body, is refused instead of answered.
    other_path = resident.post("/suggestions", json={"title": "建议", "body": "建议增设路灯。"}, headers=key)
    assert other_path.status_code == 422 and "Idempotency-Key" in other_path.get_json()["message"]
    other_body = resident.post("/wishes", json={**wish, "title": "另一个心愿"}, headers=key)
    assert other_body.status_code == 422
    # The kept answer (phone and address included) is not stored in clear.
    stored = db.session.scalar(select(IdempotencyRecord.body))
    assert "13912345678" not in stored and "1号楼302" not in stored


# -- finding 8: rate limits and the audit log behind the documented nginx ---------------------------

def _address_app(trusted: str) -> Flask:
    from app.edge import TrustedProxies, parse_networks

    app = Flask("probe")
    app.get("/ip")(lambda: request.remote_addr)
    app.wsgi_app = TrustedProxies(app.wsgi_app, parse_networks(trusted))
    return app


def test_the_client_address_comes_from_trusted_proxies_only():
    client = _address_app("127.0.0.1, 10.0.0.0/8").test_client()
    via_nginx = client.get("/ip", headers={"X-Forwarded-For": "203.0.113.7"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert via_nginx.get_data(as_text=True) == "203.0.113.7"
    # A client talking to the app directly cannot choose its own address.
    direct = client.get("/ip", headers={"X-Forwarded-For": "203.0.113.7"}, environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert direct.get_data(as_text=True) == "198.51.100.9"
    # Only the address nginx appended counts, not what the client wrote before it.
    spoofed = client.get("/ip", headers={"X-Forwarded-For": "1.2.3.4, 203.0.113.8"},
                         environ_base={"REMOTE_ADDR": "10.1.1.1"})
    assert spoofed.get_data(as_text=True) == "203.0.113.8"


@pytest.mark.own_app
def test_behind_nginx_each_client_has_its_own_sign_in_budget(workdir):
    from app import create_app

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'proxied.sqlite3'}",
        "INSTANCE_DIR": str(workdir), "MEDIA_DIR": str(workdir / "media"),
        "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://", "TRUSTED_PROXIES": "127.0.0.1",
        "WECHAT_APPID": None, "WECHAT_SECRET": None,
    })
    with app.app_context():
        db.create_all(bind_key=None)
    client = app.test_client()

    def attempt(ip, i):
        return client.post("/mp/v1/auth/password", json={"username": f"u{i}", "password": "x"},
                           headers={"X-Forwarded-For": ip}, environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code

    assert [attempt("203.0.113.1", i) for i in range(11)][-1] == 429
    assert attempt("203.0.113.2", 99) == 401  # another resident behind the same nginx is not limited
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_audit_log_keeps_the_proxied_address_not_a_header(login, areas):
    from app.core.audit import AuditLog

    east = login("east_admin")
    res = east.post("/admin/places", json={"grid_id": areas["东城社区第一网格"].id, "name": "审计二号楼",
                                          "kind": "building"},
                    headers={"X-Real-IP": "6.6.6.6"}, environ_base={"REMOTE_ADDR": "10.1.2.4"})
    assert res.status_code == 201
    assert db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first().ip == "10.1.2.4"


# -- hardening: no caching of answers about people ------------------------------------------------

def test_api_answers_and_console_pages_are_never_cached(login, client):
    assert login("east_admin").get("/me").headers["Cache-Control"] == "no-store"
    assert client.get("/console/login").headers["Cache-Control"] == "no-store"


# -- one edge: the console keeps the API's rules ---------------------------------------------------

class Console:
    """The console through its forms, as a browser would use it (CSRF token included)."""

    def __init__(self, client, username):
        self.client = client
        page = client.get("/console/login").get_data(as_text=True)
        self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        res = client.post("/console/login", data={"username": username, "password": DEMO_PASSWORD,
                                                   "csrf_token": self.csrf})
        assert res.status_code == 302, res.get_data(as_text=True)
        # Signing in starts a new session, with a CSRF token of its own. (Flask-WTF caches the token
        # in `g`, which the tests' pushed app context keeps from one request to the next.)
        g.pop("csrf_token", None)
        page = client.get("/console/").get_data(as_text=True)
        self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def post(self, path, **data):
        return self.client.post(path, data={**data, "csrf_token": self.csrf})


def test_the_console_cookie_holds_no_bearer_token(client, app):
    from app.accounts.models import AuthSession

    Console(client, "east_admin")
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    payload = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    assert set(payload) <= {"sid", "csrf_token", "_flashes", "_permanent"}
    # The id is opaque: it opens no API door.
    assert client.get("/mp/v1/me", headers={"Authorization": f"Bearer {payload['sid']}"}).status_code == 401
    assert db.session.scalar(select(AuthSession.client).where(AuthSession.token_id == payload["sid"])) == "console"


def test_an_idle_console_session_ends(client, app):
    Console(client, "east_admin")
    assert client.get("/console/").status_code == 200
    travel(timedelta(seconds=app.config["CONSOLE_IDLE_SECONDS"] - 60))
    assert client.get("/console/").status_code == 200  # activity keeps it open
    travel(timedelta(seconds=app.config["CONSOLE_IDLE_SECONDS"] + 1))
    res = client.get("/console/")
    assert res.status_code == 302 and "/console/login" in res.headers["Location"]
    travel(timedelta(seconds=1))
    assert client.get("/console/").status_code == 302  # ended for good, not revived


def test_a_console_write_is_audited_with_the_same_act_as_the_api(client, login, areas):
    from app.core.audit import AuditLog
    from app.wishes.models import Wish

    def last_audit():
        return db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()

    resident = login.resident()
    ids = []
    for title in ("修理轮椅", "代买药品"):
        res = resident.post("/wishes", json=_wish(areas, title))
        assert res.status_code == 201, res.get_json()
        ids.append(res.get_json()["id"])
    api = login("east_admin").post(f"/wishes/{ids[0]}/transitions", json={"action": "approve"})
    assert api.status_code == 200, api.get_json()
    api_row = last_audit()
    console = Console(client, "east_admin")
    res = console.post(f"/console/wishes/{ids[1]}/actions", action="approve")
    assert res.status_code in (200, 302)
    assert db.session.get(Wish, ids[1]).status == db.session.get(Wish, ids[0]).status
    console_row = last_audit()
    assert console_row.id != api_row.id
    assert console_row.action == api_row.action == "wish.approve"
    assert console_row.actor_id == api_row.actor_id
    assert [a["act"] for a in console_row.detail["acts"]] == [a["act"] for a in api_row.detail["acts"]]
    assert {a["id"] for a in console_row.detail["acts"]} == {ids[1]}


def test_a_staff_account_made_in_the_console_is_audited(client, areas):
    from app.accounts.models import User
    from app.core.audit import AuditLog

    console = Console(client, "east_admin")
    res = console.post("/console/users", username="new_grid", password="a-long-password", display_name="新网格员",
                       role="grid_worker", area_id=str(areas["东城社区第一网格"].id))
    assert res.status_code in (200, 302)
    user = db.session.scalar(select(User).where(User.username == "new_grid"))
    assert user is not None
    row = db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert row.action == "accounts.create_user" and row.path == "/console/users"
    assert {"act": "accounts.grant_role", "user_id": user.id, "role": "grid_worker",
            "area_id": areas["东城社区第一网格"].id, "department_id": None} in row.detail["acts"]


def test_a_failed_console_act_is_neither_committed_nor_audited(client, areas):
    from app.accounts.models import User
    from app.core.audit import AuditLog

    console = Console(client, "east_admin")
    before = db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1))
    res = console.post("/console/users", username="short_pw", password="short", display_name="x",
                       role="grid_worker", area_id=str(areas["东城社区第一网格"].id))
    assert "密码至少 8 位" in res.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == "short_pw")) is None
    assert db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1)) == before


def test_reading_a_wish_contact_in_clear_is_audited(login, areas):
    from app.core.audit import AuditLog

    resident = login.resident()
    wish = resident.post("/wishes", json=_wish(areas, "代买药品"))
    wish_id = wish.get_json()["id"]
    east = login("east_admin")
    detail = east.get(f"/wishes/{wish_id}").get_json()
    assert detail["contact"]["phone"] == "13912345678"
    row = db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert row.action == "personal.read_contact" and row.method == "GET"
    requester = resident.get("/me").get_json()["id"]
    # who (the actor), whose, when (the row's time) and why
    assert row.detail["acts"] == [{"act": "personal.read_contact", "subject": "wish", "id": wish_id,
                                   "user_id": requester, "reason": "办理微心愿（上门服务）"}]
