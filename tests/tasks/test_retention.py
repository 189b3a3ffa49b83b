"""Retention for every kind of record and every end state, run over data dated years back, in batches
that go on until the backlog is done (app/privacy/retention.py, tasks/privacy.py)."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, update

from app.accounts.models import User
from app.areas.models import Place
from app.cases.models import Case, Category
from app.cases.retention import PLACEHOLDER_USERNAME
from app.codes.models import Code
from app.contact.models import MessageThread
from app.core import uow
from app.core.audit import AuditLog
from app.core.idempotency import IdempotencyRecord
from app.core.time import travel, utcnow
from app.core.timeline import TimelineEvent
from app.extensions import db
from app.media.models import Upload
from app.notifications.models import Notification
from app.praise.models import Praise
from app.suggestions.models import Representative, Suggestion
from app.wishes.models import Wish
from tasks import privacy as privacy_jobs
from tasks.periodic import PERIODIC
from tasks.privacy import apply_retention
from tests.api.wishflow import act, photo, post_wish


def _user_id(username):
    return db.session.scalar(select(User.id).where(User.username == username))


def _case(resident, place, category, text):
    created = resident.post("/cases", json={"place_id": place.id, "category_id": category.id, "description": text})
    assert created.status_code == 201, created.get_json()
    return created.get_json()["id"]


def _world(login, areas):
    """A resident's records in every end state, and a little of everything else."""
    place = db.session.scalar(select(Place).where(Place.name == "东城小区1号楼"))
    scene = db.session.scalar(select(Code.scene).where(Code.place_id == place.id, Code.active.is_(True)))
    category = db.session.scalar(select(Category).order_by(Category.id))
    resident = login.resident(openid="o_retention")
    admin = login("east_admin")
    closed = _case(resident, place, category, "路灯不亮，晚上很黑。有事打我电话13977778888")
    for action, extra in (("accept", {}), ("dispatch", {"assignee_id": _user_id("grid_east1")}),
                          ("handle", {"note": "已更换灯泡"})):
        actor = login("grid_east1") if action == "handle" else admin
        assert actor.post(f"/cases/{closed}/transitions", json={"action": action, **extra}).status_code == 200
    assert admin.post(f"/cases/{closed}/transitions", json={"action": "verify", "passed": True}).status_code == 200
    rejected = _case(resident, place, category, "邻居家装修太吵。")
    assert admin.post(f"/cases/{rejected}/transitions",
                      json={"action": "reject", "reason": "不属于受理范围"}).status_code == 200
    withdrawn = _case(resident, place, category, "楼道堆放杂物。")
    assert resident.post(f"/cases/{withdrawn}/transitions", json={"action": "withdraw"}).status_code == 200
    still_open = _case(resident, place, category, "垃圾桶满了。")
    wish = post_wish(resident, areas, photo_ids=[photo(resident)])
    act(admin, wish["id"], "reject", reason="不属于微心愿范围")
    rep = db.session.scalar(select(Representative).where(Representative.user_id.is_not(None)))
    suggestion = resident.post("/suggestions", json={"representative_id": rep.id, "title": "建议增设停车位",
                                                     "body": "小区停车难。"}).get_json()
    rep_api = login(db.session.get(User, rep.user_id).username)
    assert rep_api.post(f"/suggestions/{suggestion['id']}/transitions",
                        json={"action": "reject", "note": "请向物业反映"}).status_code == 200
    assert resident.post("/messages", json={"scene": scene, "to_role": "grid_worker", "body": "有积水"}).status_code == 201
    assert resident.post("/praises", json={"scene": scene, "target_type": "place", "target_id": place.id,
                                               "message": "很干净"}).status_code == 201
    return {"resident_id": resident.get("/me").get_json()["id"], "closed": closed, "rejected": rejected,
            "withdrawn": withdrawn, "open": still_open, "wish": wish["id"], "suggestion": suggestion["id"]}


