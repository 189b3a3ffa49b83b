"""The service-hours ledger, certificates and exports as volunteers and community admins use them."""
from __future__ import annotations

import csv
import io
import subprocess
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from app.accounts.models import User
from app.core import uow
from app.core.time import travel, utcnow
from app.extensions import db
from app.notifications.models import Notification
from app.volunteering.ledger import credit_hours


def on_site_code(staff, path) -> str:
    return staff.get(f"{path}/check-in-code").get_json()["code"]


def serve(login, areas, volunteers, *, title="日晷公园环境清洁", community="东城社区", admin="east_admin",
          organiser="东城社区党支部", hours=3):
    """Publish an activity, have each volunteer check in at the start and out at the end; return its id."""
    staff = login(admin)
    starts = utcnow() + timedelta(hours=1)
    activity = staff.post("/activities", json={
        "title": title, "community_id": areas[community].id, "capacity": 10, "organiser_name": organiser,
        "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=hours)).isoformat(),
        "place_text": "日晷公园东门广场"}).get_json()
    path = f"/activities/{activity['id']}"
    for volunteer in volunteers:
        assert volunteer.post(f"{path}/enrollments").status_code == 201
    travel(timedelta(hours=1))
    for volunteer in volunteers:
        assert volunteer.post(f"{path}/check-in", json={"scene": on_site_code(staff, path)}).status_code == 200
    travel(timedelta(hours=hours))
    for volunteer in volunteers:
        assert volunteer.post(f"{path}/check-out", json={"scene": on_site_code(staff, path)}).status_code == 200
    return activity["id"]


def resident_named(login, name: str, phone: str | None = None):
    from app.accounts.service import set_phone

    api = login.resident()
    user = db.session.get(User, api.get("/me").get_json()["id"])
    user.display_name = name
    if phone:
        set_phone(user, phone)
    uow.commit()  # so a later request's rollback (a 4xx) does not undo it
    return api


def my_entries(api):
    return api.get("/service-hours").get_json()


def test_admin_approves_or_rejects_in_scope_and_totals_follow(login, areas):
    volunteer = resident_named(login, "张小明")
    serve(login, areas, [volunteer], title="敬老院陪伴", hours=2)
    serve(login, areas, [volunteer], title="垃圾分类宣传", hours=3)
    mine = my_entries(volunteer)
    assert mine["totals"]["pending_hours"] == 5.0 and mine["totals"]["approved_hours"] == 0
    first, second = sorted(mine["items"], key=lambda i: i["id"])

    east = login("east_admin")
    queue = east.get("/service-hours", query_string={"mine": "false"}).get_json()
    assert {first["id"], second["id"]} <= {i["id"] for i in queue["items"]}
    assert all(i["status"] == "pending" for i in queue["items"])
    assert next(i for i in queue["items"] if i["id"] == first["id"])["allowed_actions"] == ["approve", "reject"]
    west = login("west_admin")
    assert west.get("/service-hours", query_string={"mine": "false"}).get_json()["items"] == []
    assert west.post(f"/service-hours/{first['id']}/transitions", json={"action": "approve"}).status_code == 403
    assert volunteer.post(f"/service-hours/{first['id']}/transitions", json={"action": "approve"}).status_code == 403
    assert volunteer.get("/service-hours", query_string={"mine": "false"}).status_code == 403

    approved = east.post(f"/service-hours/{first['id']}/transitions",
                         json={"action": "approve", "evaluation": "耐心细致"}).get_json()
    assert approved["status"] == "approved" and approved["evaluation"] == "耐心细致"
    assert approved["timeline"][-1]["action"] == "approve"
    again = east.post(f"/service-hours/{first['id']}/transitions", json={"action": "approve"})
    assert again.status_code == 409 and again.get_json()["errors"]["allowed_actions"] == ["reject"]

    no_reason = east.post(f"/service-hours/{second['id']}/transitions", json={"action": "reject"})
    assert no_reason.status_code == 422 and no_reason.get_json()["message"] == "请填写不通过的原因。"
    rejected = east.post(f"/service-hours/{second['id']}/transitions",
                         json={"action": "reject", "reason": "活动照片与签到不符"}).get_json()
    assert rejected["status_label"] == "未通过" and rejected["decision_note"] == "活动照片与签到不符"

    totals = my_entries(volunteer)["totals"]
    assert (totals["approved_hours"], totals["pending_hours"], totals["rejected_hours"]) == (2.0, 0, 3.0)
    me = volunteer.get("/me").get_json()["id"]
    kinds = list(db.session.scalars(select(Notification.kind).where(Notification.user_id == me)))
    assert {"service_hours.approved", "service_hours.rejected"} <= set(kinds)


def test_nothing_counts_twice(login, areas):
    volunteer = login.resident()
    activity_id = serve(login, areas, [volunteer])
    user_id = volunteer.get("/me").get_json()["id"]
    entry = my_entries(volunteer)["items"][0]
    again = credit_hours(user_id=user_id, source_type="activity", source_id=activity_id, hours=9,
                         area_path=areas["东城社区"].path, description="重复记录")
    assert again.id == entry["id"] and float(again.hours) == 3.0
    wish = credit_hours(user_id=user_id, source_type="wish", source_id=activity_id, hours=1.5,
                        area_path=areas["东城社区"].path, description="为独居老人买药",
                        organiser_area_id=areas["东城社区"].id)
    assert wish.id != entry["id"] and wish.organiser_name == "东城社区" and wish.status == "pending"
    items = my_entries(volunteer)["items"]
    assert len(items) == 2 and my_entries(volunteer)["totals"]["pending_hours"] == 4.5


def _pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_export_of_approved_hours_opens_as_csv_and_xlsx_scoped_to_the_admin(login, areas):
    east_volunteer = resident_named(login, "李四", phone="13912345678")
    west_volunteer = resident_named(login, "王五")
    serve(login, areas, [east_volunteer], title="东城助老", hours=2)
    serve(login, areas, [west_volunteer], title="西园清洁", community="西园社区", admin="west_admin",
          organiser="西园社区")
    for admin, volunteer in (("east_admin", east_volunteer), ("west_admin", west_volunteer)):
        for item in my_entries(volunteer)["items"]:
            login(admin).post(f"/service-hours/{item['id']}/transitions", json={"action": "approve"})

    east = login("east_admin")
    res = east.get("/service-hours/export.csv")
    assert res.status_code == 200 and res.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(res.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["记录编号", "志愿者姓名", "手机号（脱敏）"]
    mine = [r for r in rows[1:] if r[3] == "东城助老"]
    assert mine and mine[0][1:4] == ["李四", "139****5678", "东城助老"] and mine[0][6] == "2.0"
    assert mine[0][7] == "东城社区党支部"
    assert not any(r[3] == "西园清洁" for r in rows[1:]), "another community's hours stay out of scope"
    assert "13912345678" not in res.data.decode("utf-8-sig")

    res = east.get("/service-hours/export.xlsx")
    assert res.status_code == 200
    sheet = load_workbook(io.BytesIO(res.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][1] == "志愿者姓名"
    assert any(v[3] == "东城助老" and v[6] == 2.0 for v in values[1:])
    assert not any(v[3] == "西园清洁" for v in values[1:])

    street = list(csv.reader(io.StringIO(login("street_admin").get("/service-hours/export.csv")
                                          .data.decode("utf-8-sig"))))
    assert {"东城助老", "西园清洁"} <= {r[3] for r in street[1:]}
    assert login.resident().get("/service-hours/export.csv").status_code == 403
