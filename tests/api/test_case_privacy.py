"""Following and the similar lookup, attacked: a case id or a place id is not a key to someone else's report."""
from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from app.areas.models import Place
from app.cases.models import Category
from app.codes.models import Code
from app.extensions import db

PRIVATE_TEXT = "三单元的张某家里漏水，电话找不到人。"


def _place(name="东城小区1号楼") -> Place:
    return db.session.scalar(select(Place).where(Place.name == name))


def _scene(place: Place) -> str:
    return db.session.scalar(select(Code.scene).where(Code.place_id == place.id, Code.active.is_(True)))


def _category() -> int:
    return db.session.scalar(select(Category.id).where(Category.name == "设施损坏"))


def _photo(api) -> dict:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 90, 160)).save(buffer, "JPEG")
    return api.client.post("/mp/v1/uploads", data={"file": (io.BytesIO(buffer.getvalue()), "p.jpg")},
                           headers=api.headers(), content_type="multipart/form-data").get_json()


def _reported(login) -> tuple[dict, dict]:
    """A resident's case with a photo, accepted by the grid worker with a note."""
    owner = login.resident()
    photo = _photo(owner)
    case = owner.post("/cases", json={"scene": _scene(_place()), "category_id": _category(),
                                      "description": PRIVATE_TEXT, "photo_ids": [photo["id"]]}).get_json()
    login("grid_east1").post(f"/cases/{case['id']}/transitions", json={"action": "accept", "note": "已联系物业王经理"})
    return case, photo


def _leaks(body, case, photo) -> list[str]:
    text = str(body)
    return [secret for secret in (case["tracking_no"], PRIVATE_TEXT, photo["url"], photo["thumb_url"], "王经理")
            if secret in text]


def test_a_resident_cannot_follow_a_case_by_its_id(login):
    case, photo = _reported(login)
    stranger = login.resident()
    for body in (None, {"follow_token": None}, {"follow_token": "forged.token.value"}):
        res = stranger.post(f"/cases/{case['id']}/follow", json=body)
        assert res.status_code == 404, body
        assert _leaks(res.get_json(), case, photo) == []
    assert stranger.get("/cases?following=true").get_json()["items"] == []


def test_a_follow_token_is_for_one_case_and_one_caller(login):
    case, _ = _reported(login)
    neighbour, other = login.resident(), login.resident()
    found = neighbour.get(f"/cases/similar?scene={_scene(_place())}&category_id={_category()}").get_json()
    token = next(c["follow_token"] for c in found if c["id"] == case["id"])
    assert other.post(f"/cases/{case['id']}/follow", json={"follow_token": token}).status_code == 404
    another = login.resident().post("/cases", json={"scene": _scene(_place("东城小区2号楼")),
                                                     "category_id": _category(), "description": "门禁坏了"}).get_json()
    assert neighbour.post(f"/cases/{another['id']}/follow", json={"follow_token": token}).status_code == 404
    # Staff outside the case's area cannot use one either.
    west = login("west_admin")
    west_token = west.get(f"/cases/similar?scene={_scene(_place())}&category_id={_category()}").get_json()[0]
    assert west.post(f"/cases/{case['id']}/follow", json={"follow_token": west_token["follow_token"]}).status_code == 404


def test_a_neighbour_who_follows_sees_progress_not_the_report(login):
    case, photo = _reported(login)
    neighbour = login.resident()
    found = neighbour.get(f"/cases/similar?scene={_scene(_place())}&category_id={_category()}")
    assert found.status_code == 200
    item = next(c for c in found.get_json() if c["id"] == case["id"])
    assert set(item) == {"id", "status", "status_label", "category", "reported_on", "is_mine", "follow_token"}
    assert _leaks(found.get_json(), case, photo) == []

    followed = neighbour.post(f"/cases/{case['id']}/follow", json={"follow_token": item["follow_token"]})
    assert followed.status_code == 200
    body = followed.get_json()
    assert body["following"] is True and body["status"] == "accepted"
    assert _leaks(body, case, photo) == []
    assert body["tracking_no"] is None and body["description"] is None and body["photos"] == []
    # The same holds wherever the followed case shows up again.
    assert _leaks(neighbour.get(f"/cases/{case['id']}").get_json(), case, photo) == []
    assert _leaks(neighbour.get("/cases?following=true").get_json(), case, photo) == []
    export = neighbour.get("/cases/export.csv?following=true")
    assert export.status_code == 200
    assert _leaks(export.get_data(as_text=True), case, photo) == []
    # Staff in scope still see everything.
    owner_view = login("grid_east1").get(f"/cases/{case['id']}").get_json()
    assert owner_view["tracking_no"] == case["tracking_no"] and owner_view["description"] == PRIVATE_TEXT


def test_the_similar_lookup_needs_the_scanned_code(login):
    case, photo = _reported(login)
    place = _place()
    prober = login.resident()
    res = prober.get(f"/cases/similar?place_id={place.id}&category_id={_category()}")
    assert res.status_code == 403
    assert _leaks(res.get_json(), case, photo) == []
    # Staff may look up a place of their own scope by id, not another community's.
    assert login("grid_east1").get(f"/cases/similar?place_id={place.id}&category_id={_category()}").status_code == 200
    assert login("west_admin").get(f"/cases/similar?place_id={place.id}&category_id={_category()}").status_code == 403


def test_a_report_answer_lists_similar_cases_without_their_details(login):
    case, photo = _reported(login)
    second = login.resident().post("/cases", json={"scene": _scene(_place()), "category_id": _category(),
                                                  "description": "楼道灯也不亮"}).get_json()
    assert [c["id"] for c in second["similar"]] == [case["id"]]
    assert _leaks(second["similar"], case, photo) == []
