"""Scanning a code on a place: what the resident sees, what is hidden, and how scans are counted."""
from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time

import pytest
from sqlalchemy import event, select

from app.accounts.models import User
from app.areas.models import Place
from app.codes.models import Code
from app.core import crypto
from app.extensions import db

MASKED = re.compile(r"^\d{3}\*{4}\d{4}$")


def scene_of(place_name: str) -> str:
    return db.session.scalar(select(Code.scene).join(Place, Place.id == Code.place_id)
                             .where(Place.name == place_name, Code.active.is_(True)))


def scan_count(scene: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(Code.scan_count).where(Code.scene == scene))


def test_scan_shows_place_grid_community_and_masked_contacts(login):
    resident = login.resident()
    res = resident.get(f"/scan/{scene_of('东城小区1号楼')}")
    assert res.status_code == 200, res.get_json()
    body = res.get_json()
    assert body["place"]["name"] == "东城小区1号楼"
    assert body["place"]["kind_label"] == "楼栋"
    assert body["grid"]["name"] == "东城社区第一网格"
    assert body["community"]["name"] == "东城社区"
    assert body["actions"] == ["report", "praise", "contact"]
    by_role = {}
    for contact in body["contacts"]:
        by_role.setdefault(contact["role"], []).append(contact)
        assert contact["phone"] is None or MASKED.match(contact["phone"]), contact
    assert [c["name"] for c in by_role["grid_worker"]] == ["李网格员"]
    assert by_role["police"][0]["name"] == "王建军"
    assert by_role["police"][0]["role_label"] == "网格民警"
    assert by_role["police"][0]["phone"] == "139****1201"
    assert by_role["property"][0]["role_label"] == "物业"
    # The police and property lines the community posted on the board can be dialled (issue #20);
    # a grid worker's own number never leaves the server whole.
    assert by_role["police"][0]["dial_phone"] == "13934561201"
    assert by_role["property"][0]["dial_phone"] == "13834562210"
    assert all(c["dial_phone"] is None for c in by_role["grid_worker"])
    worker_phone = db.session.scalar(select(User.phone_encrypted).where(User.username == "grid_east1"))
    if worker_phone:
        assert crypto.decrypt(worker_phone) not in res.get_data(as_text=True)
    # The grid worker of the other grid is not a contact here.
    assert "赵网格员" not in res.get_data(as_text=True)
    targets = {(t["target_type"], t["name"]) for t in body["praise_targets"]}
    assert ("grid_worker", "李网格员") in targets and ("place", "东城小区1号楼") in targets


def test_scan_of_a_shop_offers_the_merchant_for_praise(client):
    body = client.get(f"/mp/v1/scan/{scene_of('老王便民超市')}").get_json()
    assert {"target_type": "merchant", "target_id": body["place"]["id"], "name": "老王便民超市"} \
        in body["praise_targets"]


@pytest.mark.parametrize("scene", ["pNoSuchSceneAtAll123", "x" * 40, "%E4%B8%AD"])
def test_unknown_scene_is_404_in_chinese(client, scene):
    res = client.get(f"/mp/v1/scan/{scene}")
    assert res.status_code == 404
    assert res.get_json()["message"] == "二维码无效或已停用。"


def test_scan_of_a_deactivated_place_is_404(login, client):
    scene = scene_of("西园菜市场")
    place_id = client.get(f"/mp/v1/scan/{scene}").get_json()["place"]["id"]
    assert login("west_admin").patch(f"/admin/places/{place_id}", json={"active": False}).status_code == 200
    assert client.get(f"/mp/v1/scan/{scene}").status_code == 404


def test_a_scan_is_one_read_only_query(app, client, monkeypatch):
    from app.codes import counter
    from app.core import reads as core_reads

    scene = scene_of("日晷公园东门")
    client.get(f"/mp/v1/scan/{scene}")  # warm up: the first request may load metadata
    statements = []

    def capture(conn, cursor, statement, *args):
        verb = statement.strip().split()[0].upper()
        if verb not in ("SAVEPOINT", "RELEASE"):  # the test's own transaction around each request
            statements.append(verb)

    raw = core_reads._Runner.__call__

    def run(self, statement, **params):
        sql = str(statement.compile(dialect=self.dialect)).upper()
        statements.append("SELECT" if sql.startswith("WITH") and "SELECT" in sql else sql.split()[0])
        assert not {"INSERT", "UPDATE", "DELETE"} & set(sql.split()), sql
        return raw(self, statement, **params)

    monkeypatch.setattr(core_reads._Runner, "__call__", run)
    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        first = client.get(f"/mp/v1/scan/{scene}")
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert first.status_code == 200
    assert statements == ["SELECT"], statements  # the place, its grid and community, and the contacts
    counter.flush()


