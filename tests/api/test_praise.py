"""我要点赞: one praise per user, target and day; the public wall; the monthly ranking."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.areas.models import Place
from app.codes.models import Code
from app.core.time import travel
from app.extensions import db
from app.notifications.models import Notification
from app.praise.models import Praise


def scene_of(place_name: str) -> str:
    return db.session.scalar(select(Code.scene).join(Place, Place.id == Code.place_id)
                             .where(Place.name == place_name, Code.active.is_(True)))


def user_id(username: str) -> int:
    from app.accounts.models import User

    return db.session.scalar(select(User.id).where(User.username == username))


def test_praise_the_grid_worker_once_a_day(login):
    resident = login.resident()
    scene = scene_of("东城小区1号楼")
    target = next(t for t in resident.get(f"/scan/{scene}").get_json()["praise_targets"]
                  if t["target_type"] == "grid_worker")
    assert target["target_id"] == user_id("grid_east1")
    body = {"scene": scene, "target_type": "grid_worker", "target_id": target["target_id"],
            "message": "李网格员帮我们解决了停车难题"}
    res = resident.post("/praises", json=body)
    assert res.status_code == 201, res.get_json()
    assert res.get_json()["target_id"] == target["target_id"]
    again = resident.post("/praises", json=body)
    assert again.status_code == 409
    assert again.get_json()["message"] == "今天已经为TA点过赞了，明天再来吧。"
    # A different target the same day is fine; the same target tomorrow too.
    assert resident.post("/praises", json={"scene": scene, "target_type": "place", "message": "楼道很干净"}
                         ).status_code == 201
    travel(timedelta(days=1))
    assert resident.post("/praises", json=body).status_code == 201
    # The grid worker is told.
    notes = db.session.scalars(select(Notification).where(Notification.user_id == target["target_id"],
                                                          Notification.kind == "praise_received")).all()
    assert len(notes) == 2 and notes[0].page.startswith("pages/")


def test_the_day_is_the_local_day(login):
    """Two praises eight hours apart in UTC but on different Beijing days are both allowed."""
    from app.core.time import to_local, utcnow

    now = to_local(utcnow())
    # Move to 23:30 Beijing time today, praise, then to 00:30 tomorrow and praise again.
    travel(now.replace(hour=23, minute=30) - now)
    resident = login.resident()
    body = {"scene": scene_of("日晷公园东门"), "target_type": "place", "message": "夜景很好"}
    assert resident.post("/praises", json=body).status_code == 201
    travel(timedelta(hours=1))
    assert resident.post("/praises", json=body).status_code == 201


@pytest.mark.parametrize(("place", "target_type", "target", "message"), [
    ("东城小区1号楼", "merchant", None, "这里不是商户，请选择为场所点赞。"),
    ("东城小区1号楼", "grid_worker", "grid_east2", "只能为该网格的网格员点赞。"),
    ("西园小区5号楼", "party_member", "member_east", "只能为在本社区报到的党员点赞。"),
    ("东城小区1号楼", "grid_worker", None, "请选择要点赞的人。"),
])
def test_wrong_targets_are_422(login, place, target_type, target, message):
    resident = login.resident()
    res = resident.post("/praises", json={"scene": scene_of(place), "target_type": target_type,
                                          "target_id": user_id(target) if target else None, "message": "谢谢"})
    assert res.status_code == 422
    assert res.get_json()["message"] == message


def test_merchant_and_party_member_and_unknown_scene(login):
    resident = login.resident()
    shop = resident.post("/praises", json={"scene": scene_of("老王便民超市"), "target_type": "merchant",
                                           "message": "童叟无欺"})
    assert shop.status_code == 201
    member = resident.post("/praises", json={"scene": scene_of("东城小区2号楼"), "target_type": "party_member",
                                             "target_id": user_id("member_east"), "message": "热心肠"})
    assert member.status_code == 201
    res = resident.post("/praises", json={"scene": "pNoSuchScene", "target_type": "place", "message": "好"})
    assert res.status_code == 404 and res.get_json()["message"] == "二维码无效或已停用。"
    assert login.anonymous().post("/praises", json={"scene": scene_of("老王便民超市"), "target_type": "merchant",
                                                    "message": "好"}).status_code == 401


def test_risky_praise_text_is_refused_and_not_stored(login, fake_wechat):
    resident = login.resident()
    before = db.session.scalar(select(db.func.count(Praise.id)))
    res = resident.post("/praises", json={"scene": scene_of("东城小区1号楼"), "target_type": "place",
                                          "message": "含有违禁词的内容"})
    assert res.status_code == 422
    assert "不当信息" in res.get_json()["message"]
    assert fake_wechat.state.sec_checks[-1]["version"] == 2 and fake_wechat.state.sec_checks[-1]["scene"] == 2
    assert db.session.scalar(select(db.func.count(Praise.id))) == before


def test_praise_wall_is_public_per_community_with_masked_names(login, client, areas):
    resident = login.resident()
    resident.post("/praises", json={"scene": scene_of("西园菜市场"), "target_type": "merchant",
                                    "message": "菜新鲜价格公道"})
    east = client.get(f"/mp/v1/praises?community_id={areas['东城社区'].id}&limit=100").get_json()
    messages = [p["message"] for p in east["items"]]
    assert "老王常帮独居老人送米面上门，好人！" in messages  # demo data
    assert "菜新鲜价格公道" not in messages
    demo = next(p for p in east["items"] if p["message"].startswith("老王常帮"))
    assert demo["praiser"] == "李*生" and demo["target_name"] == "老王便民超市"
    assert "李福生" not in str(east)
    west = client.get(f"/mp/v1/praises?community_id={areas['西园社区'].id}").get_json()["items"]
    assert west[0]["message"] == "菜新鲜价格公道" and west[0]["target_type_label"] == "商户"
    mine = resident.get("/praises?mine=true").get_json()["items"]
    assert [(p["message"], p["praiser"]) for p in mine] == [("菜新鲜价格公道", "我")]
    assert client.get("/mp/v1/praises?mine=true").status_code == 401
    assert client.get(f"/mp/v1/praises?community_id={areas['东城社区第一网格'].id}").status_code == 404


def test_praise_wall_pages(client, areas):
    first = client.get(f"/mp/v1/praises?community_id={areas['东城社区'].id}&limit=2").get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = client.get(f"/mp/v1/praises?community_id={areas['东城社区'].id}&limit=2"
                        f"&cursor={first['next_cursor']}").get_json()
    assert {p["id"] for p in second["items"]}.isdisjoint({p["id"] for p in first["items"]})


def test_monthly_ranking(login, client, areas):
    community = areas["东城社区"].id
    before = client.get(f"/mp/v1/praises/ranking?community_id={community}").get_json()
    counts = {(i["target_type"], i["name"]): i["count"] for i in before["items"]}
    scene = scene_of("东城小区1号楼")
    for _ in range(2):
        login.resident().post("/praises", json={"scene": scene, "target_type": "grid_worker",
                                                "target_id": user_id("grid_east1"), "message": "点赞"})
    ranking = client.get(f"/mp/v1/praises/ranking?community_id={community}").get_json()
    assert ranking["items"][0]["name"] == "李网格员" and ranking["items"][0]["rank"] == 1
    assert ranking["items"][0]["count"] == counts.get(("grid_worker", "李网格员"), 0) + 2
    assert all(i["name"] != "王网格员" for i in ranking["items"])  # 西园's grid worker
    ranks = [i["rank"] for i in ranking["items"]]
    assert ranks == sorted(ranks)
    assert client.get("/mp/v1/praises/ranking?month=2020-01").get_json()["items"] == []
    assert client.get("/mp/v1/praises/ranking?month=2026-13").status_code == 422


@pytest.mark.postgres
def test_concurrent_double_praise_yields_one_row_and_one_409(app, fake_wechat):
    from app.core import uow
    from tests.conftest import Api

    with app.app_context():
        scene = scene_of("东城小区2号楼")
        db.session.remove()
    login_client = app.test_client()
    token = login_client.post("/mp/v1/auth/login", json={"code": fake_wechat.issue_code()}).get_json()["access_token"]
    barrier = threading.Barrier(4)
    results = []

    def attempt():
        api = Api(app.test_client(), token)
        barrier.wait()
        results.append(api.post("/praises", json={"scene": scene, "target_type": "place", "message": "好地方"})
                       .status_code)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 409, 409, 409]
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Praise.id)).where(Praise.message == "好地方")) == 1
        uow.rollback()
