"""Retention: reporters of cases closed more than RETENTION_MONTHS ago are anonymised by a daily job."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core.time import travel
from app.extensions import db


def _closed_case(login, areas):
    from app.areas.models import Place
    from app.cases.models import Category

    place = db.session.scalar(select(Place).where(Place.name == "东城小区1号楼"))
    category = db.session.scalar(select(Category).order_by(Category.id))
    resident = login.resident(openid="o_retention")
    created = resident.post("/cases", json={"place_id": place.id, "category_id": category.id,
                                            "description": "路灯不亮，晚上很黑。"}).get_json()
    admin = login("east_admin")
    for action, extra in (("accept", {}), ("dispatch", {"assignee_id": _user_id("grid_east1")}),
                          ("handle", {"note": "已更换灯泡"})):
        actor = login("grid_east1") if action == "handle" else admin
        res = actor.post(f"/cases/{created['id']}/transitions", json={"action": action, **extra})
        assert res.status_code == 200, res.get_json()
    assert admin.post(f"/cases/{created['id']}/transitions",
                      json={"action": "verify", "passed": True}).get_json()["status"] == "closed"
    return resident, created["id"]


def _user_id(username):
    from app.accounts.models import User

    return db.session.scalar(select(User.id).where(User.username == username))


def test_old_closed_cases_lose_their_reporter(app, login, areas):
    from app.cases.models import Case
    from app.core.timeline import TimelineEvent
    from tasks.cases import anonymise_old_reporters

    resident, case_id = _closed_case(login, areas)
    reporter_id = resident.get("/me").get_json()["id"]
    assert anonymise_old_reporters() == 0  # just closed: kept
    travel(timedelta(days=31 * app.config["RETENTION_MONTHS"] + 1))
    assert anonymise_old_reporters() >= 1
    case = db.session.get(Case, case_id)
    db.session.refresh(case)
    assert case.reporter_id != reporter_id and case.anonymous and case.anonymised_at is not None
    actors = set(db.session.scalars(select(TimelineEvent.actor_id).where(
        TimelineEvent.subject_type == "case", TimelineEvent.subject_id == case_id)))
    assert reporter_id not in actors
    resident = login.resident(openid="o_retention")  # the old token expired while the clock moved
    mine = resident.get("/cases?mine=true").get_json()["items"]
    assert case_id not in [c["id"] for c in mine]
    assert anonymise_old_reporters() == 0  # idempotent


def test_privacy_notice_states_the_retention_period(client, app):
    page = client.get("/privacy").get_data(as_text=True)
    assert f"{app.config['RETENTION_MONTHS']} 个月" in page
