"""Abuse limits: an exceeded limit is a 429 with a Chinese message, per caller."""
import pytest

pytestmark = pytest.mark.own_app


@pytest.fixture
def limited_app(workdir, fake_wechat):
    from app import create_app
    from app.extensions import db

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'limits.sqlite3'}",
        "INSTANCE_DIR": str(workdir), "MEDIA_DIR": str(workdir / "media"),
        "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
        "WECHAT_APPID": None, "WECHAT_SECRET": None,
    })
    with app.app_context():
        db.create_all(bind_key=None)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_login_is_limited_with_a_chinese_429(limited_app):
    client = limited_app.test_client()
    # a new username each time: the per-username sign-in throttle is not what this test is about
    statuses = [client.post("/mp/v1/auth/password", json={"username": f"nobody{i}", "password": "x"}).status_code
                for i in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    res = client.post("/mp/v1/auth/password", json={"username": "nobody", "password": "x"})
    assert res.status_code == 429
    assert res.get_json()["message"] == "操作过于频繁，请稍后再试。"
    assert res.headers.get("Retry-After")
    # another caller is not affected
    other = client.post("/mp/v1/auth/password", json={"username": "nobody", "password": "x"},
                        environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert other.status_code == 401


def test_every_abuse_prone_endpoint_has_a_limit(limited_app):
    from app.core.limits import RULES

    rules = {r.rule for r in limited_app.url_map.iter_rules()}
    import re

    for pattern, _method, _limit in RULES:
        if pattern.startswith("^/mp/v1/auth"):
            assert any(re.match(pattern, r) for r in rules), pattern


@pytest.fixture
def limits_without_redis(workdir, fake_wechat):
    """Limits kept in a Redis that cannot be reached (nothing listens on the port)."""
    import socket

    from app import create_app
    from app.core import uow
    from app.demo import seed_demo
    from app.extensions import db

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'limits-down.sqlite3'}",
        "INSTANCE_DIR": str(workdir), "MEDIA_DIR": str(workdir / "media"),
        "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{port}/0",
        "WECHAT_APPID": None, "WECHAT_SECRET": None,
    })
    with app.app_context():
        db.drop_all(bind_key=None)
        db.create_all(bind_key=None)
        seed_demo(history=False)
        uow.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_without_the_limits_store_logins_fail_closed_and_the_rest_open(limits_without_redis):
    from app.demo import DEMO_PASSWORD

    client = limits_without_redis.test_client()
    # A login cannot be limited, so it is refused, cleanly: a 503 in the error shape, not a 500.
    for path, body in (("/mp/v1/auth/password", {"username": "east_admin", "password": DEMO_PASSWORD}),
                       ("/mp/v1/auth/login", {"code": "any"})):
        res = client.post(path, json=body)
        assert res.status_code == 503, res.get_data(as_text=True)
        assert res.get_json()["message"] == "登录保护暂时不可用，请稍后再试。"
        assert set(res.get_json()) >= {"code", "status", "message"}
    # Reads go on, unlimited.
    with limits_without_redis.app_context():
        from sqlalchemy import select

        from app.codes.models import Code
        from app.extensions import db

        scene = db.session.scalar(select(Code.scene).limit(1))
    assert client.get(f"/mp/v1/scan/{scene}").status_code == 200
    assert client.get("/healthz").status_code == 200
