"""Test fixtures: one schema per session (built by the migrations), one rolled-back transaction per test.

SQLite by default; PostgreSQL when DATABASE_URL says so. Tests marked `postgres` need real
concurrent connections: they commit for real, and the database is reset after each one.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import scoped_session, sessionmaker

from tests.fake_wechat import APPID, SECRET, FakeWeChat

DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith(("postgres://", "postgresql"))
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(config, items):
    if ON_POSTGRES:
        return
    if IN_CI:
        raise pytest.UsageError("CI=true requires DATABASE_URL to point at PostgreSQL: postgres tests must run.")
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgresql://...")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def fake_wechat():
    server = FakeWeChat().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def workdir():
    with tempfile.TemporaryDirectory(prefix="gongzhi-test-") as tmp:
        yield Path(tmp)


@pytest.fixture(scope="session")
def app(fake_wechat, workdir):
    from app import create_app
    from app.extensions import db

    url = DATABASE_URL or f"sqlite:///{workdir / 'test.sqlite3'}"
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "REDIS_URL": None,
        "WECHAT_APPID": APPID,
        "WECHAT_SECRET": SECRET,
        "WECHAT_API_BASE_URL": fake_wechat.base_url,
        "WECHAT_TIMEOUT": 2,
        "INSTANCE_DIR": str(workdir),
        "MEDIA_DIR": str(workdir / "media"),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SECRET_KEY": "test-secret",
        "RATELIMIT_ENABLED": False,  # tests/api/test_limits.py builds an app with limits on
    })
    with app.app_context():
        _build_schema(app)
        _seed()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _build_schema(app) -> None:
    """Drop everything and build the schema from the models.

    tests/unit/test_migrations.py proves the migrations build this same schema, and CI runs
    `flask db upgrade` + `flask db check` on an empty PostgreSQL database.
    """
    from app.extensions import db

    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        db.drop_all(bind_key=None)
    db.create_all(bind_key=None)


def _seed() -> None:
    from app.core import uow
    from app.demo import seed_demo

    seed_demo(history=False)
    uow.commit()


def _reset_database(app) -> None:
    from app.extensions import db

    with app.app_context():
        db.session.remove()
        tables = [t.name for t in db.metadata.sorted_tables]
        with db.engine.begin() as conn:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        _seed()
        db.session.remove()


@pytest.fixture(autouse=True)
def _isolation(request, app, fake_wechat):
    """Each test in one transaction, rolled back; `postgres` tests commit and reset afterwards."""
    from app.core.time import reset_clock
    from app.extensions import db

    fake_wechat.reset()
    app.extensions.pop("gongzhi.wechat", None)
    if "browser" in request.keywords or "own_app" in request.keywords:
        # These tests run an app with a database of its own, which must see the real session.
        yield
        reset_clock()
        return
    if "postgres" in request.keywords:
        yield
        reset_clock()
        _reset_database(app)
        return
    ctx = app.app_context()
    ctx.push()
    connection = db.engine.connect()
    outer = connection.begin()
    original = db.session
    db.session = scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
    try:
        yield
    finally:
        db.session.remove()
        db.session = original
        outer.rollback()
        connection.close()
        reset_clock()
        ctx.pop()


@pytest.fixture
def client(app):
    return app.test_client()


class Api:
    """A small client for the JSON API that remembers who is logged in."""

    def __init__(self, client, token: str | None = None):
        self.client = client
        self.token = token

    def headers(self, extra=None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def get(self, path, **kwargs):
        return self.client.get("/mp/v1" + path, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.client.post("/mp/v1" + path, json=json, headers=self.headers(kwargs.pop("headers", None)),
                                **kwargs)

    def patch(self, path, json=None, **kwargs):
        return self.client.patch("/mp/v1" + path, json=json, headers=self.headers(kwargs.pop("headers", None)),
                                 **kwargs)


@pytest.fixture
def login(client, fake_wechat):
    """login("east_admin") → Api as that demo staff account; login.resident() → a new WeChat user."""
    from app.demo import DEMO_PASSWORD

    def staff(username: str) -> Api:
        res = client.post("/mp/v1/auth/password", json={"username": username, "password": DEMO_PASSWORD})
        assert res.status_code == 200, res.get_json()
        return Api(client, res.get_json()["access_token"])

    def resident(openid: str | None = None) -> Api:
        code = fake_wechat.issue_code(openid=openid)
        res = client.post("/mp/v1/auth/login", json={"code": code})
        assert res.status_code == 200, res.get_json()
        return Api(client, res.get_json()["access_token"])

    staff.resident = resident
    staff.anonymous = lambda: Api(client)
    return staff


@pytest.fixture
def areas():
    """The demo areas by name."""
    from sqlalchemy import select

    from app.areas.models import Area
    from app.extensions import db

    return {a.name: a for a in db.session.scalars(select(Area))}