def test_every_kind_and_end_state_is_handled_years_later(app, login, areas):
    w = _world(login, areas)
    # Where the reporter stood (a located report): kept to ≈ 100 m once the case is anonymised, the address goes.
    for name in ("closed", "open"):
        db.session.execute(update(Case).where(Case.id == w[name]).values(
            location_lat=39.9163447, location_lng=116.3971553, location_accuracy=12.5,
            location_address="东城小区1号楼3单元502室门口"))
    uow.commit()
    first = apply_retention()
    assert first["finished"] and first["handled"]["cases"] == 0  # nothing has reached its time yet
    wish_photos = [p["id"] for p in db.session.get(Wish, w["wish"]).photos]
    travel(timedelta(days=365 * 4))
    report = apply_retention()
    assert report["finished"]
    handled = report["handled"]
    assert handled["cases"] >= 3 and handled["wishes"] >= 1 and handled["suggestions"] >= 1
    assert handled["messages"] >= 1 and handled["praise"] >= 1 and handled["audit_logs"] >= 1
    assert handled["notifications"] >= 1

    placeholder = db.session.scalar(select(User.id).where(User.username == PLACEHOLDER_USERNAME))
    for name in ("closed", "rejected", "withdrawn"):
        case = db.session.get(Case, w[name])
        db.session.refresh(case)
        assert case.reporter_id == placeholder and case.anonymous and case.anonymised_at is not None, name
        actors = set(db.session.scalars(select(TimelineEvent.actor_id).where(
            TimelineEvent.subject_type == "case", TimelineEvent.subject_id == w[name])))
        assert w["resident_id"] not in actors, name
    assert db.session.get(Case, w["closed"]).description.endswith("139****8888")  # typed-in numbers go too
    closed = db.session.get(Case, w["closed"])
    assert (closed.location_lat, closed.location_lng, closed.location_accuracy, closed.location_address) == \
        (pytest.approx(39.916, abs=1e-9), pytest.approx(116.397, abs=1e-9), None, "")
    running = db.session.get(Case, w["open"])
    db.session.refresh(running)
    assert running.reporter_id == w["resident_id"]  # an open case is never anonymised
    assert (running.location_lat, running.location_address) == (39.9163447, "东城小区1号楼3单元502室门口")
    wish = db.session.get(Wish, w["wish"])
    db.session.refresh(wish)
    assert (wish.requester_id, wish.phone_encrypted, wish.address_encrypted, wish.contact_name, wish.photos) == \
        (placeholder, None, None, "", [])
    assert db.session.scalar(select(func.count()).select_from(Upload).where(Upload.id.in_(wish_photos))) == 0
    suggestion = db.session.get(Suggestion, w["suggestion"])
    db.session.refresh(suggestion)
    assert suggestion.submitter_id == placeholder
    uid = w["resident_id"]
    assert db.session.scalar(select(MessageThread.id).where(MessageThread.resident_id == uid)) is None
    assert db.session.scalar(select(Praise.id).where(Praise.user_id == uid)) is None
    assert db.session.scalar(select(Notification.id).where(Notification.user_id == uid)) is None
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == 0

    resident = login.resident(openid="o_retention")  # the old token expired while the clock moved
    assert [c["id"] for c in resident.get("/cases?mine=true").get_json()["items"]] == [w["open"]]
    assert apply_retention()["handled"]["cases"] == 0  # idempotent


