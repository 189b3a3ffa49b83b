"""The periodic jobs: one list, used by `rq cron` and by `flask run-periodic` on machines without Redis."""
import os
import subprocess
import time
from datetime import UTC, timedelta
from pathlib import Path

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


def test_the_loop_runs_interval_jobs_at_once_and_cron_jobs_only_when_their_time_comes():
    from datetime import datetime

    from tasks.periodic import PERIODIC, due_jobs

    start = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    names = {p.name for p in due_jobs({}, start)}
    assert "sweep_deadlines" in names and "apply_retention" not in names
    last = {p.name: start for p in PERIODIC}
    assert {p.name for p in due_jobs(last, start + timedelta(seconds=30))} == set()
    minute = {p.name for p in due_jobs(last, start + timedelta(seconds=60))}
    assert "sweep_deadlines" in minute and "remind_upcoming" not in minute
    assert "apply_retention" in {p.name for p in due_jobs(last, start + timedelta(hours=20))}


def test_run_periodic_every_keeps_marking_overdue_cases(app, login, areas):
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
        register_cli(app)
    result = app.test_cli_runner().invoke(args=["run-periodic", "--every", "1", "--ticks", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.count("sweep_deadlines: ") == 1  # once a minute, not once a tick
    db.session.expire_all()
    assert db.session.get(Case, created["id"]).overdue is True


def test_make_run_starts_the_periodic_loop_beside_the_server_and_stops_it_with_the_server(tmp_path):
    """`make run` is one command: the server runs in front, the periodic loop behind it, and ends with it."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    log = tmp_path / "calls"
    fake = venv / "bin" / "flask"
    fake.write_text(f"""#!/bin/sh
echo "$*" >> {log}
case "$*" in
  *run-periodic*) echo $$ > {tmp_path}/loop.pid; exec sleep 60 ;;
  *" run --host"*) sleep 1; kill -0 "$(cat {tmp_path}/loop.pid)" && echo loop-alive >> {log} ;;
esac
""")
    fake.chmod(0o755)
    (venv / ".installed").touch()
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(["make", "-C", str(root), "run", f"VENV={venv}", "PORT=5999"], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    calls = log.read_text()
    assert "run-periodic --every 60" in calls and "loop-alive" in calls, calls
    loop_pid = int((tmp_path / "loop.pid").read_text())
    for _ in range(50):
        try:
            os.kill(loop_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the periodic loop outlived the server")
