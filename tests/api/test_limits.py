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
        db.create_all()
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
