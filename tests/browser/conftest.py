"""A live server on loopback with its own committed database, and Debian's chromium via playwright.

Screenshots of every page visited go to test-artifacts/screenshots/ (see the README).
"""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from tests.conftest import DATABASE_URL, IN_CI, ON_POSTGRES

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        return
    if IN_CI:
        raise pytest.UsageError(f"CI=true requires chromium at {CHROMIUM} for the browser tests.")
    skip = pytest.mark.skip(reason=f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(skip)


def _browser_database(workdir: Path) -> str:
    if not ON_POSTGRES:
        return f"sqlite:///{workdir / 'browser.sqlite3'}"
    base, _, _name = DATABASE_URL.rpartition("/")
    admin = create_engine(f"{base}/postgres".replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    name = f"{_name or 'gongzhi'}_browser"  # beside the test database, so parallel runs never share it
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def live_server(fake_wechat, workdir):
    from app import create_app
    from app.core import uow
    from app.demo import seed_demo
    from app.extensions import db

    media = workdir / "browser-media"
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": _browser_database(workdir),
        "REDIS_URL": None,
        "WECHAT_APPID": None,
        "WECHAT_SECRET": None,
        "INSTANCE_DIR": str(workdir),
        "MEDIA_DIR": str(media),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SECRET_KEY": "browser-test-secret",
        # Several people sign in within a minute here; tests/api/test_limits.py covers the limits.
        "RATELIMIT_ENABLED": False,
    })
    with app.app_context():
        db.create_all(bind_key=None)
        seed_demo(history=False)
        uow.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
        ])
        yield chromium
        chromium.close()


class Shots:
    def __init__(self, page):
        self.page = page

    def __call__(self, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def page_factory(browser, live_server):
    """page_factory(width) → (page, base_url, shot): a fresh browser context per person."""
    contexts = []
    _app, base = live_server

    def make(width: int = 1280, height: int = 900, mobile: bool = False, bypass_csp: bool = False):
        # bypass_csp: the accessibility test injects axe-core as a script the pages' CSP would refuse.
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                      is_mobile=mobile, has_touch=mobile, bypass_csp=bypass_csp)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.js_errors = errors
        return page, base, Shots(page)

    yield make
    for context in contexts:
        context.close()
