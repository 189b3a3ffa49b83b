"""我要联系: a resident writes to a role at a place; the right staff see it, reply, and both are notified."""
from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import User
from app.areas.models import Place
from app.codes.models import Code
from app.extensions import db
from app.notifications.models import Notification


def scene_of(place_name: str) -> str:
    return db.session.scalar(select(Code.scene).join(Place, Place.id == Code.place_id)
                             .where(Place.name == place_name, Code.active.is_(True)))


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def notes(user_id: int, kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user_id,
                                                              Notification.kind == kind)))


def test_message_to_the_grid_worker_and_reply_visible_to_both(login):
    resident = login.resident()
    res = resident.post("/messages", json={"scene": scene_of("东城小区1号楼"), "to_role": "grid_worker",
                                           "body": "3单元楼道灯坏了一周了，晚上很黑。"})
    assert res.status_code == 201, res.get_json()
    thread = res.get_json()
    assert thread["to_role_label"] == "网格员" and thread["contact_name"] == "李网格员"
    assert thread["place"]["name"] == "东城小区1号楼"
    assert [m["body"] for m in thread["messages"]] == ["3单元楼道灯坏了一周了，晚上很黑。"]
    worker = user("grid_east1")
    [note] = notes(worker.id, "message_received")
    assert note.page == f"pages/messages/detail?id={thread['id']}"
    assert note.subject_type == "message_thread" and note.subject_id == thread["id"]

    grid = login("grid_east1")
    inbox = grid.get("/messages").get_json()["items"]
    assert thread["id"] in [t["id"] for t in inbox]
    seen = next(t for t in inbox if t["id"] == thread["id"])
    assert "*" in seen["resident_name"]  # the resident's name is masked for staff
    res = grid.post(f"/messages/{thread['id']}/replies", json={"body": "收到，今天下午就安排电工维修。"})
    assert res.status_code == 201, res.get_json()
    assert [m["from_resident"] for m in res.get_json()["messages"]] == [True, False]

    mine = resident.get("/messages").get_json()["items"]
    assert [t["id"] for t in mine] == [thread["id"]] and mine[0]["message_count"] == 2
    detail = resident.get(f"/messages/{thread['id']}").get_json()
    assert detail["messages"][1]["body"] == "收到，今天下午就安排电工维修。"
    assert detail["messages"][1]["author_name"] == "李网格员"
    [replied] = notes(resident.get("/me").get_json()["id"], "message_replied")
    assert replied.subject_id == thread["id"] and replied.page == f"pages/messages/detail?id={thread['id']}"
    # The resident writes back: the grid worker is told again.
    assert resident.post(f"/messages/{thread['id']}/replies", json={"body": "谢谢！"}).status_code == 201
    assert len(notes(worker.id, "message_received")) == 2


def test_scope_who_sees_a_thread(login):
    resident = login.resident()
    thread = resident.post("/messages", json={"scene": scene_of("东城小区1号楼"), "to_role": "grid_worker",
                                              "body": "小区门口有积水"}).get_json()
    path = f"/messages/{thread['id']}"
    assert login("east_admin").get(path).status_code == 200
    for outsider in (login("grid_east2"), login("west_admin"), login.resident()):
        assert outsider.get(path).status_code == 403
        assert outsider.post(f"{path}/replies", json={"body": "我来看看"}).status_code == 403
        assert thread["id"] not in [t["id"] for t in outsider.get("/messages?limit=100").get_json()["items"]]
    assert login.anonymous().get("/messages").status_code == 401
    assert resident.get("/messages/999999").status_code == 404


def test_message_to_police_without_account_goes_to_the_grid_workers(login):
    resident = login.resident()
    res = resident.post("/messages", json={"scene": scene_of("幸福里3号楼2单元"), "to_role": "police",
                                           "body": "最近夜里有人撬电动车锁"})
    assert res.status_code == 201
    assert res.get_json()["contact_name"] == "陈志强" and res.get_json()["to_role_label"] == "网格民警"
    assert len(notes(user("grid_east2").id, "message_received")) == 1
    assert notes(user("grid_east1").id, "message_received") == []


def test_message_to_a_contact_with_an_account_reaches_them(login, areas):
    from app.accounts.service import actor_for
    from app.contact.service import set_contact

    property_user = user("dept_wy")
    set_contact(actor_for(user("east_admin")), area_id=areas["东城社区第一网格"].id, role="property",
                name="晋源物业 刘丽华", phone="13834562210", user_id=property_user.id)
    resident = login.resident()
    thread = resident.post("/messages", json={"scene": scene_of("东城小区2号楼"), "to_role": "property",
                                              "body": "电梯异响，请派人检修"}).get_json()
    assert len(notes(property_user.id, "message_received")) == 1
    manager = login("dept_wy")
    assert [t["id"] for t in manager.get("/messages").get_json()["items"]] == [thread["id"]]
    assert manager.post(f"/messages/{thread['id']}/replies", json={"body": "明早九点到。"}).status_code == 201
    assert resident.get(f"/messages/{thread['id']}").get_json()["messages"][-1]["body"] == "明早九点到。"


def test_bad_messages_get_clear_errors(login, areas, fake_wechat):
    resident = login.resident()
    scene = scene_of("东城小区1号楼")
    res = resident.post("/messages", json={"scene": scene, "to_role": "grid_worker", "body": "这里有违禁词"})
    assert res.status_code == 422 and "不当信息" in res.get_json()["message"]
    assert resident.get("/messages").get_json()["items"] == []
    assert fake_wechat.state.sec_checks[-1]["version"] == 2
    res = resident.post("/messages", json={"scene": scene, "to_role": "mayor", "body": "你好"})
    assert res.status_code == 422
    res = resident.post("/messages", json={"scene": scene, "to_role": "police", "body": "   "})
    assert res.status_code == 422 and res.get_json()["message"] == "消息内容不能为空。"
    res = resident.post("/messages", json={"scene": "pNoSuchScene", "to_role": "police", "body": "你好"})
    assert res.status_code == 404 and res.get_json()["message"] == "二维码无效或已停用。"
    # A new grid with no staff and no contacts yet.
    admin = login("east_admin")
    grid = admin.post("/admin/areas", json={"name": "东城社区第三网格", "level": "grid",
                                            "parent_id": areas["东城社区"].id}).get_json()
    place = admin.post("/admin/places", json={"grid_id": grid["id"], "name": "新建小区1号楼"}).get_json()
    new_scene = admin.post("/admin/codes", json={"place_ids": [place["id"]]}).get_json()[0]["scene"]
    res = resident.post("/messages", json={"scene": new_scene, "to_role": "property", "body": "你好"})
    assert res.status_code == 422 and res.get_json()["message"] == "该场所暂未设置物业联系人。"
    res = resident.post("/messages", json={"scene": new_scene, "to_role": "grid_worker", "body": "你好"})
    assert res.status_code == 422 and res.get_json()["message"] == "该网格暂未配备网格员。"
