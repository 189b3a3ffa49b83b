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


@pytest.fixture
def seeded_limited_app(workdir, fake_wechat):
    from app import create_app
    from app.core import uow
    from app.demo import seed_demo
    from app.extensions import db

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'limits-seeded.sqlite3'}",
        "INSTANCE_DIR": str(workdir), "MEDIA_DIR": str(workdir / "media"),
        "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
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


def _proof_post(client, code: str, last4: str, address: str):
    import re

    env = {"REMOTE_ADDR": address}
    page = client.get("/proofs", environ_base=env).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/proofs", data={"code": code, "id_last4": last4, "csrf_token": token}, environ_base=env)


def test_a_proof_code_has_a_budget_of_wrong_tries_whatever_the_address(seeded_limited_app):
    """The last 4 of an ID number are 11,000 guesses: a per-address limit alone lets many addresses try them all."""
    from datetime import date
    from decimal import Decimal

    from sqlalchemy import select

    from app.accounts.models import User
    from app.core import uow
    from app.core.time import utcnow
    from app.extensions import db
    from app.volunteering.models import Certificate

    with seeded_limited_app.app_context():
        holder = db.session.scalars(select(User).order_by(User.id)).first()
        db.session.add(Certificate(code="PRF2026TEST01", user_id=holder.id, holder_name="欧阳娜娜",
                                   holder_id_masked="110105********002X", period_from=date(2026, 1, 1),
                                   period_to=date(2026, 6, 30), total_hours=Decimal("5"), issuer="东城社区",
                                   issued_at=utcnow()))
        uow.commit()

    client = seeded_limited_app.test_client()
    # A right answer is not a wrong try: the holder may download as often as the per-address limit allows.
    for i in range(6):
        res = _proof_post(client, "PRF2026TEST01", "002X", f"10.1.0.{i}")
        assert res.mimetype == "application/pdf", res.get_data(as_text=True)[:300]
    # Five wrong tries, each from another address, use the code's budget up ...
    for i in range(5):
        res = _proof_post(client, "PRF2026TEST01", f"{1000 + i}", f"10.2.0.{i}")
        assert res.status_code == 200 and "证明编号或身份证号后四位不正确。" in res.get_data(as_text=True)
    # ... so the sixth guess is refused, from a new address, even with the right answer.
    refused = _proof_post(client, "PRF2026TEST01", "002X", "10.3.0.1")
    assert refused.status_code == 429
    assert "该证明编号的核对错误次数过多，请一小时后再试。" in refused.get_data(as_text=True)
    # Another code's holder is not locked out by guesses at this one.
    other = _proof_post(client, "PRF2026OTHER1", "1234", "10.3.0.2")
    assert other.status_code == 200 and "证明编号或身份证号后四位不正确。" in other.get_data(as_text=True)
