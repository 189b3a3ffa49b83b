"""Two staff act on the same case at the same moment, over real concurrent PostgreSQL connections."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from tests.conftest import Api

pytestmark = pytest.mark.postgres


def _login(app, username: str) -> Api:
    from app.demo import DEMO_PASSWORD

    client = app.test_client()
    res = client.post("/mp/v1/auth/password", json={"username": username, "password": DEMO_PASSWORD})
    assert res.status_code == 200, res.get_json()
    return Api(client, res.get_json()["access_token"])


def _ids(app):
    from app.areas.models import Place
    from app.cases.models import Category

    with app.app_context():
        place = db.session.scalar(select(Place.id).where(Place.name == "东城小区1号楼"))
        category = db.session.scalar(select(Category.id).where(Category.name == "占道经营"))
        db.session.remove()
    return place, category


def _race(app, case_id: int, moves: list[tuple[str, dict]]) -> list:
    """Fire every move at once, each from its own client (its own app context and connection)."""
    apis = [_login(app, username) for username, _ in moves]
    barrier = threading.Barrier(len(moves))
    results: list = [None] * len(moves)

    def run(index: int):
        barrier.wait()
        res = apis[index].post(f"/cases/{case_id}/transitions", json=moves[index][1])
        results[index] = (res.status_code, res.get_json())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(moves))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def _events(app, case_id: int, action: str) -> int:
    from app.core.timeline import TimelineEvent

    with app.app_context():
        count = db.session.scalar(select(func.count(TimelineEvent.id)).where(
            TimelineEvent.subject_type == "case", TimelineEvent.subject_id == case_id,
            TimelineEvent.action == action))
        db.session.remove()
    return count


def _report(app, fake_wechat) -> int:
    place, category = _ids(app)
    client = app.test_client()
    token = client.post("/mp/v1/auth/login", json={"code": fake_wechat.issue_code()}).get_json()["access_token"]
    res = Api(client, token).post("/cases", json={"place_id": place, "category_id": category,
                                                  "description": "商户在人行道上堆放货物。"})
    assert res.status_code == 201, res.get_json()
    return res.get_json()["id"]


@pytest.mark.parametrize("round_", range(3))
def test_two_staff_accept_at_once_exactly_one_wins(app, fake_wechat, round_):
    case_id = _report(app, fake_wechat)
    results = _race(app, case_id, [("grid_east1", {"action": "accept"}),
                                   ("east_admin", {"action": "accept", "note": "社区受理"})])
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409], results
    loser = next(body for status, body in results if status == 409)
    assert "其他人" in loser["message"] or "allowed_actions" in loser["errors"]
    assert _events(app, case_id, "accept") == 1
    # Nothing half-written: the case shows one acceptance and exactly one reporter notification.
    from app.notifications.models import Notification

    with app.app_context():
        rows = db.session.scalar(select(func.count(Notification.id)).where(
            Notification.kind == "case_accepted", Notification.subject_id == case_id))
        db.session.remove()
    assert rows == 1


def test_reject_and_handle_race_leaves_one_outcome(app, fake_wechat):
    case_id = _report(app, fake_wechat)
    results = _race(app, case_id, [("grid_east1", {"action": "reject", "reason": "已自行整改"}),
                                   ("east_admin", {"action": "accept"})])
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409], results
    winner = next(body for status, body in results if status == 200)
    assert _events(app, case_id, "reject") + _events(app, case_id, "accept") == 1
    check = _login(app, "east_admin").get(f"/cases/{case_id}").get_json()
    assert check["status"] == winner["status"]
    assert len(check["timeline"]) == 2
