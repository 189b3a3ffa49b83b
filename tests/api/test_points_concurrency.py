"""Points under real concurrency on PostgreSQL: one source pays once, a rush on a scarce item gives exactly its
stock, and nobody spends more points than they have."""
from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

pytestmark = pytest.mark.postgres


def _rush(n: int, work) -> list:
    barrier = threading.Barrier(n)
    results, lock = [], threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        outcome = work(i)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert len(results) == n
    return results


def _grant(app, user_ids: list[int], points: int) -> None:
    """Points a resident already has (an approved application each), written straight to the ledger."""
    from app.areas.models import Area
    from app.core import uow
    from app.extensions import db
    from app.points import ledger

    with app.app_context():
        east = db.session.scalar(select(Area).where(Area.name == "东城社区"))
        for uid in user_ids:
            assert ledger.post(user_id=uid, points=points, kind="earn", source_type="application", source_id=uid,
                               community_id=east.id, area_path=east.path, note="测试：已得积分") is not None
        uow.commit()
        db.session.remove()


def test_twenty_simultaneous_settlements_of_one_praise_pay_once(app, login):
    from app.areas.models import Area
    from app.core import uow
    from app.core.time import utcnow
    from app.extensions import db
    from app.points import ledger
    from app.points.models import PointAccount, PointEntry

    worker = login.resident()
    uid = worker.get("/me").get_json()["id"]
    with app.app_context():
        path = db.session.scalar(select(Area.path).where(Area.name == "东城社区第一网格"))
        db.session.remove()

    def settle(_i: int) -> str:
        with app.app_context():
            try:
                entry = ledger.settle("praise", 777001, user_id=uid, area_path=path, occurred_at=utcnow())
                uow.commit()
                return "paid" if entry is not None else "nothing"
            finally:
                db.session.remove()

    outcomes = Counter(_rush(20, settle))
    assert outcomes == {"paid": 1, "nothing": 19}, outcomes
    with app.app_context():
        lines = db.session.scalars(select(PointEntry).where(PointEntry.user_id == uid)).all()
        assert [(e.source_type, e.source_id, e.points, e.revision) for e in lines] == [("praise", 777001, 1, 0)]
        assert db.session.scalar(select(PointAccount.balance).where(PointAccount.user_id == uid)) == 1
        db.session.remove()


def test_two_hundred_redemptions_of_ten_in_stock_give_exactly_ten(app, login):
    from app.extensions import db
    from app.points.models import PointAccount, PointEntry, Redemption, ShopItem

    east = login("east_admin")
    community = east.get("/admin/areas?level=community&limit=100").get_json()["items"]
    east_id = next(a["id"] for a in community if a["name"] == "东城社区")
    item = east.post("/points/shop/items", json={"community_id": east_id, "name": "节日礼包", "price": 30, "stock": 10})
    assert item.status_code == 201, item.get_json()
    item_id = item.get_json()["id"]
    residents = [login.resident() for _ in range(200)]
    ids = [r.get("/me").get_json()["id"] for r in residents]
    _grant(app, ids, 50)

    def redeem(i: int) -> int:
        response = app.test_client().post(f"/mp/v1/points/shop/items/{item_id}/redemptions",
                                          headers={"Authorization": f"Bearer {residents[i].token}"})
        return response.status_code

    codes = Counter(_rush(200, redeem))
    assert codes == {201: 10, 409: 190}, codes
    with app.app_context():
        assert db.session.get(ShopItem, item_id).stock == 0
        winners = db.session.scalars(select(Redemption.user_id).where(Redemption.shop_item_id == item_id)).all()
        assert len(winners) == len(set(winners)) == 10
        spent = db.session.scalar(select(func.sum(PointEntry.points)).where(PointEntry.kind == "spend",
                                                                            PointEntry.user_id.in_(ids)))
        assert spent == -300
        balances = Counter(db.session.scalars(select(PointAccount.balance).where(PointAccount.user_id.in_(ids))))
        assert balances == {50: 190, 20: 10}
        db.session.remove()


def test_one_resident_racing_themself_never_overspends(app, login):
    from app.extensions import db
    from app.points.models import PointAccount, PointEntry

    east = login("east_admin")
    community = east.get("/admin/areas?level=community&limit=100").get_json()["items"]
    east_id = next(a["id"] for a in community if a["name"] == "东城社区")
    item_id = east.post("/points/shop/items", json={"community_id": east_id, "name": "抽纸一提", "price": 10,
                                                    "stock": 100}).get_json()["id"]
    resident = login.resident()
    uid = resident.get("/me").get_json()["id"]
    _grant(app, [uid], 35)

    def redeem(_i: int) -> int:
        return app.test_client().post(f"/mp/v1/points/shop/items/{item_id}/redemptions",
                                      headers={"Authorization": f"Bearer {resident.token}"}).status_code

    codes = Counter(_rush(20, redeem))
    assert codes == {201: 3, 409: 17}, codes
    with app.app_context():
        assert db.session.scalar(select(PointAccount.balance).where(PointAccount.user_id == uid)) == 5
        assert db.session.scalar(select(func.sum(PointEntry.points)).where(PointEntry.user_id == uid)) == 5
        db.session.remove()


def test_two_approvers_deciding_one_application_at_once_pay_it_once(app, login):
    """grid_east1 (the item's approver) and east_admin approve the same application at the same instant."""
    from app.extensions import db
    from app.points.models import PointEntry

    resident = login.resident()
    uid = resident.get("/me").get_json()["id"]
    east = login("east_admin")
    east_id = next(a["id"] for a in east.get("/admin/areas?level=community&limit=100").get_json()["items"]
                   if a["name"] == "东城社区")
    item = next(i for i in login.anonymous().get(f"/points/schemes/current?community_id={east_id}").get_json()["items"]
                if i["code"] == "B01")
    # A household in 东城's first grid, so that its grid worker approves the item (B01: 网格员审核).
    place_id = next(p["id"] for p in east.get("/admin/places?limit=100").get_json()["items"] if p["name"] == "东城小区1号楼")
    assert resident.post("/points/households", json={"place_id": place_id, "room": "9单元909"}).status_code == 201
    made = resident.post("/points/applications", json={"item_id": item["id"], "note": "门前打扫干净了"}).get_json()
    approvers = [east, login("grid_east1")] * 5

    def decide(i: int) -> int:
        return app.test_client().post(f"/mp/v1/points/applications/{made['id']}/decision", json={"approve": True},
                                      headers={"Authorization": f"Bearer {approvers[i].token}"}).status_code

    codes = Counter(_rush(len(approvers), decide))
    assert codes == {200: 1, 409: len(approvers) - 1}, codes
    with app.app_context():
        lines = db.session.scalars(select(PointEntry.points).where(PointEntry.user_id == uid)).all()
        assert lines == [item["points"]]
        db.session.remove()
