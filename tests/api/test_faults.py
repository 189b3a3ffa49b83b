"""Faults a resident would otherwise see as a broken app: the database goes away, then comes back."""
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import DATABASE_URL


@pytest.mark.own_app
def test_database_unreachable_is_a_clear_503(workdir):
    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql://nobody@127.0.0.1:1/none",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "connect_args": {"connect_timeout": 1}},
                      "INSTANCE_DIR": str(workdir), "MEDIA_DIR": str(workdir / "media"),
                      "RATELIMIT_ENABLED": False})
    client = app.test_client()
    res = client.post("/mp/v1/auth/password", json={"username": "east_admin", "password": "x" * 8})
    assert res.status_code == 503
    assert res.get_json()["message"] == "数据库暂时不可用，请稍后再试。"
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["checks"]["database"].startswith("error")


@pytest.mark.postgres
def test_dropped_connections_recover_without_restart(app, client):
    from app.demo import DEMO_PASSWORD

    token = client.post("/mp/v1/auth/password",
                        json={"username": "east_admin", "password": DEMO_PASSWORD}).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/mp/v1/me", headers=headers).status_code == 200
    scene = client.get("/mp/v1/admin/codes?limit=1", headers=headers).get_json()["items"][0]["scene"]
    for _ in range(3):  # the scan checks connections out of the pool itself, outside the session
        assert client.get(f"/mp/v1/scan/{scene}").status_code == 200
    killer = create_engine(DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with killer.connect() as conn:
        killed = conn.execute(text(
            # With a timeout, pg_terminate_backend returns once each backend is gone (PostgreSQL 14+):
            # the connections are closed by the server before the next request, not during it.
            "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )).scalar()
    killer.dispose()
    assert killed >= 1
    # The pool notices the dead connections at checkout and reconnects: no 5xx, no restart.
    for _ in range(3):
        assert client.get("/mp/v1/me", headers=headers).status_code == 200
        assert client.get(f"/mp/v1/scan/{scene}").status_code == 200
