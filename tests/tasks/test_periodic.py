"""The periodic jobs: one list, used by `rq cron` and by `flask run-periodic` on machines without Redis."""
from datetime import timedelta

from app.core.time import travel
from tasks.periodic import register_cli


def test_every_periodic_job_is_a_job_and_has_a_schedule():
    from tasks.periodic import PERIODIC

    assert len({p.name for p in PERIODIC}) == len(PERIODIC)
    for entry in PERIODIC:
        assert getattr(entry.func, "is_job", False), entry.name
        assert (entry.interval is None) != (entry.cron is None), entry.name


def test_run_periodic_runs_the_sweeps_once(app, login, areas):
    from sqlalchemy import select

    from app.areas.models import Place
    from app.cases.models import Case, Category
    from app.extensions import db

    place = db.session.scalar(select(Place).where(Place.name == "东城小区1号楼"))
    category = db.session.scalar(select(Category).order_by(Category.id))
    created = login.resident().post("/cases", json={"place_id": place.id, "category_id": category.id,
                                                    "description": "井盖松动，有安全隐患。"}).get_json()
    travel(timedelta(days=30))
    if "run-periodic" not in app.cli.commands:
        register_cli(app)  # as wsgi.py does
    result = app.test_cli_runner().invoke(args=["run-periodic", "--only", "sweep_deadlines"])
    assert result.exit_code == 0, result.output
    assert "'overdue': " in result.output and "'overdue': 0" not in result.output
    assert db.session.get(Case, created["id"]).overdue is True
