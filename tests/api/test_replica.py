"""Statistics read from a real streaming replica (.ci/replica: a second PostgreSQL cluster on port 5433).

TEST_REPLICA_URL names the test database on the replica (the same database as DATABASE_URL, as the
replica sees it). Without it these tests skip, and under CI=true they fail.
"""
from __future__ import annotations

import logging
import os
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.exc import DBAPIError

from app import create_app
from app.accounts.models import User
from app.areas.models import Area, Place
from app.cases.models import Case, Category
from app.core import replica, uow
from app.core.time import utcnow
from app.demo import DEMO_PASSWORD
from app.extensions import REPLICA, db
from app.stats import rollups
from tests.conftest import DATABASE_URL, IN_CI, Api
from tests.fake_wechat import APPID, SECRET

REPLICA_URL = os.environ.get("TEST_REPLICA_URL", "")
SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "replica"

pytestmark = [pytest.mark.postgres]


@pytest.fixture(scope="module")
def replica_url():
    if not REPLICA_URL:
        if IN_CI:
            pytest.fail("CI=true: TEST_REPLICA_URL must name the test database on the replica (.ci/replica)")
        pytest.skip("needs a streaming replica: bash .ci/replica, then TEST_REPLICA_URL=postgresql://…:5433/…")
    return REPLICA_URL


@pytest.fixture
def replica_app(app, replica_url, fake_wechat, workdir):
    """An app like the shared one (same database), reading statistics from the replica."""
    own = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": DATABASE_URL, "DATABASE_REPLICA_URL": replica_url,
        "REPLICA_MAX_LAG_SECONDS": 3600, "REPLICA_CHECK_SECONDS": 0, "REDIS_URL": None,
        "WECHAT_APPID": APPID, "WECHAT_SECRET": SECRET, "WECHAT_API_BASE_URL": fake_wechat.base_url,
        "INSTANCE_DIR": str(workdir), "MEDIA_DIR": str(workdir / "media"),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "SECRET_KEY": "test-secret", "RATELIMIT_ENABLED": False,
    })
    yield own
    with own.app_context():
        _replica_sql("SELECT pg_wal_replay_resume() WHERE pg_is_wal_replay_paused()")
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def _replica_sql(sql: str):
    engine = create_engine(REPLICA_URL.replace("postgresql://", "postgresql+psycopg://"),
                           isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).all()
    finally:
        engine.dispose()


