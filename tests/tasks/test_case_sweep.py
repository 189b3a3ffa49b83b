"""The deadline sweep: one reminder before, overdue and escalation after, with the clock moved forward."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.time import travel
from app.extensions import db
from tasks.cases import sweep_deadlines


@pytest.fixture
def ids():
    from app.accounts.models import User
    from app.areas.models import Department, Place
    from app.cases.models import Category

    found = {}
    for model, key in ((Place, Place.name), (Category, Category.name), (Department, Department.name)):
        found.update({name: pk for name, pk in db.session.execute(select(key, model.id))})
    found.update({name: pk for name, pk in db.session.execute(
        select(User.username, User.id).where(User.username.is_not(None)))})
    return found


def sent(kind, case_id):
    from app.notifications.models import Notification

    return sorted(db.session.scalars(select(Notification.user_id).where(
        Notification.kind == kind, Notification.subject_type == "case", Notification.subject_id == case_id)))


def report(api, place_id, category_id, text):
    res = api.post("/cases", json={"place_id": place_id, "category_id": category_id, "description": text})
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def test_acceptance_deadline_reminds_once_then_marks_overdue_and_escalates(login, ids):
    resident = login.resident()
    # 安全隐患: one hour to accept, around the clock. The reminder comes 15 minutes before.
    case = report(resident, ids["东城小区1号楼"], ids["安全隐患"], "配电箱门被撬开，电线裸露。")
    sweep_deadlines()
    assert sent("case_due_soon", case["id"]) == []

    travel(timedelta(minutes=50))
    sweep_deadlines()
    assert sent("case_due_soon", case["id"]) == [ids["grid_east1"]]
    sweep_deadlines()
    assert sent("case_due_soon", case["id"]) == [ids["grid_east1"]]  # once
    assert sent("case_overdue", case["id"]) == []

    travel(timedelta(minutes=15))
    result = sweep_deadlines()
    assert result["overdue"] >= 1
    assert sent("case_overdue", case["id"]) == [ids["grid_east1"]]
    assert sent("case_overdue_escalated", case["id"]) == [ids["east_admin"]]
    sweep_deadlines()
    assert sent("case_overdue_escalated", case["id"]) == [ids["east_admin"]]  # still once

    admin = login("east_admin")
    body = admin.get(f"/cases/{case['id']}").get_json()
    assert body["overdue"] is True and body["status"] == "submitted"
    assert body["timeline"][-1]["action"] == "overdue" and body["timeline"][-1]["actor_label"] == "系统"
    overdue_queue = [c["id"] for c in admin.get("/cases?overdue=true&limit=100").get_json()["items"]]
    assert case["id"] in overdue_queue
    # Nobody outside the community is told, and the queue of another community does not show it.
    assert ids["west_admin"] not in sent("case_overdue_escalated", case["id"])
    west_queue = [c["id"] for c in login("west_admin").get("/cases?overdue=true&limit=100").get_json()["items"]]
    assert case["id"] not in west_queue

    # Accepting starts the handling clock: no longer overdue.
    accepted = login("grid_east1").post(f"/cases/{case['id']}/transitions", json={"action": "accept"})
    assert accepted.status_code == 200
    assert accepted.get_json()["overdue"] is False
    assert case["id"] not in [c["id"] for c in admin.get("/cases?overdue=true&limit=100").get_json()["items"]]


def test_handling_deadline_of_a_department_reaches_the_department_and_the_supervisor(login, ids):
    resident = login.resident()
    # 环境卫生: 24 hours to handle, around the clock.
    case = report(resident, ids["幸福里3号楼2单元"], ids["环境卫生"], "单元门口的污水井冒水。")
    admin = login("east_admin")
    for action, extra in (("accept", {}), ("dispatch", {"department_id": ids["住建物业办"]})):
        res = admin.post(f"/cases/{case['id']}/transitions", json={"action": action, **extra})
        assert res.status_code == 200, res.get_json()

    travel(timedelta(hours=19))
    sweep_deadlines()
    assert sent("case_due_soon", case["id"]) == [ids["dept_wy"]]

    travel(timedelta(hours=6))
    sweep_deadlines()
    assert sent("case_overdue", case["id"]) == [ids["dept_wy"]]
    assert sent("case_overdue_escalated", case["id"]) == [ids["east_admin"]]
    wy = login("dept_wy")
    assert [c["id"] for c in wy.get("/cases?overdue=true&assigned_to_me=true").get_json()["items"]] == [case["id"]]

    # Handling in the end clears the clock; later sweeps leave it alone.
    res = wy.post(f"/cases/{case['id']}/transitions", json={"action": "handle", "note": "已疏通。"})
    assert res.status_code == 200 and res.get_json()["overdue"] is False
    travel(timedelta(days=3))
    sweep_deadlines()
    assert sent("case_overdue", case["id"]) == [ids["dept_wy"]]


def test_a_case_handled_in_time_is_never_marked(login, ids):
    resident = login.resident()
    case = report(resident, ids["东城小区2号楼"], ids["噪音扰民"], "凌晨有人在楼下喝酒喧哗。")
    grid = login("grid_east1")
    for action, extra in (("accept", {}), ("handle", {"note": "已劝离。"})):
        assert grid.post(f"/cases/{case['id']}/transitions", json={"action": action, **extra}).status_code == 200
    travel(timedelta(days=2))
    sweep_deadlines()
    assert sent("case_due_soon", case["id"]) == [] and sent("case_overdue", case["id"]) == []
