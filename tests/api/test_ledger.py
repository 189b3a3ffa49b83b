"""One ledger: wishes and activities alike are entries; 纪实, 双报告, rankings and statistics read approved ones only."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from openpyxl import load_workbook

from app.core.time import to_local, utcnow
from app.stats import rollups
from tests.api.test_members import approve_ledger_entry
from tests.api.test_service_hours import serve
from tests.api.wishflow import act, me, new_member, photo, post_wish


def _fulfil_wish(login, areas, member, *, hours=2.0, title="帮老人修水管") -> dict:
    resident = login.resident()
    wish = post_wish(resident, areas, title=title)
    act(login("east_admin"), wish["id"], "approve")
    act(member, wish["id"], "claim")
    act(member, wish["id"], "fulfil", note="已修好", hours=hours, photo_ids=[photo(member)])
    act(resident, wish["id"], "confirm", rating=5)
    return wish


def _figures(login, areas, member_id: int, member_name: str) -> dict:
    admin = login("east_admin")
    record = admin.get(f"/party-members/{member_id}/record").get_json()
    today = to_local(utcnow()).date()
    period = f"from={(today - timedelta(days=3)).isoformat()}&to={(today + timedelta(days=3)).isoformat()}"
    report = admin.get(f"/party-members/{member_id}/report.csv?{period}").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(report)))
    ranking = admin.get(f"/party-members/ranking?community_id={areas['东城社区'].id}&{period}").get_json()["items"]
    rollups.refresh()  # the periodic job: a community's statistics read the daily rollups
    stats = admin.get(f"/admin/stats?area_id={areas['东城社区'].id}&{period}").get_json()
    month = to_local(utcnow()).strftime("%Y-%m")
    workbook = load_workbook(io.BytesIO(admin.get(
        f"/admin/stats/monthly.xlsx?area_id={areas['东城社区'].id}&month={month}").data)).active
    public = admin.client.get(f"/wishes?community_id={areas['东城社区'].id}").data.decode()
    return {
        "record": (record["wishes_fulfilled"], record["activities_joined"], record["hours"]),
        "recent": sorted(s["title"] for s in record["recent_services"]),
        "report": sorted(r[2] for r in rows if len(r) == 9 and r[0].isdigit()),
        "report_hours": next(r[1] for r in rows if r and r[0] == "已审核服务时长（小时）"),
        "ranking": next((i["hours"], i["wishes_fulfilled"], i["activities_joined"]) for i in ranking
                        if i["member_id"] == member_id),
        "stats_member": [(m["fulfilled"], m["hours"]) for m in stats["wishes"]["top_members"]
                         if m["name"] == member_name],
        "stats_total": stats["volunteering"]["total_hours"],
        "monthly_total": next(float(row[2]) for row in workbook.iter_rows(values_only=True)
                              if row[1] == "服务总时长（小时）"),
        "public_wish_hours": float(re.search(r'<div class="num">([\d.]+)</div><div class="label">服务时长（小时）',
                                             public).group(1)),
    }


def test_wish_and_activity_count_once_approved_and_drop_once_rejected(login, areas):
    member, registration = new_member(login, areas, name="韩立平")
    member.patch("/me", json={"real_name": "韩立平"})
    before = _figures(login, areas, registration["id"], "韩立平")
    wish = _fulfil_wish(login, areas, member, hours=2)
    activity_id = serve(login, areas, [member], title="日晷公园环境清洁", hours=3)

    pending = _figures(login, areas, registration["id"], "韩立平")
    assert pending["record"] == (0, 0, 0) and pending["report"] == [] and pending["ranking"] == (0, 0, 0)
    assert pending["stats_member"] == [] and pending["stats_total"] == before["stats_total"]
    assert pending["monthly_total"] == before["monthly_total"]
    assert pending["public_wish_hours"] == before["public_wish_hours"]

    approve_ledger_entry(login, "wish", wish["id"])
    approve_ledger_entry(login, "activity", activity_id)
    both = _figures(login, areas, registration["id"], "韩立平")
    assert both["record"] == (1, 1, 5.0)
    assert both["recent"] == both["report"] == ["帮老人修水管", "日晷公园环境清洁"]
    assert both["report_hours"] == "5"
    assert both["ranking"] == (5.0, 1, 1)
    assert both["stats_member"] == [(1, 2.0)]
    assert both["stats_total"] == before["stats_total"] + 5
    assert both["monthly_total"] == before["monthly_total"] + 5
    assert both["public_wish_hours"] == before["public_wish_hours"] + 2

    approve_ledger_entry(login, "activity", activity_id, action="reject", reason="经核实当天未到场")
    approve_ledger_entry(login, "wish", wish["id"], action="reject", reason="居民反映未实际服务")
    rejected = _figures(login, areas, registration["id"], "韩立平")
    assert rejected["record"] == (0, 0, 0) and rejected["recent"] == rejected["report"] == []
    assert rejected["ranking"] == (0, 0, 0) and rejected["stats_member"] == []
    assert rejected["stats_total"] == before["stats_total"]
    assert rejected["monthly_total"] == before["monthly_total"]
    assert rejected["public_wish_hours"] == before["public_wish_hours"], "the public page counts a rejected wish"


def test_an_entry_holds_what_the_rules_name(login, areas):
    volunteer = login.resident()
    volunteer.patch("/me", json={"real_name": "周晓梅"})
    activity_id = serve(login, areas, [volunteer], title="敬老院陪伴", hours=2)
    entry = volunteer.get("/service-hours").get_json()["items"][0]
    assert entry["source_type"] == "activity" and entry["source_id"] == activity_id
    assert entry["description"] == "敬老院陪伴" and entry["place"] == "日晷公园东门广场"
    assert entry["started_at"] and entry["ended_at"] and entry["hours"] == 2.0
    assert entry["organiser_name"] == "东城社区党支部" and entry["organiser_area_id"] == areas["东城社区"].id
    assert entry["recorded_by"] == me(login("east_admin"))["id"] and entry["recorded_at"]
    east_view = login("east_admin").get(f"/service-hours/{entry['id']}").get_json()
    assert east_view["volunteer_name"] == "周晓梅"  # the organisation that approves knows who served


def test_a_correction_request_is_answered_and_both_values_stay(login, areas):
    volunteer = login.resident()
    volunteer.patch("/me", json={"real_name": "周晓梅"})
    activity_id = serve(login, areas, [volunteer], title="垃圾分类宣传", hours=3)
    entry = approve_ledger_entry(login, "activity", activity_id)

    west = login("west_admin")
    refused = volunteer.post(f"/service-hours/{entry['id']}/correction-requests", json={"reason": ""})
    assert refused.status_code == 422
    asked = volunteer.post(f"/service-hours/{entry['id']}/correction-requests",
                           json={"reason": "我提前一小时离开，时长应为 2 小时"})
    assert asked.status_code == 201 and asked.get_json()["status_label"] == "待答复"
    again = volunteer.post(f"/service-hours/{entry['id']}/correction-requests", json={"reason": "再问一次"})
    assert again.status_code == 409
    assert login.resident().post(f"/service-hours/{entry['id']}/correction-requests",
                                 json={"reason": "x"}).status_code == 404

    east = login("east_admin")
    queue = east.get("/service-hours/correction-requests").get_json()["items"]
    assert asked.get_json()["id"] in [r["id"] for r in queue]
    assert asked.get_json()["id"] not in [r["id"] for r in west.get("/service-hours/correction-requests")
                                          .get_json()["items"]]
    assert west.post(f"/service-hours/{entry['id']}/corrections",
                     json={"reason": "核对", "hours": "2"}).status_code == 403
    res = east.post(f"/service-hours/{entry['id']}/corrections", json={
        "reason": "核对签到表，志愿者提前离开", "hours": "2", "request_id": asked.get_json()["id"]})
    assert res.status_code == 200, res.get_json()
    answered = res.get_json()
    assert answered["status"] == "corrected" and answered["requested_by"] == me(volunteer)["id"]
    assert answered["old_values"]["hours"] == "3.00" and answered["new_values"]["hours"] == "2.00"

    detail = volunteer.get(f"/service-hours/{entry['id']}").get_json()
    assert detail["hours"] == 2.0 and detail["status"] == "approved"
    assert [(c["old_values"]["hours"], c["new_values"]["hours"]) for c in detail["corrections"]] == [("3.00", "2.00")]
    correct = next(e for e in detail["timeline"] if e["action"] == "correct")
    assert correct["data"] == {"old": answered["old_values"], "new": answered["new_values"]}
    assert volunteer.get("/service-hours").get_json()["totals"]["approved_hours"] == 2.0

    # A second request can be declined with a reason the volunteer reads.
    second = volunteer.post(f"/service-hours/{entry['id']}/correction-requests", json={"reason": "地点写错了"})
    declined = east.post(f"/service-hours/correction-requests/{second.get_json()['id']}/decline",
                         json={"answer": "活动就在日晷公园东门广场举行"})
    assert declined.status_code == 200 and declined.get_json()["status_label"] == "不予更正"
    assert east.post(f"/service-hours/correction-requests/{second.get_json()['id']}/decline",
                     json={"answer": "重复"}).status_code == 409
