"""The claim rush on PostgreSQL: 50 approved members claim one wish at the same instant; exactly one wins."""
from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from tests.api.wishflow import act, new_member, post_wish

pytestmark = pytest.mark.postgres

MEMBERS = 50


def test_fifty_concurrent_claims_give_one_winner_and_forty_nine_clean_conflicts(app, login):
    from app.areas.models import Area
    from app.core.timeline import TimelineEvent
    from app.extensions import db
    from app.wishes.models import Wish

    with app.app_context():
        areas = {a.name: SimpleNamespace(id=a.id) for a in db.session.scalars(select(Area))}
        db.session.remove()
    admin = login("east_admin")
    members = [new_member(login, areas, name=f"党员{n:02d}", admin=admin)[0] for n in range(MEMBERS)]
    resident = login.resident()
    wish = post_wish(resident, areas, title="帮独居老人搬一台旧冰箱")
    act(admin, wish["id"], "approve")

    barrier = threading.Barrier(MEMBERS)
    results: list[tuple[str, int, dict]] = []
    lock = threading.Lock()

    def claim(token: str) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(f"/mp/v1/wishes/{wish['id']}/transitions", json={"action": "claim"},
                               headers={"Authorization": f"Bearer {token}"})
        with lock:
            results.append((token, response.status_code, response.get_json()))

    threads = [threading.Thread(target=claim, args=(m.token,)) for m in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    codes = [code for _, code, _ in results]
    assert len(results) == MEMBERS
    assert [c for c in codes if c >= 500] == []
    assert codes.count(200) == 1, codes
    assert codes.count(409) == MEMBERS - 1, codes
    for _, code, body in results:
        if code == 409:
            assert set(body) == {"code", "status", "message", "errors"}
            assert "认领" in body["message"], body["message"]
    winner_token = next(token for token, code, _ in results if code == 200)
    winner = next(m for m in members if m.token == winner_token)
    winner_id = winner.get("/me").get_json()["id"]

    with app.app_context():
        stored = db.session.get(Wish, wish["id"])
        assert stored.status == "claimed" and stored.claimed_by == winner_id and stored.version == 3
        claims = db.session.scalar(select(func.count()).select_from(TimelineEvent).where(
            TimelineEvent.subject_type == "wish", TimelineEvent.subject_id == wish["id"],
            TimelineEvent.action == "claim"))
        assert claims == 1
        db.session.remove()
    # The winner sees the address; every loser sees the wish as claimed, without it.
    assert winner.get(f"/wishes/{wish['id']}").get_json()["contact"]["address"] == "东城小区2号楼1单元301"
    loser = next(m for m in members if m.token != winner_token)
    seen = loser.get(f"/wishes/{wish['id']}").get_json()
    assert seen["status"] == "claimed" and seen["contact"] is None
