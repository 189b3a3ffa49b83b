"""The new groups (新就业群体) as a rider meets them: register with a community, claim a post, report away from any code."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from tests.api.wishflow import inbox, me


def _ids(model):
    return {row.name: row.id for row in db.session.scalars(select(model))}


def _rider(login, areas, *, name="马骁", community="东城社区", kind="rider", platform="美团外卖"):
    api = login.resident()
    res = api.post("/new-groups/workers", json={"name": name, "kind": kind, "platform": platform,
                                                "work_area": "东城片区、幸福里一带", "community_id": areas[community].id})
    assert res.status_code == 201, res.get_json()
    return api, res.get_json()


def _post(admin, areas, kind="roving", places=2, community="东城社区"):
    res = admin.post("/new-groups/posts", json={"community_id": areas[community].id, "kind": kind,
                                                "duties": "跑单途中留意楼道堆物、井盖破损等隐患，随手上报。",
                                                "places": places})
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def test_a_rider_registers_claims_a_post_and_reports_away_from_any_code(login, areas):
    from app.areas.models import Place
    from app.cases.models import Category
    from app.volunteering.models import ServiceHours

    places, categories = _ids(Place), _ids(Category)
    admin = login("east_admin")
    rider, registration = _rider(login, areas)
    assert registration["status"] == "pending" and registration["kind_label"] == "外卖骑手"
    assert inbox(me(admin)["id"], "group_worker_registered")
    again = rider.post("/new-groups/workers", json={"name": "马骁", "kind": "rider", "platform": "美团外卖",
                                                    "work_area": "东城", "community_id": areas["东城社区"].id})
    assert again.status_code == 409
    # Not yet approved: no posts to see, no claim.
    assert rider.get("/new-groups/posts").status_code == 403
    west = login("west_admin")
    assert west.post(f"/new-groups/workers/{registration['id']}/transitions",
                     json={"action": "approve"}).status_code in (403, 404)
    approved = admin.post(f"/new-groups/workers/{registration['id']}/transitions", json={"action": "approve"})
    assert approved.status_code == 200 and approved.get_json()["status_label"] == "已报到"
    assert inbox(me(rider)["id"], "group_worker_approved")

    post = _post(admin, areas, kind="roving", places=1)
    assert post["kind_label"] == "流动网格员" and post["places_left"] == 1
    listed = rider.get("/new-groups/posts").get_json()["items"]
    assert post["id"] in [p["id"] for p in listed]
    assert {p["community_name"] for p in listed} == {"东城社区"}
    # Before the post is theirs, a report without a code is refused.
    early = rider.post("/new-groups/reports", json={"place_id": places["东城小区2号楼"],
                                                    "category_id": categories["环境卫生"], "description": "垃圾满溢"})
    assert early.status_code == 403 and "扫描现场二维码" in early.get_json()["message"]

    claim = rider.post(f"/new-groups/posts/{post['id']}/claims", json={"note": "每天都在这片送餐"})
    assert claim.status_code == 201 and claim.get_json()["status_label"] == "待审核"
    granted = admin.post(f"/new-groups/claims/{claim.get_json()['id']}/transitions", json={"action": "approve"})
    assert granted.status_code == 200 and granted.get_json()["status_label"] == "在岗"

    # The places of the community, to choose from instead of scanning.
    duty_places = rider.get("/new-groups/places?limit=100").get_json()["items"]
    names = {p["name"] for p in duty_places}
    assert "东城小区2号楼" in names and "西园小区5号楼" not in names

    res = rider.post("/new-groups/reports", json={"place_id": places["东城小区2号楼"],
                                                  "category_id": categories["环境卫生"],
                                                  "description": "2号楼东侧垃圾桶满溢，已两天没清运。"})
    assert res.status_code == 201, res.get_json()
    body = res.get_json()
    assert body["on_duty"]["post_kind_label"] == "流动网格员" and body["on_duty"]["by_code"] is False
    assert body["timeline"][0]["actor_label"] == "流动网格员"
    entry = db.session.get(ServiceHours, body["on_duty"]["ledger_entry_id"])
    assert entry.source_type == "report" and entry.source_id == body["id"] and entry.status == "pending"
    assert entry.user_id == me(rider)["id"] and float(entry.hours) == 0.5
    # The community's grid workers see it in their queue as any report.
    queue = login("grid_east1").get("/cases?limit=100").get_json()["items"]
    assert body["id"] in [c["id"] for c in queue]

    # Outside the communities served: refused.
    away = rider.post("/new-groups/reports", json={"place_id": places["西园小区5号楼"],
                                                   "category_id": categories["环境卫生"], "description": "路灯不亮"})
    assert away.status_code == 403 and "不在您服务的社区" in away.get_json()["message"]


def test_post_places_are_a_limit_and_only_reporting_posts_report(login, areas):
    from app.areas.models import Place
    from app.cases.models import Category

    admin = login("east_admin")
    post = _post(admin, areas, kind="policy", places=1)
    first, first_reg = _rider(login, areas, name="甲")
    second, second_reg = _rider(login, areas, name="乙", kind="courier", platform="顺丰速运")
    for reg in (first_reg, second_reg):
        admin.post(f"/new-groups/workers/{reg['id']}/transitions", json={"action": "approve"})
    a = first.post(f"/new-groups/posts/{post['id']}/claims", json={}).get_json()
    b = second.post(f"/new-groups/posts/{post['id']}/claims", json={}).get_json()
    assert admin.post(f"/new-groups/claims/{a['id']}/transitions", json={"action": "approve"}).status_code == 200
    full = admin.post(f"/new-groups/claims/{b['id']}/transitions", json={"action": "approve"})
    assert full.status_code == 409 and "名额已满" in full.get_json()["message"]
    assert "reason" in admin.post(f"/new-groups/claims/{b['id']}/transitions",
                                  json={"action": "reject"}).get_json()["errors"]
    # A 政策宣传员 does not report without a code.
    res = first.post("/new-groups/reports", json={"place_id": _ids(Place)["东城小区1号楼"],
                                                  "category_id": _ids(Category)["环境卫生"], "description": "x"})
    assert res.status_code == 403
    # Someone else's claim is not theirs to withdraw.
    assert second.post(f"/new-groups/claims/{a['id']}/transitions",
                       json={"action": "leave", "reason": "x"}).status_code == 404
    left = first.post(f"/new-groups/claims/{a['id']}/transitions", json={"action": "leave", "reason": "换了配送片区"})
    assert left.status_code == 200 and left.get_json()["status_label"] == "已离岗"


def _on_duty_rider(login, areas, kind="collector"):
    admin = login("east_admin")
    rider, registration = _rider(login, areas)
    admin.post(f"/new-groups/workers/{registration['id']}/transitions", json={"action": "approve"})
    post = _post(admin, areas, kind=kind)
    claim = rider.post(f"/new-groups/posts/{post['id']}/claims", json={}).get_json()
    admin.post(f"/new-groups/claims/{claim['id']}/transitions", json={"action": "approve"})
    return rider


def test_the_new_groups_are_their_own_group_in_statistics_and_the_workbook(login, areas):
    import io

    from openpyxl import load_workbook

    from app.areas.models import Place
    from app.cases.models import Category

    rider = _on_duty_rider(login, areas)
    courier, reg = _rider(login, areas, name="牛师傅", kind="courier", platform="顺丰速运")
    login("east_admin").post(f"/new-groups/workers/{reg['id']}/transitions", json={"action": "approve"})
    report = rider.post("/new-groups/reports", json={"place_id": _ids(Place)["东城小区1号楼"],
                                                     "category_id": _ids(Category)["环境卫生"],
                                                     "description": "1号楼门口电动车乱停，堵住消防通道。"}).get_json()
    admin = login("east_admin")
    decided = admin.post(f"/service-hours/{report['on_duty']['ledger_entry_id']}/transitions", json={"action": "approve"})
    assert decided.status_code == 200, decided.get_json()

    east = areas["东城社区"].id
    figures = admin.get(f"/admin/stats?area_id={east}").get_json()["new_groups"]
    assert figures["registered_total"] == 2 + 2 and figures["reports_on_duty"] == 1 + 1  # and the demo's
    assert {k["label"]: k["count"] for k in figures["by_kind"]}["外卖骑手"] == 1 + 1
    assert {k["label"]: k["count"] for k in figures["posts_held"]}["民情收集员"] == 1
    assert figures["service_entries"] == 1 and figures["service_hours"] == 0.5  # the demo's entry is pending
    assert login("west_admin").get(f"/admin/stats?area_id={areas['西园社区'].id}").get_json()["new_groups"][
        "registered_total"] == 0

    sheet = load_workbook(io.BytesIO(admin.get(f"/admin/stats/export.xlsx?area_id={east}").data)).active
    values = {(row[0], row[1]): row[2] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert values[("新就业群体", "已报到：外卖骑手")] == 2  # numbers, not text
    assert values[("新就业群体", "在岗：民情收集员")] == 1
    assert values[("新就业群体", "流动上报（件）")] == 2
    assert values[("新就业群体", "已审核服务时长（小时）")] == 0.5
