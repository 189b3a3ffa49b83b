"""Concurrent replays of one creating request: exactly one object, and every caller gets the same answer."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from tests.api.test_case_concurrency import _ids
from tests.conftest import Api

pytestmark = pytest.mark.postgres


def test_concurrent_replays_create_one_case_and_answer_alike(app, fake_wechat):
    from app.cases.models import Case

    place, category = _ids(app)
    login = app.test_client().post("/mp/v1/auth/login", json={"code": fake_wechat.issue_code()})
    token = login.get_json()["access_token"]
    body = {"place_id": place, "category_id": category, "description": "消防通道被私家车堵住了。"}
    clients = [Api(app.test_client(), token) for _ in range(12)]
    barrier = threading.Barrier(len(clients))
    results: list = [None] * len(clients)

    def run(index: int):
        barrier.wait()
        res = clients[index].post("/cases", json=body, headers={"Idempotency-Key": "same-tap-twice"})
        results[index] = (res.status_code, res.get_json())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    statuses = [status for status, _ in results]
    assert statuses == [201] * len(clients), results
    assert len({body["id"] for _, body in results}) == 1
    assert len({body["tracking_no"] for _, body in results}) == 1
    with app.app_context():
        count = db.session.scalar(select(func.count(Case.id)).where(Case.description == body["description"]))
        db.session.remove()
    assert count == 1
