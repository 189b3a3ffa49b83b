"""The CLI a newcomer uses: seed-demo (idempotent), create-user, and rebuild-rollups."""
from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.stats import rollups


def _counts():
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def test_seed_demo_twice_creates_nothing_new(app):
    # The tests' database is seeded without the six months of history: the first run adds it, the second nothing.
    first = app.test_cli_runner().invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "近 26 周的历史" in first.output
    before = _counts()
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "演示数据已就绪" in result.output and "近 26 周的历史" not in result.output
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


def test_rebuild_rollups_gives_what_the_periodic_job_kept(app, areas):
    county = areas["沁源县"].path
    first, last = date(2020, 1, 1), date(2030, 12, 31)
    kept = (rollups.case_figures(county, first, last), rollups.area_figures(county, first, last))
    assert kept[0]["total"] > 0  # seed-demo refreshed them
    result = app.test_cli_runner().invoke(args=["rebuild-rollups"])
    assert result.exit_code == 0, result.output
    assert "已重建统计汇总" in result.output
    assert (rollups.case_figures(county, first, last), rollups.area_figures(county, first, last)) == kept
