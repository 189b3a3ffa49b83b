"""Capacity holds under real concurrency: 30 people enroll at once in an activity with 5 places."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.time import utcnow

pytestmark = pytest.mark.postgres

CAPACITY = 5
PEOPLE = 30


def test_thirty_concurrent_enrollments_fill_five_places_and_waitlist_the_rest(app, login):
    from app.areas.models import Area
    from app.extensions import db
    from app.volunteering.models import Activity, Enrollment

    with app.app_context():
        community_id = db.session.scalar(select(Area.id).where(Area.name == "东城社区"))
        db.session.remove()
        admin = login("east_admin")
        starts = utcnow() + timedelta(days=1)
        res = admin.post("/activities", json={
            "title": "社区义诊志愿者招募", "community_id": community_id, "capacity": CAPACITY,
            "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=2)).isoformat()})
        assert res.status_code == 201, res.get_json()
        activity_id = res.get_json()["id"]
        tokens = [login.resident().token for _ in range(PEOPLE)]

    barrier = threading.Barrier(PEOPLE)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def enroll(token: str) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(f"/mp/v1/activities/{activity_id}/enrollments",
                               headers={"Authorization": f"Bearer {token}"})
        with lock:
            results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=enroll, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    codes = [code for code, _ in results]
    assert len(results) == PEOPLE
    assert all(code < 500 for code in codes), codes
    assert codes.count(201) == PEOPLE, [body for code, body in results if code != 201]
    statuses = [body["status"] for _, body in results]
    assert statuses.count("enrolled") == CAPACITY
    assert statuses.count("waitlisted") == PEOPLE - CAPACITY

    with app.app_context():
        counted = dict(db.session.execute(
            select(Enrollment.status, func.count()).where(Enrollment.activity_id == activity_id)
            .group_by(Enrollment.status)).all())
        assert counted == {"enrolled": CAPACITY, "waitlisted": PEOPLE - CAPACITY}
        activity = db.session.get(Activity, activity_id)
        assert (activity.enrolled_count, activity.waitlist_count) == (CAPACITY, PEOPLE - CAPACITY)
        positions = sorted(db.session.scalars(select(Enrollment.position)
                                              .where(Enrollment.activity_id == activity_id)))
        assert positions == list(range(1, PEOPLE + 1)), "every arrival got its own place in line"
        db.session.remove()