def test_a_backlog_is_worked_off_in_a_string_of_batches(app, login, areas, monkeypatch):
    """A county's first run: thousands of ended cases years old, none left behind, no daily cap."""
    place = db.session.scalar(select(Place).where(Place.name == "东城小区1号楼"))
    category = db.session.scalar(select(Category).order_by(Category.id))
    reporter = login.resident(openid="o_backlog").get("/me").get_json()["id"]
    old = utcnow() - timedelta(days=365 * 5)
    statuses = ("closed", "rejected", "withdrawn")
    total = 3000
    db.session.execute(insert(Case), [{
        "tracking_no": f"GZBACKLOG{i:06d}", "place_id": place.id, "area_path": "/x/", "category_id": category.id,
        "description": "历史事件", "photos": [], "anonymous": False, "reporter_id": reporter,
        "status": statuses[i % 3], "closed_at": old, "created_at": old, "version": 1,
    } for i in range(total)])
    db.session.flush()
    monkeypatch.setitem(app.config, "RETENTION_BATCH", 250)
    monkeypatch.setattr(privacy_jobs, "BUDGET_SECONDS", 0)  # every job does one batch, then queues the next
    started = time.monotonic()
    first = apply_retention()
    seconds = time.monotonic() - started
    assert first["finished"] is False and first["handled"]["cases"] == 250
    left = db.session.scalar(select(func.count()).select_from(Case).where(
        Case.tracking_no.like("GZBACKLOG%"), Case.anonymised_at.is_(None)))
    assert left == 0, f"{left} of {total} cases still name their reporter"
    print(f"retention: {total} ended cases anonymised in {seconds:.2f} s ({total / seconds:.0f} a second)")


def test_photos_no_record_took_are_deleted_with_their_files(app, login, areas):
    from pathlib import Path

    resident = login.resident()
    place = db.session.scalar(select(Place).where(Place.name == "东城小区1号楼"))
    category = db.session.scalar(select(Category).order_by(Category.id))
    used, abandoned = photo(resident), photo(resident)
    assert resident.post("/cases", json={"place_id": place.id, "category_id": category.id, "photo_ids": [used],
                                         "description": "墙皮脱落"}).status_code == 201
    files = Path(app.config["MEDIA_DIR"]) / db.session.get(Upload, abandoned).path
    assert files.is_file()
    travel(timedelta(days=40))
    assert apply_retention()["handled"]["uploads"] >= 1
    assert db.session.get(Upload, abandoned) is None and not files.exists()
    assert db.session.get(Upload, used) is not None  # the case's photo stays with the case


def test_retention_is_configurable_per_kind(app, login, areas, monkeypatch):
    from app.privacy import retention

    monkeypatch.setitem(app.config, "RETENTION_OVERRIDES", {"messages": 1})
    months = {row["kind"]: row["months"] for row in retention.schedule()}
    assert months["messages"] == 1 and months["cases"] == app.config["RETENTION_MONTHS"]
    place = db.session.scalar(select(Place).where(Place.name == "东城小区1号楼"))
    scene = db.session.scalar(select(Code.scene).where(Code.place_id == place.id, Code.active.is_(True)))
    resident = login.resident()
    assert resident.post("/messages", json={"scene": scene, "to_role": "grid_worker", "body": "你好"}).status_code == 201
    travel(timedelta(days=40))
    assert apply_retention()["handled"]["messages"] >= 1


def test_the_purges_are_scheduled_and_the_cli_reports(app):
    names = {entry.name for entry in PERIODIC}
    assert {"apply_retention", "purge_idempotency_records"} <= names
    db.session.add(IdempotencyRecord(owner="u1", key_hash="k" * 64, method="POST", path="/x", fingerprint="",
                                     status_code=201, body="x", created_at=utcnow() - timedelta(days=2)))
    db.session.flush()
    result = app.test_cli_runner().invoke(args=["run-periodic", "--only", "purge_idempotency_records"])
    assert "purge_idempotency_records: 1" in result.output
    out = app.test_cli_runner().invoke(args=["apply-retention"])
    assert out.exit_code == 0, out.output
    assert "保存期限处理完毕" in out.output and "上报的事件（24 个月）" in out.output


def test_privacy_notice_states_the_retention_period(client, app):
    page = client.get("/privacy").get_data(as_text=True)
    assert f"{app.config['RETENTION_MONTHS']} 个月" in page
