"""The closed loop for reports, driven through the API as residents, grid workers, admins and departments."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import event, select

from app.core.time import travel
from app.extensions import db

# -- helpers ------------------------------------------------------------------------------------

@pytest.fixture
def places():
    from app.areas.models import Place

    return {p.name: p.id for p in db.session.scalars(select(Place))}


@pytest.fixture
def categories():
    from app.cases.models import Category

    return {c.name: c.id for c in db.session.scalars(select(Category))}


@pytest.fixture
def departments():
    from app.areas.models import Department

    return {d.name: d.id for d in db.session.scalars(select(Department))}


@pytest.fixture
def users():
    from app.accounts.models import User

    return {u.username: u.id for u in db.session.scalars(select(User).where(User.username.is_not(None)))}


def upload_photo(api) -> dict:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 80, 40)).save(buffer, "JPEG")
    res = api.client.post("/mp/v1/uploads", data={"file": (io.BytesIO(buffer.getvalue()), "photo.jpg")},
                          headers=api.headers(), content_type="multipart/form-data")
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def report(api, place_id, category_id, description="楼道里堆了很多杂物，影响通行。", **extra):
    res = api.post("/cases", json={"place_id": place_id, "category_id": category_id,
                                   "description": description, **extra})
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def act(api, case_id, action, expect=200, **args):
    res = api.post(f"/cases/{case_id}/transitions", json={"action": action, **args})
    assert res.status_code == expect, res.get_json()
    return res.get_json()


def notifications(kind, case_id):
    from app.notifications.models import Notification

    return sorted(db.session.scalars(select(Notification.user_id).where(
        Notification.kind == kind, Notification.subject_type == "case", Notification.subject_id == case_id)))


def me(api) -> dict:
    return api.get("/me").get_json()


# -- reporting ---------------------------------------------------------------------------------

def test_resident_reports_from_a_scanned_code_with_a_photo(login, places, categories, users):
    from app.codes.models import Code

    resident = login.resident()
    photo = upload_photo(resident)
    scene = db.session.scalar(select(Code.scene).where(Code.place_id == places["东城小区1号楼"],
                                                       Code.active.is_(True)))
    res = resident.post("/cases", json={"scene": scene, "category_id": categories["环境卫生"],
                                        "description": "3号楼门口垃圾桶满了两天没人清运。",
                                        "photo_ids": [photo["id"]]})
    assert res.status_code == 201, res.get_json()
    case = res.get_json()
    assert re.fullmatch(r"GZ\d{8}-[2-9A-HJ-NP-Z]{6}", case["tracking_no"])
    assert case["status"] == "submitted"
    assert case["place"]["name"] == "东城小区1号楼"
    assert case["photos"][0]["url"] == photo["url"]
    assert case["allowed_actions"] == ["withdraw"]
    assert case["due_at"] and case["timeline"][0]["action"] == "report"
    assert case["moderation"] is None  # residents never see the moderation result
    # The grid's worker hears about it and finds it in the queue.
    assert users["grid_east1"] in notifications("case_submitted", case["id"])
    grid = login("grid_east1")
    queue = grid.get("/cases?status=submitted").get_json()["items"]
    assert case["id"] in [c["id"] for c in queue]
    assert [c["id"] for c in resident.get("/cases?mine=true").get_json()["items"]] == [case["id"]]


def test_report_rejects_bad_input_in_chinese(login, places, categories):
    resident = login.resident()
    res = resident.post("/cases", json={"place_id": places["东城小区1号楼"], "category_id": categories["环境卫生"],
                                        "description": "长" * 501})
    assert res.status_code == 422
    res = resident.post("/cases", json={"category_id": categories["环境卫生"], "description": "有问题"})
    assert res.status_code == 422 and "上报地点" in res.get_json()["message"]
    res = resident.post("/cases", json={"scene": "nope", "category_id": categories["环境卫生"], "description": "x"})
    assert res.status_code == 404 and "二维码" in res.get_json()["message"]
    res = resident.post("/cases", json={"place_id": places["东城小区1号楼"], "category_id": 99999,
                                        "description": "有问题"})
    assert res.status_code == 422 and "类别" in res.get_json()["message"]
    other = login.resident()
    photo = upload_photo(other)
    res = resident.post("/cases", json={"place_id": places["东城小区1号楼"], "category_id": categories["环境卫生"],
                                        "description": "有问题", "photo_ids": [photo["id"]]})
    assert res.status_code == 403 and "自己上传" in res.get_json()["message"]
    assert login.anonymous().post("/cases", json={}).status_code in (401, 422)


def test_idempotent_report_creates_one_case(login, places, categories):
    resident = login.resident()
    body = {"place_id": places["东城小区1号楼"], "category_id": categories["环境卫生"], "description": "垃圾满了"}
    first = resident.post("/cases", json=body, headers={"Idempotency-Key": "k-1"})
    again = resident.post("/cases", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.get_json()["tracking_no"] == again.get_json()["tracking_no"]
    assert len(resident.get("/cases?mine=true").get_json()["items"]) == 1


def test_an_idempotency_key_is_remembered_for_24_hours_only(login, places, categories):
    resident = login.resident("openid-idempotent-24h")
    body = {"place_id": places["东城小区1号楼"], "category_id": categories["环境卫生"], "description": "垃圾满了"}
    first = resident.post("/cases", json=body, headers={"Idempotency-Key": "k-day"})
    travel(timedelta(hours=25))
    resident = login.resident("openid-idempotent-24h")  # the old token has expired too
    later = resident.post("/cases", json=body, headers={"Idempotency-Key": "k-day"})
    assert first.status_code == later.status_code == 201
    assert first.get_json()["tracking_no"] != later.get_json()["tracking_no"]  # a new report, not a replay
    again = resident.post("/cases", json=body, headers={"Idempotency-Key": "k-day"})
    assert again.get_json()["tracking_no"] == later.get_json()["tracking_no"]


# -- the paths through the loop -------------------------------------------------------------------

def test_small_matter_accepted_handled_verified_and_rated(login, places, categories, users):
    resident = login.resident()
    case = report(resident, places["东城小区2号楼"], categories["噪音扰民"], "楼下广场舞音响声音太大。")
    grid = login("grid_east1")
    accepted = act(grid, case["id"], "accept", note="马上去现场。")
    assert accepted["status"] == "accepted"
    assert set(accepted["allowed_actions"]) == {"handle", "escalate"}
    assert notifications("case_accepted", case["id"]) == [me(resident)["id"]]

    photo = upload_photo(grid)
    handled = act(grid, case["id"], "handle", note="已协调广场舞队调低音量。", photo_ids=[photo["id"]])
    assert handled["status"] == "handled" and handled["due_at"] is None
    # A grid worker never verifies their own work.
    assert handled["allowed_actions"] == []
    act(grid, case["id"], "verify", expect=403, passed=True)

    admin = login("east_admin")
    closed = act(admin, case["id"], "verify", passed=True, note="回访确认已解决。")
    assert closed["status"] == "closed" and closed["status_group"] == "closed"
    assert notifications("case_closed", case["id"]) == [me(resident)["id"]]

    detail = resident.get(f"/cases/{case['id']}").get_json()
    assert detail["can_rate"] is True and detail["allowed_actions"] == ["reopen"]
    # The reporter sees who acted by role, never by name.
    labels = [e["actor_label"] for e in detail["timeline"]]
    assert labels == ["居民", "网格员", "网格员", "社区管理员"]
    assert all(e["actor_name"] is None for e in detail["timeline"])
    text = resident.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "李网格员" not in text and "东城社区书记" not in text
    assert detail["timeline"][2]["photos"][0]["id"] == photo["id"]
    # Staff see the names.
    staff_view = admin.get(f"/cases/{case['id']}").get_json()
    assert staff_view["timeline"][1]["actor_name"] == "李网格员"

    rated = resident.post(f"/cases/{case['id']}/rating", json={"score": 5, "comment": "处理很及时"})
    assert rated.status_code == 200 and rated.get_json()["rating"] == 5
    again = resident.post(f"/cases/{case['id']}/rating", json={"score": 1})
    assert again.status_code == 409 and "已评价" in again.get_json()["message"]


def test_big_matter_escalated_dispatched_to_department_and_verified(login, places, categories, departments,
                                                                   users):
    resident = login.resident()
    case = report(resident, places["东城小区1号楼"], categories["设施损坏"], "单元门禁坏了，谁都能进。")
    grid = login("grid_east1")
    act(grid, case["id"], "accept")
    act(grid, case["id"], "escalate", expect=422)  # a reason is required
    escalated = act(grid, case["id"], "escalate", note="需更换门禁主板，请住建部门处理。")
    assert escalated["status"] == "accepted" and escalated["escalated"] is True
    assert escalated["allowed_actions"] == []  # handed up: the grid worker no longer handles it
    assert users["east_admin"] in notifications("case_escalated", case["id"])

    admin = login("east_admin")
    queue = admin.get("/cases?escalated=true&status=accepted").get_json()["items"]
    assert case["id"] in [c["id"] for c in queue]
    act(admin, case["id"], "dispatch", expect=422)  # neither assignee nor department
    dispatched = act(admin, case["id"], "dispatch", department_id=departments["住建物业办"], note="三日内修复")
    assert dispatched["status"] == "dispatched" and dispatched["department"]["name"] == "住建物业办"
    assert notifications("case_dispatched", case["id"]) == [users["dept_wy"]]

    # The other department neither sees nor acts on it.
    cg = login("dept_cg")
    assert cg.get(f"/cases/{case['id']}").status_code == 403
    act(cg, case["id"], "handle", expect=403, note="x")
    assert case["id"] not in [c["id"] for c in cg.get("/cases").get_json()["items"]]

    wy = login("dept_wy")
    mine = wy.get("/cases?assigned_to_me=true").get_json()["items"]
    assert mine[0]["id"] == case["id"] and mine[0]["allowed_actions"] == ["handle"]
    act(wy, case["id"], "handle", note="已更换门禁主板。")

    failed = act(admin, case["id"], "verify", expect=422, passed=False)
    failed = act(admin, case["id"], "verify", passed=False, reason="门禁仍无法刷卡开门。")
    assert failed["status"] == "dispatched" and failed["due_at"]
    assert users["dept_wy"] in notifications("case_returned", case["id"])
    act(wy, case["id"], "handle", note="已重新调试读卡器。")
    # A grid worker verifies the department's work on site.
    closed = act(grid, case["id"], "verify", passed=True, note="现场试用正常。")
    assert closed["status"] == "closed"

    timeline = resident.get(f"/cases/{case['id']}").get_json()["timeline"]
    assert [e["action"] for e in timeline] == ["report", "accept", "escalate", "dispatch", "handle", "verify",
                                               "handle", "verify"]
    assert timeline[3]["data"] == {"department": "住建物业办"}
    assert timeline[5]["note"] == "门禁仍无法刷卡开门。" and timeline[5]["to_state"] == "dispatched"


def test_dispatch_to_a_grid_worker_of_the_same_grid_only(login, places, categories, users):
    resident = login.resident()
    case = report(resident, places["东城小区1号楼"], categories["占道经营"], "商户把货物摆在消防通道。")
    admin = login("east_admin")
    act(admin, case["id"], "accept")
    res = act(admin, case["id"], "dispatch", expect=422, assignee_id=users["grid_east2"])
    assert "本网格" in res["message"]
    act(admin, case["id"], "dispatch", assignee_id=users["grid_east1"])
    assert notifications("case_dispatched", case["id"]) == [users["grid_east1"]]
    grid = login("grid_east1")
    assert grid.get("/cases?assigned_to_me=true").get_json()["items"][0]["id"] == case["id"]
    assert set(grid.get(f"/cases/{case['id']}").get_json()["allowed_actions"]) == {"handle", "escalate"}


def test_reject_needs_a_reason_and_tells_the_reporter(login, places, categories):
    resident = login.resident()
    case = report(resident, places["老王便民超市"], categories["邻里纠纷"], "隔壁邻居说话太大声。")
    grid = login("grid_east1")
    res = act(grid, case["id"], "reject", expect=422)
    assert res["message"] == "不予受理须说明理由。"
    rejected = act(grid, case["id"], "reject", reason="属正常生活声音，建议邻里沟通。")
    assert rejected["status"] == "rejected" and rejected["allowed_actions"] == []
    assert notifications("case_rejected", case["id"]) == [me(resident)["id"]]
    seen = resident.get(f"/cases/{case['id']}").get_json()
    assert seen["timeline"][-1]["note"] == "属正常生活声音，建议邻里沟通。"


def test_wrong_state_is_409_naming_allowed_actions(login, places, categories):
    resident = login.resident()
    case = report(resident, places["东城小区1号楼"], categories["环境卫生"])
    admin = login("east_admin")
    res = act(admin, case["id"], "verify", expect=409, passed=True)
    assert res["errors"]["allowed_actions"] == ["accept", "reject"]
    # What a person reads names the actions by their labels, never by the API's ids (DESIGN.md).
    assert res["message"] == "当前状态（待受理）下不能执行“核查”。现在可执行的操作：受理、不予受理。"
    assert not re.search(r"[a-z]", res["message"])
    act(admin, case["id"], "accept")
    res = act(resident, case["id"], "withdraw", expect=409)
    assert res["errors"]["allowed_actions"] == []
    res = act(admin, case["id"], "accept", expect=409)
    assert set(res["errors"]["allowed_actions"]) == {"dispatch", "handle"}
    # The right state but the wrong person: forbidden, still naming what they may do.
    res = act(resident, case["id"], "dispatch", expect=403)
    assert res["errors"]["allowed_actions"] == []
    bad = resident.post(f"/cases/{case['id']}/transitions", json={"action": "fly"})
    assert bad.status_code == 422


def test_withdraw_before_acceptance(login, places, categories):
    resident = login.resident()
    case = report(resident, places["东城小区1号楼"], categories["环境卫生"])
    withdrawn = act(resident, case["id"], "withdraw")
    assert withdrawn["status"] == "withdrawn" and withdrawn["status_group"] == "closed"
    grid = login("grid_east1")
    act(grid, case["id"], "accept", expect=409)


def test_reopen_within_seven_days_only(login, places, categories):
    resident = login.resident(openid="o_reopen")
    grid, admin = login("grid_east1"), login("east_admin")

    def closed_case(text):
        case = report(resident, places["东城小区1号楼"], categories["环境卫生"], text)
        act(grid, case["id"], "accept")
        act(grid, case["id"], "handle", note="已清理")
        act(admin, case["id"], "verify", passed=True)
        return case

    case = closed_case("垃圾又堆起来了")
    act(resident, case["id"], "reopen", expect=422)
    reopened = act(resident, case["id"], "reopen", reason="第二天又堆满了。")
    assert reopened["status"] == "accepted" and reopened["reopen_count"] == 1 and reopened["closed_at"] is None
    assert me(resident)["id"] in notifications("case_reopened", case["id"])
    act(login.resident(), case["id"], "reopen", expect=404, reason="x")  # a stranger learns nothing

    late = closed_case("楼道灯不亮")
    travel(timedelta(days=8))
    resident = login.resident(openid="o_reopen")  # the old login has expired by now
    res = act(resident, late["id"], "reopen", expect=409, reason="还是不亮")
    assert "7 天" in res["message"]


def test_rating_rules(login, places, categories):
    resident = login.resident()
    case = report(resident, places["东城小区1号楼"], categories["环境卫生"])
    res = resident.post(f"/cases/{case['id']}/rating", json={"score": 4})
    assert res.status_code == 409 and "办结后" in res.get_json()["message"]
    assert resident.post(f"/cases/{case['id']}/rating", json={"score": 6}).status_code == 422
    assert login("east_admin").post(f"/cases/{case['id']}/rating", json={"score": 5}).status_code == 403


# -- visibility ---------------------------------------------------------------------------------------

def test_anonymous_report_hides_the_reporter_from_staff(login, places, categories, users):
    resident = login.resident()
    who = me(resident)
    case = report(resident, places["东城小区2号楼"], categories["安全隐患"], "楼道里有人私拉电线。", anonymous=True)
    for username in ("grid_east1", "east_admin", "street_admin", "admin"):
        staff = login(username)
        res = staff.get(f"/cases/{case['id']}")
        body = res.get_json()
        assert body["anonymous"] is True and body["reporter"] is None
        assert body["timeline"][0]["actor_label"] == "匿名居民" and body["timeline"][0]["actor_name"] is None
        assert who["display_name"] not in res.get_data(as_text=True)
        listed = staff.get(f"/cases?q={case['tracking_no']}").get_data(as_text=True)
        assert who["display_name"] not in listed
    grid = login("grid_east1")
    act(grid, case["id"], "accept")
    after = grid.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert who["display_name"] not in after
    # The reporter still sees and tracks it.
    mine = resident.get("/cases?mine=true").get_json()["items"]
    assert [c["id"] for c in mine] == [case["id"]]
    assert resident.get(f"/cases/{case['id']}").get_json()["is_reporter"] is True
    assert notifications("case_accepted", case["id"]) == [who["id"]]


def test_named_report_shows_the_reporter_to_staff_masked(login, places, categories, fake_wechat):
    resident = login.resident()
    res = resident.post("/auth/phone", json={"code": fake_wechat.issue_phone_code("13912345678")})
    assert res.status_code == 200
    case = report(resident, places["东城小区2号楼"], categories["安全隐患"], "消防栓被杂物挡住了。")
    body = login("grid_east1").get(f"/cases/{case['id']}").get_json()
    assert body["reporter"]["phone"] == "139****5678"
    assert "13912345678" not in login("grid_east1").get(f"/cases/{case['id']}").get_data(as_text=True)


def test_scope_isolation_between_communities_and_departments(login, places, categories, departments, areas):
    resident = login.resident()
    west_case = report(resident, places["西园小区5号楼"], categories["环境卫生"], "西园5号楼下水道堵了。")
    for username in ("east_admin", "grid_east1", "grid_east2", "dept_cg", "dept_wy"):
        staff = login(username)
        res = staff.get(f"/cases/{west_case['id']}")
        assert res.status_code == 403, username
        assert res.get_json()["message"] == "该记录不在您的管辖范围内。"
        act(staff, west_case["id"], "accept", expect=403)
        ids = [c["id"] for c in staff.get("/cases?limit=100").get_json()["items"]]
        assert west_case["id"] not in ids
        found = staff.get(f"/cases?q={west_case['tracking_no']}").get_json()["items"]
        assert found == []
    assert login("east_admin").get(f"/cases?area_id={areas['西园社区'].id}").status_code == 403

    west = login("west_admin")
    assert west_case["id"] in [c["id"] for c in west.get("/cases").get_json()["items"]]
    act(west, west_case["id"], "accept")
    act(west, west_case["id"], "dispatch", department_id=departments["城管执法中队"])
    cg = login("dept_cg")
    assert cg.get(f"/cases/{west_case['id']}").status_code == 200
    assert cg.get("/cases").get_json()["items"][0]["id"] == west_case["id"]
    assert login("dept_wy").get(f"/cases/{west_case['id']}").status_code == 403
    assert login("street_admin").get(f"/cases/{west_case['id']}").status_code == 200
    # Another resident learns nothing about it.
    assert login.resident().get(f"/cases/{west_case['id']}").status_code == 404


def scene_of(place_id: int) -> str:
    from app.codes.models import Code

    return db.session.scalar(select(Code.scene).where(Code.place_id == place_id, Code.active.is_(True)))


def test_similar_reports_can_be_followed(login, places, categories):
    first, second = login.resident(), login.resident()
    case = report(first, places["日晷公园东门"], categories["安全隐患"], "东门的健身器材螺丝松了。")
    scene = scene_of(places["日晷公园东门"])
    before = second.get(f"/cases/similar?scene={scene}&category_id={categories['安全隐患']}")
    assert [c["id"] for c in before.get_json()] == [case["id"]]
    dup = report(second, places["日晷公园东门"], categories["安全隐患"], "健身器材有个单杠晃得厉害。")
    assert [c["id"] for c in dup["similar"]] == [case["id"]]
    other = report(second, places["日晷公园东门"], categories["环境卫生"], "东门垃圾桶满了。")
    assert case["id"] not in [c["id"] for c in other["similar"]]

    act(second, dup["id"], "withdraw")
    followed = second.post(f"/cases/{case['id']}/follow", json={"follow_token": dup["similar"][0]["follow_token"]})
    assert followed.status_code == 200
    body = followed.get_json()
    assert body["following"] is True and body["reporter"] is None and body["is_reporter"] is False
    assert [c["id"] for c in second.get("/cases?following=true").get_json()["items"]] == [case["id"]]
    act(second, case["id"], "withdraw", expect=404)  # following is not owning

    act(login("grid_east2"), case["id"], "accept")
    assert notifications("case_accepted", case["id"]) == sorted([me(first)["id"], me(second)["id"]])

    travel(timedelta(hours=73))
    late = second.get(f"/cases/similar?scene={scene}&category_id={categories['安全隐患']}")
    assert late.get_json() == []


def test_risky_text_is_held_for_review_and_not_public(login, places, categories, fake_wechat):
    resident = login.resident()
    case = report(resident, places["西园菜市场"], categories["占道经营"], "这里有违禁词出现")
    assert fake_wechat.state.sec_checks[-1]["scene"] == 3 and fake_wechat.state.sec_checks[-1]["version"] == 2
    staff = login("west_admin")
    assert staff.get(f"/cases/{case['id']}").get_json()["moderation"] == "risky"
    held = staff.get("/cases?moderation=risky").get_json()["items"]
    assert case["id"] in [c["id"] for c in held]
    other = login.resident()
    dup = report(other, places["西园菜市场"], categories["占道经营"], "摊位摆到了马路上")
    assert case["id"] not in [c["id"] for c in dup["similar"]]
    assert other.post(f"/cases/{case['id']}/follow").status_code == 404
    # The reporter still tracks it, and reads that it is under review.
    mine = resident.get(f"/cases/{case['id']}").get_json()
    assert mine["review_notice"] == "审核中" and mine["moderation"] is None


# -- queues ------------------------------------------------------------------------------------------

def test_queues_filters_and_keyset_pages(login, places, categories):
    resident = login.resident()
    made = [report(resident, places["幸福里3号楼2单元"], categories["噪音扰民"], f"第{i}次反映噪音")["id"]
            for i in range(5)]
    grid = login("grid_east2")
    act(grid, made[0], "accept")
    seen, cursor = [], None
    while True:
        res = grid.get("/cases?limit=2&status=submitted" + (f"&cursor={cursor}" if cursor else "")).get_json()
        seen.extend(c["id"] for c in res["items"])
        cursor = res["next_cursor"]
        if not cursor:
            break
    assert set(made[1:]) <= set(seen) and made[0] not in seen and len(seen) == len(set(seen))
    assert seen == sorted(seen, reverse=True)
    open_ids = [c["id"] for c in grid.get("/cases?status=open&limit=100").get_json()["items"]]
    assert set(made) <= set(open_ids)
    closed_ids = [c["id"] for c in grid.get("/cases?status=closed&limit=100").get_json()["items"]]
    assert not set(made) & set(closed_ids)
    assert grid.get("/cases?cursor=garbage").status_code == 400
    assert grid.get("/cases?status=lost").status_code == 422


def test_list_loads_a_page_without_n_plus_one(login, places, categories, app):
    resident = login.resident()
    for i in range(12):
        report(resident, places["东城小区1号楼"], categories["环境卫生"], f"第{i}处垃圾")
    admin = login("east_admin")
    admin.get("/cases?limit=1")  # warm up

    def statements(limit):
        count = []
        listener = lambda *args, **kwargs: count.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert admin.get(f"/cases?limit={limit}").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(count)

    assert statements(2) == statements(12)


def test_categories_with_limits_and_canned_replies(login):
    resident = login.resident()
    items = resident.get("/categories?limit=100").get_json()["items"]
    by_name = {c["name"]: c for c in items}
    assert {"环境卫生", "占道经营", "设施损坏", "噪音扰民", "邻里纠纷", "安全隐患"} <= set(by_name)
    assert by_name["设施损坏"]["working_days"] is True and by_name["安全隐患"]["accept_hours"] == 1
    assert by_name["环境卫生"]["canned_replies"] is None
    staff = login("grid_east1").get("/categories?limit=100").get_json()["items"]
    assert any(r["title"] == "已安排保洁" for c in staff if c["name"] == "环境卫生" for r in c["canned_replies"])

    body = {"name": "违章搭建", "accept_hours": 24, "handle_hours": 240, "working_days": True}
    assert login("east_admin").post("/categories", json=body).status_code == 403
    street = login("street_admin")
    created = street.post("/categories", json=body)
    assert created.status_code == 201
    assert street.post("/categories", json=body).status_code == 422
    cid = created.get_json()["id"]
    reply = login("east_admin").post(f"/categories/{cid}/replies", json={"title": "已上报", "body": "已上报住建部门。"})
    assert reply.status_code == 201
    assert resident.post(f"/categories/{cid}/replies", json={"title": "x", "body": "y"}).status_code == 403
    assert street.patch(f"/categories/{cid}", json={"active": False}).status_code == 200
    names = [c["name"] for c in resident.get("/categories?limit=100").get_json()["items"]]
    assert "违章搭建" not in names


def test_case_list_exports_with_the_list_filters_and_scope(login, places, categories):
    import csv
    import io as _io

    from openpyxl import load_workbook

    resident = login.resident()
    report(resident, places["东城小区1号楼"], categories["环境卫生"], description="导出测试：东城垃圾")
    report(resident, places["西园小区5号楼"], categories["环境卫生"], description="导出测试：西园垃圾")
    east = login("east_admin")
    text = east.get("/cases/export.csv?status=submitted").data.decode("utf-8-sig")
    rows = list(csv.reader(_io.StringIO(text)))
    assert rows[1][0] == "受理编号"
    descriptions = [r[4] for r in rows[2:]]
    assert "导出测试：东城垃圾" in descriptions and "导出测试：西园垃圾" not in descriptions
    assert all(r[1] == "待受理" for r in rows[2:])
    book = load_workbook(_io.BytesIO(east.get("/cases/export.xlsx?status=closed").data))
    assert all(row[1] == "已办结" for row in book.active.iter_rows(min_row=3, values_only=True))
    assert east.get("/cases/export.pdf").status_code == 404


def test_the_case_list_sends_exactly_what_its_schema_documents(login, places, categories, departments):
    """The list is built by hand for speed (presenter.summary_json); it must equal the schema's dump."""
    from app.accounts.models import User
    from app.accounts.service import actor_for
    from app.cases import presenter
    from app.cases import service as cases_service
    from miniprogram_api.cases import CasePage

    resident = login.resident()
    photo = upload_photo(resident)
    with_photo = report(resident, places["东城小区1号楼"], categories["环境卫生"], photo_ids=[photo["id"]])
    accepted = report(resident, places["东城小区1号楼"], categories["环境卫生"], description="路灯坏了，晚上很黑。")
    east = login("east_admin")
    act(east, accepted["id"], "accept")
    sent = east.get("/cases?limit=50").get_json()
    ids = [item["id"] for item in sent["items"]]
    assert with_photo["id"] in ids and accepted["id"] in ids
    admin = db.session.scalar(select(User).where(User.username == "east_admin"))
    page = cases_service.list_cases(actor_for(admin), limit=50)
    documented = CasePage().dump({"items": [presenter.summary(c, actor_for(admin)) for c in page.items],
                                  "next_cursor": page.next_cursor})
    assert sent == documented
    item = next(i for i in sent["items"] if i["id"] == with_photo["id"])
    assert item["photos"] == [{"id": photo["id"], "url": photo["url"], "thumb_url": photo["thumb_url"]}]


@pytest.mark.parametrize("reporter", ["resident", "grid_east1"])
def test_a_report_answers_what_the_case_page_then_shows(login, places, categories, reporter):
    """The report is written and answered from prebuilt statements and detached rows
    (app/cases/filing.py); what it answers must be what reading the case back shows, for a resident
    and for a grid worker reporting in their own grid (who sees it as staff)."""
    api = login.resident() if reporter == "resident" else login(reporter)
    photo = upload_photo(api)
    filed = report(api, places["东城小区1号楼"], categories["设施损坏"], photo_ids=[photo["id"]])
    similar = filed.pop("similar")
    assert similar == []
    assert filed.pop("nearby_places") == []  # reported at a coded place, not by location
    shown = api.get(f"/cases/{filed['id']}").get_json()
    assert filed == shown
    assert filed["timeline"][0]["photos"][0]["id"] == photo["id"]
    assert (filed["moderation"] == "pass") == (reporter != "resident")  # staff see it, residents do not
    # A second report there finds the first one as similar, as the list would show it.
    again = report(api, places["东城小区1号楼"], categories["设施损坏"], description="道闸还是坏的。")
    assert [c["id"] for c in again["similar"]] == [filed["id"]]
