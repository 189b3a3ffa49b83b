"""Races on PostgreSQL with real concurrent connections: donors pledging the last items, and a member
accepting an offer at the instant the community takes it back."""
from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from tests.api.wishflow import act, new_member, post_wish

pytestmark = pytest.mark.postgres


def _areas(app):
    from app.areas.models import Area
    from app.extensions import db

    with app.app_context():
        areas = {a.name: SimpleNamespace(id=a.id) for a in db.session.scalars(select(Area))}
        db.session.remove()
    return areas


def _together(app, calls):
    """Run each (token, path, body) at the same instant; returns [(index, status, body)]."""
    barrier = threading.Barrier(len(calls))
    results, lock = [], threading.Lock()

    def run(index, token, path, body):
        client = app.test_client()
        barrier.wait()
        res = client.post(f"/mp/v1{path}", json=body, headers={"Authorization": f"Bearer {token}"})
        with lock:
            results.append((index, res.status_code, res.get_json()))

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return sorted(results)


def test_twenty_donors_pledge_the_last_three_items(app, login):
    from app.extensions import db
    from app.wishes.models import WishPledge

    areas = _areas(app)
    resident = login.resident()
    wish = post_wish(resident, areas, category="goods", title="冬天需要三床棉被", quantity=5)
    act(login("east_admin"), wish["id"], "approve")
    first = login.resident()
    assert first.post(f"/wishes/{wish['id']}/pledges", json={"quantity": 2}).status_code == 201
    donors = [login.resident() for _ in range(20)]
    results = _together(app, [(d.token, f"/wishes/{wish['id']}/pledges", {"quantity": 1}) for d in donors])
    codes = [code for _, code, _ in results]
    assert [c for c in codes if c >= 500] == []
    assert codes.count(201) == 3 and codes.count(409) == 17, codes
    assert all("认捐" in body["message"] for _, code, body in results if code == 409)
    with app.app_context():
        total = db.session.scalar(select(func.sum(WishPledge.quantity)).where(WishPledge.wish_id == wish["id"]))
        assert total == 5
        db.session.remove()


def test_accept_and_take_back_at_the_same_instant_one_wins(app, login):
    from app.extensions import db
    from app.wishes.models import Wish

    areas = _areas(app)
    admin = login("east_admin")
    for round_ in range(5):
        member, reg = new_member(login, areas, name=f"党员{round_}", admin=admin)
        wish = post_wish(login.resident(), areas, title=f"帮忙搬家具{round_}")
        act(admin, wish["id"], "approve")
        act(admin, wish["id"], "dispatch", member_id=reg["id"])
        results = _together(app, [
            (member.token, f"/wishes/{wish['id']}/transitions", {"action": "accept"}),
            (admin.token, f"/wishes/{wish['id']}/transitions", {"action": "take_back", "reason": "改由社区安排"}),
        ])
        codes = [code for _, code, _ in results]
        assert sorted(codes) == [200, 409], codes
        with app.app_context():
            stored = db.session.get(Wish, wish["id"])
            if codes[0] == 200:  # the member's accept won
                assert stored.status == "claimed" and stored.claimed_by is not None
            else:
                assert stored.status == "approved" and stored.claimed_by is None and stored.offered_to is None
            db.session.remove()


def test_two_admins_approve_the_last_place_of_a_post_at_once(app, login):
    from app.extensions import db
    from app.newgroups.models import PostClaim

    areas = _areas(app)
    east, street = login("east_admin"), login("street_admin")
    post = east.post("/new-groups/posts", json={"community_id": areas["东城社区"].id, "kind": "collector",
                                                "duties": "收集民情", "places": 1}).get_json()
    claims = []
    for n in range(2):
        rider = login.resident()
        reg = rider.post("/new-groups/workers", json={"name": f"骑手{n}", "kind": "rider", "platform": "美团外卖",
                                                      "work_area": "东城", "community_id": areas["东城社区"].id})
        east.post(f"/new-groups/workers/{reg.get_json()['id']}/transitions", json={"action": "approve"})
        claims.append(rider.post(f"/new-groups/posts/{post['id']}/claims", json={}).get_json()["id"])
    results = _together(app, [
        (east.token, f"/new-groups/claims/{claims[0]}/transitions", {"action": "approve"}),
        (street.token, f"/new-groups/claims/{claims[1]}/transitions", {"action": "approve"}),
    ])
    codes = sorted(code for _, code, _ in results)
    assert codes == [200, 409], results
    assert any("名额已满" in body["message"] for _, code, body in results if code == 409)
    with app.app_context():
        approved = db.session.scalar(select(func.count(PostClaim.id)).where(
            PostClaim.post_id == post["id"], PostClaim.status == "approved"))
        assert approved == 1
        db.session.remove()


def test_an_offer_accepted_twice_at_once_is_claimed_once(app, login):
    """A double tap (or two phones of one member): one acceptance, one timeline event, one clean conflict."""
    from app.core.timeline import TimelineEvent
    from app.extensions import db

    areas = _areas(app)
    admin = login("east_admin")
    member, reg = new_member(login, areas, name="双击党员", admin=admin)
    wish = post_wish(login.resident(), areas, title="帮忙修自行车")
    act(admin, wish["id"], "approve")
    act(admin, wish["id"], "dispatch", member_id=reg["id"])
    results = _together(app, [(member.token, f"/wishes/{wish['id']}/transitions", {"action": "accept"})] * 2)
    assert sorted(code for _, code, _ in results) == [200, 409], results
    with app.app_context():
        accepted = db.session.scalar(select(func.count(TimelineEvent.id)).where(
            TimelineEvent.subject_type == "wish", TimelineEvent.subject_id == wish["id"],
            TimelineEvent.action == "accept"))
        assert accepted == 1
        db.session.remove()