def _wait_for_replay(timeout: float = 20.0) -> None:
    """Until the replica has replayed everything the primary has written so far."""
    with db.engine.connect() as primary:
        lsn = primary.execute(text("SELECT pg_current_wal_lsn()")).scalar_one()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _replica_sql(f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn")[0][0]:
            return
        time.sleep(0.05)
    raise AssertionError("the replica did not catch up")


def _staff(own, username: str) -> Api:
    client = own.test_client()
    res = client.post("/mp/v1/auth/password", json={"username": username, "password": DEMO_PASSWORD})
    assert res.status_code == 200, res.get_json()
    return Api(client, res.get_json()["access_token"])


def _add_case(note: str) -> None:
    """A case in 东城社区 filed just now, committed on the primary with the rollups the job keeps."""
    place = db.session.scalar(select(Place).where(Place.name == "东城小区1号楼"))
    reporter = db.session.scalar(select(User).where(User.username == "member_east"))
    category = db.session.scalar(select(Category).order_by(Category.id))
    db.session.add(Case(tracking_no=f"RPL{note}", place_id=place.id, area_path=place.area_path,
                        category_id=category.id, description=note, reporter_id=reporter.id, status="submitted",
                        created_at=utcnow() - timedelta(minutes=1)))
    uow.commit()
    rollups.refresh()  # the periodic job: the dashboard reads the daily rollups
    uow.commit()


def _east_total(api: Api, area_id: int) -> int:
    res = api.get(f"/admin/stats?area_id={area_id}")
    assert res.status_code == 200, res.get_json()
    return res.get_json()["cases"]["total"]


def test_dashboard_reads_the_replica_and_a_lagging_replica_is_skipped(replica_app, caplog):
    with replica_app.app_context():
        east = db.session.scalar(select(Area).where(Area.name == "东城社区")).id
        admin = _staff(replica_app, "east_admin")
        before = _east_total(admin, east)

        _add_case("one")  # on the primary ...
        _wait_for_replay()
        assert _east_total(admin, east) == before + 1  # ... shows on the replica-backed dashboard

        # Replay paused: the replica stops at "one". Within the allowed lag the dashboard still reads it,
        # which shows where the figures come from: the primary already has "two".
        _replica_sql("SELECT pg_wal_replay_pause()")
        _add_case("two")
        assert db.session.scalar(select(db.func.count(Case.id)).where(Case.tracking_no == "RPLtwo")) == 1
        assert _east_total(admin, east) == before + 1

        # Beyond the allowed lag it is skipped: the figures come from the primary, it is logged, and
        # /healthz says so (degraded, still 200).
        replica_app.config["REPLICA_MAX_LAG_SECONDS"] = 0.5
        time.sleep(1.2)
        with caplog.at_level(logging.WARNING, logger="gongzhi.replica"):
            assert _east_total(admin, east) == before + 2
        assert any("read replica skipped" in r.getMessage() for r in caplog.records)
        health = replica_app.test_client().get("/healthz")
        assert health.status_code == 200
        body = health.get_json()
        assert body["status"] == "degraded"
        assert body["replica"]["usable"] is False and body["replica"]["lag_seconds"] > 0.5
        assert any("只读副本已停用" in w for w in body["warnings"])

        # Replay resumed: it catches up and is used again.
        _replica_sql("SELECT pg_wal_replay_resume()")
        _wait_for_replay()
        replica_app.config["REPLICA_MAX_LAG_SECONDS"] = 30
        health = replica_app.test_client().get("/healthz").get_json()
        # Other databases on the shared primary keep writing: the lag is small, not always zero.
        assert health["replica"]["usable"] is True and health["replica"]["lag_seconds"] < 30
        assert health["checks"]["replica"].startswith("ok")


def test_a_stopped_replica_is_skipped_for_the_primary(replica_app, caplog):
    with replica_app.app_context():
        east = db.session.scalar(select(Area).where(Area.name == "东城社区")).id
        admin = _staff(replica_app, "east_admin")
        before = _east_total(admin, east)
        subprocess.run(["bash", str(SCRIPT), "--stop"], check=True, capture_output=True)
        try:
            _add_case("three")
            with caplog.at_level(logging.WARNING, logger="gongzhi.replica"):
                assert _east_total(admin, east) == before + 1  # answered, from the primary
            assert any("read replica skipped" in r.getMessage() for r in caplog.records)
            res = admin.get(f"/admin/stats/export.csv?area_id={east}")
            assert res.status_code == 200
            body = replica_app.test_client().get("/healthz").get_json()
            assert body["status"] == "degraded"
            assert body["replica"]["usable"] is False
            assert body["checks"]["replica"].startswith("skipped: 无法连接只读副本")
        finally:
            subprocess.run(["bash", str(SCRIPT)], check=True, capture_output=True)
        body = replica_app.test_client().get("/healthz").get_json()
        assert body["replica"]["usable"] is True


def test_nothing_that_writes_goes_to_the_replica(replica_app):
    """Every statement the replica receives is a SELECT, while statistics, exports, public boards and
    writes run; and the statistics did read it."""
    with replica_app.app_context():
        seen: list[str] = []
        event.listen(db.engines[REPLICA], "before_cursor_execute",
                     lambda _c, _cur, statement, *_a: seen.append(statement))
        east = db.session.scalar(select(Area).where(Area.name == "东城社区")).id
        admin = _staff(replica_app, "east_admin")
        _add_case("four")
        _wait_for_replay()
        assert admin.get(f"/admin/stats?area_id={east}").status_code == 200
        assert admin.get(f"/admin/stats/export.xlsx?area_id={east}").status_code == 200  # audited: a write
        assert admin.get("/admin/stats/monthly.xlsx?month=2026-11").status_code == 200
        assert admin.get("/cases/export.csv").status_code == 200
        public = replica_app.test_client()
        assert public.get("/praise").status_code == 200
        assert public.get("/suggestions").status_code == 200
        with replica.from_replica():
            assert replica.reading_replica()
            _add_case("five")  # a flush and a commit inside the block still go to the primary
        assert db.session.scalar(select(db.func.count(Case.id)).where(Case.tracking_no == "RPLfive")) == 1

        assert any("FROM cases" in s for s in seen), "the statistics did not read the replica"
        not_reads = [s for s in seen if not s.lstrip().upper().startswith("SELECT")]
        assert not_reads == []


def _trust_the_replica(own) -> None:
    """As if the check had just passed: the next block reads the replica without looking first."""
    own.extensions["gongzhi.replica"] = replica.ReplicaState(True, 0.0, "", time.monotonic())


def _moved(caplog) -> int:
    return sum("read replica lost its connection" in r.getMessage() for r in caplog.records)


def test_a_replica_stopped_after_the_check_is_replaced_by_the_primary_mid_request(replica_app, caplog):
    """The check passes, then the replica stops: the dashboard, the export and the public board still
    answer 200, with the primary's figures, and it is logged and counted in /healthz."""
    replica_app.config["REPLICA_CHECK_SECONDS"] = 3600  # one check, trusted for the whole test
    with replica_app.app_context():
        east = db.session.scalar(select(Area).where(Area.name == "东城社区")).id
        admin = _staff(replica_app, "east_admin")
        _add_case("six")
        _wait_for_replay()
        before = _east_total(admin, east)  # from the replica; its pooled connection stays open
        assert replica.state().usable
        subprocess.run(["bash", str(SCRIPT), "--stop"], check=True, capture_output=True)
        try:
            _add_case("seven")  # on the primary only: the replica is down
            with caplog.at_level(logging.WARNING, logger="gongzhi.replica"):
                # The pooled connection to the replica is dead: the server closed it.
                assert _east_total(admin, east) == before + 1
                assert _moved(caplog) == 1
                assert replica.state().usable is False  # the next requests skip it, without a look
                assert _east_total(admin, east) == before + 1
                assert _moved(caplog) == 1

                # The replica cannot be reached at all (as if it stopped between the check and the block).
                _trust_the_replica(replica_app)
                res = admin.get(f"/admin/stats/export.csv?area_id={east}")
                assert res.status_code == 200 and "东城" in res.get_data(as_text=True)
                assert _moved(caplog) == 2
                _trust_the_replica(replica_app)
                assert replica_app.test_client().get("/suggestions").status_code == 200
                assert _moved(caplog) == 3
            body = replica_app.test_client().get("/healthz").get_json()
            assert body["status"] == "degraded" and body["replica"]["usable"] is False
            assert body["replica"]["fallbacks"]["count"] == 3
            assert "moved to the primary" in body["checks"]["replica"]
        finally:
            subprocess.run(["bash", str(SCRIPT)], check=True, capture_output=True)
        body = replica_app.test_client().get("/healthz").get_json()
        assert body["replica"]["usable"] is True and body["replica"]["fallbacks"]["count"] == 3


def test_a_cut_replica_connection_is_read_again_on_the_primary_and_sql_errors_still_raise(replica_app, caplog):
    """Without stopping the replica: its server ends the block's connection (pg_terminate_backend), and
    the statement is run again on the primary; an error in the SQL itself is not a reason to fall back."""
    replica_app.config["REPLICA_CHECK_SECONDS"] = 3600
    with replica_app.app_context():
        east = db.session.scalar(select(Area).where(Area.name == "东城社区")).id
        admin = _staff(replica_app, "east_admin")
        _add_case("eight")
        _wait_for_replay()
        before = _east_total(admin, east)
        with caplog.at_level(logging.WARNING, logger="gongzhi.replica"), replica.from_replica():
            assert replica.reading_replica()
            on_replica = db.session.scalar(select(text("pg_is_in_recovery()")))
            assert on_replica is True
            _replica_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
            assert db.session.scalar(select(text("pg_is_in_recovery()"))) is False  # answered by the primary
            assert not replica.reading_replica()  # and so is the rest of the block
        assert _moved(caplog) == 1
        assert replica.state().usable is False
        uow.commit()  # the request's commit does not trip over the dead connection
        _add_case("nine")
        assert _east_total(admin, east) == before + 1  # the primary's figures while the replica is skipped

        replica_app.config["REPLICA_CHECK_SECONDS"] = 0
        _wait_for_replay()
        with replica.from_replica():
            assert replica.reading_replica()
            with pytest.raises(DBAPIError) as raised:
                db.session.scalar(select(text("1 / 0")))
            assert "division by zero" in str(raised.value)
        db.session.rollback()
        assert _moved(caplog) == 1
        assert replica.state().usable is True
