"""The CLI a newcomer uses: seed-demo (idempotent) and create-user."""
from sqlalchemy import func, select

from app.extensions import db


def _counts():
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def test_seed_demo_twice_creates_nothing_new(app):
    before = _counts()
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "演示数据已就绪" in result.output
    after = _counts()
    changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    assert changed == {}


def test_create_user_grants_a_role_over_an_area(app, areas, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "--username", "grid_new", "--password", "a-long-password",
                                 "--role", "grid_worker", "--area-id", str(areas["东城社区第二网格"].id)])
    assert result.exit_code == 0, result.output
    token = client.post("/mp/v1/auth/password", json={"username": "grid_new", "password": "a-long-password"})
    me = client.get("/mp/v1/me", headers={"Authorization": f"Bearer {token.get_json()['access_token']}"})
    assert [(r["role"], r["area_id"]) for r in me.get_json()["roles"]] == [
        ("grid_worker", areas["东城社区第二网格"].id)]
    refused = runner.invoke(args=["create-user", "--username", "grid_new", "--password", "a-long-password"])
    assert refused.exit_code != 0 and "用户名已存在" in refused.output