def test_scans_follow_disabling_and_contact_changes_at_once(login, client):
    from app.accounts.models import User
    from app.accounts.service import actor_for
    from app.contact.service import set_contact
    from app.core import uow

    scene = scene_of("东城小区1号楼")
    assert client.get(f"/mp/v1/scan/{scene}").status_code == 200
    admin = db.session.scalar(select(User).where(User.username == "east_admin"))
    grid_id = client.get(f"/mp/v1/scan/{scene}").get_json()["grid"]["id"]
    set_contact(actor_for(admin), area_id=grid_id, role="police", name="新民警", phone="13900001111")
    uow.commit()
    contacts = client.get(f"/mp/v1/scan/{scene}").get_json()["contacts"]
    assert any(c["role"] == "police" and c["name"] == "新民警" for c in contacts)
    east = login("east_admin")
    code_id = next(c["id"] for c in east.get("/admin/codes?limit=100").get_json()["items"] if c["scene"] == scene)
    assert east.post(f"/admin/codes/{code_id}/disable").status_code == 200
    assert client.get(f"/mp/v1/scan/{scene}").status_code == 404


def test_scans_are_counted_then_flushed_by_the_periodic_job(app, client):
    from tasks.codes import flush_scan_counts

    scene = scene_of("东城小区2号楼")
    flush_scan_counts()
    before = scan_count(scene)
    for _ in range(3):
        assert client.get(f"/mp/v1/scan/{scene}").status_code == 200
    assert scan_count(scene) == before  # nothing written by the scans themselves
    assert flush_scan_counts() >= 3
    assert scan_count(scene) == before + 3
    assert flush_scan_counts() == 0


def test_without_redis_a_due_flush_runs_after_the_scan(app, client):
    from tasks.codes import flush_scan_counts

    scene = scene_of("幸福里3号楼2单元")
    flush_scan_counts()
    before = scan_count(scene)
    app.config["SCAN_FLUSH_SECONDS"] = 0
    try:
        assert client.get(f"/mp/v1/scan/{scene}").status_code == 200
    finally:
        app.config.pop("SCAN_FLUSH_SECONDS")
    assert scan_count(scene) == before + 1


def test_the_cron_schedule_registers_the_flush():
    import runpy
    from pathlib import Path

    from rq import cron

    cron._job_data_registry.clear()
    try:
        runpy.run_path(str(Path(__file__).resolve().parents[2] / "tasks" / "cron_config.py"))
        jobs = {(d["func"].__module__, d["func"].__name__): d for d in cron._job_data_registry}
    finally:
        cron._job_data_registry.clear()
    assert jobs[("tasks.codes", "flush_scan_counts")]["interval"] <= 300


@pytest.fixture
def redis_url():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([binary, "--port", str(port), "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    from redis import Redis

    for _ in range(50):
        try:
            Redis.from_url(url).ping()
            break
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.05)
    yield url
    server.terminate()
    server.wait(5)


def test_with_redis_scans_are_counted_in_redis(app, client, redis_url):
    from redis import Redis

    from app.codes import counter
    from tasks.codes import flush_scan_counts

    scene = scene_of("东城小区1号楼")
    code_id = db.session.scalar(select(Code.id).where(Code.scene == scene))
    flush_scan_counts()
    before = scan_count(scene)
    app.config["REDIS_URL"] = redis_url
    try:
        for _ in range(2):
            assert client.get(f"/mp/v1/scan/{scene}").status_code == 200
        assert not Redis.from_url(redis_url).exists(counter.REDIS_KEY)  # tallied in this process first
        app.config["SCAN_PUSH_SECONDS"] = 0
        assert client.get(f"/mp/v1/scan/{scene}").status_code == 200  # due: the tally goes to Redis
        pushed = Redis.from_url(redis_url).lrange(counter.REDIS_KEY, 0, -1)
        assert [json.loads(entry) for entry in pushed] == [{str(code_id): 3}]  # one entry for the whole tally
        assert scan_count(scene) == before
        assert flush_scan_counts() == 3
        assert not Redis.from_url(redis_url).exists(counter.REDIS_KEY)
    finally:
        app.config["REDIS_URL"] = None
        app.config.pop("SCAN_PUSH_SECONDS", None)
        app.extensions.pop("gongzhi.redis", None)
    assert scan_count(scene) == before + 3


@pytest.mark.parametrize("place", ["东城小区1号楼", "老王便民超市"])
def test_the_hand_built_scan_body_is_what_the_schema_documents(app, place):
    import json

    from app import scan as scanning
    from miniprogram_api.scan import ScanSchema, _render

    result = scanning.lookup(scene_of(place))
    assert result.contacts, "the demo place should have contacts to compare"
    assert json.loads(_render(result)) == ScanSchema().dump(result)
