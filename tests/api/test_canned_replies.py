"""Canned replies belong to an area: a community admin writes for their community and deletes only in their scope."""
from __future__ import annotations

from sqlalchemy import select

from app.cases.models import CannedReply, Category
from app.extensions import db
from tests.console_client import Console


def _category() -> Category:
    return db.session.scalar(select(Category).where(Category.name == "环境卫生"))


def _titles(api) -> set[str]:
    items = api.get("/categories?limit=100").get_json()["items"]
    return {r["title"] for c in items if c["name"] == "环境卫生" for r in c["canned_replies"]}


def _exists(reply_id: int) -> bool:
    db.session.expire_all()
    return db.session.get(CannedReply, reply_id) is not None


def test_a_community_admins_reply_is_seen_in_their_community_only(login, areas):
    east = login("east_admin")
    made = east.post(f"/categories/{_category().id}/replies", json={"title": "东城专用", "body": "东城社区已安排。"})
    assert made.status_code == 201
    assert made.get_json()["area_id"] == areas["东城社区"].id
    assert "东城专用" in _titles(login("grid_east1"))
    assert "东城专用" in _titles(login("street_admin"))
    for outsider in ("west_admin", "grid_west1"):
        assert "东城专用" not in _titles(login(outsider)), outsider
    # County-wide replies are everyone's.
    assert "已安排保洁" in _titles(login("grid_west1"))


def test_an_admin_cannot_write_replies_for_another_community(login, areas):
    res = login("east_admin").post(f"/categories/{_category().id}/replies",
                                   json={"title": "冒名", "body": "内容", "area_id": areas["西园社区"].id})
    assert res.status_code == 403


def test_another_communitys_admin_cannot_delete_a_reply(app, login):
    made = login("east_admin").post(f"/categories/{_category().id}/replies",
                                    json={"title": "东城专用", "body": "东城社区已安排。"}).get_json()
    assert login("west_admin").client.delete(f"/mp/v1/categories/replies/{made['id']}",
                                             headers=login("west_admin").headers()).status_code in (403, 404)
    assert _exists(made["id"])
    west = Console(app.test_client(), "west_admin")
    west.post(f"/console/replies/{made['id']}/delete")
    assert [kind for kind, _ in west.flashes()] == ["error"]
    assert _exists(made["id"])
    assert "东城专用" not in west.get("/console/categories").get_data(as_text=True)


def test_a_community_admin_cannot_delete_county_wide_replies(app, login):
    seeded = db.session.scalar(select(CannedReply).where(CannedReply.category_id == _category().id))
    east = login("east_admin")
    assert east.client.delete(f"/mp/v1/categories/replies/{seeded.id}", headers=east.headers()).status_code == 403
    console = Console(app.test_client(), "east_admin")
    console.post(f"/console/replies/{seeded.id}/delete")
    assert [kind for kind, _ in console.flashes()] == ["error"]
    assert _exists(seeded.id)


def test_the_street_admin_deletes_a_community_reply_in_their_street(login):
    made = login("east_admin").post(f"/categories/{_category().id}/replies",
                                    json={"title": "东城专用", "body": "东城社区已安排。"}).get_json()
    street = login("street_admin")
    assert street.client.delete(f"/mp/v1/categories/replies/{made['id']}", headers=street.headers()).status_code == 204
    assert not _exists(made["id"])


def test_a_case_offers_the_replies_of_its_own_area_chain(app, login, areas):
    east = login("east_admin")
    west = login("west_admin")
    east.post(f"/categories/{_category().id}/replies", json={"title": "东城专用", "body": "东城社区已安排。"})
    west.post(f"/categories/{_category().id}/replies", json={"title": "西园专用", "body": "西园社区已安排。"})
    from app.areas.models import Place

    place = db.session.scalar(select(Place).where(Place.name == "东城小区1号楼"))
    case = login.resident().post("/cases", json={"place_id": place.id, "category_id": _category().id,
                                                 "description": "垃圾没清运"}).get_json()
    page = Console(app.test_client(), "street_admin").get(f"/console/cases/{case['id']}").get_data(as_text=True)
    assert "东城专用" in page and "已安排保洁" in page and "西园专用" not in page
