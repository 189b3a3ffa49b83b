"""Dual registration (双报到), review, the service record (纪实), the employer report (双报告) and the ranking."""
from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import tempfile
from datetime import timedelta

import pytest

from app.core.time import to_local, utcnow
from app.extensions import db
from tests.api.wishflow import act, inbox, me, new_member, photo, post_wish


def test_registration_is_reviewed_by_the_home_community(login, areas):
    resident = login.resident()
    assert me(resident)["party_member"] is None
    res = resident.post("/party-members", json={
        "name": "赵志刚", "org_name": "沁源县人民医院党委", "community_id": areas["东城社区"].id,
        "grid_id": areas["东城社区第二网格"].id, "skills": ["医疗", "护理", "医疗"], "availability": "周六上午"})
    assert res.status_code == 201
    registration = res.get_json()
    assert registration["status"] == "pending" and registration["skills"] == ["医疗", "护理"]
    assert registration["allowed_actions"] == []
    assert me(resident)["party_member"]["status_label"] == "待审核"
    again = resident.post("/party-members", json={"name": "赵志刚", "org_name": "医院", "community_id":
                                                  areas["东城社区"].id})
    assert again.status_code == 409 and "审核中" in again.get_json()["message"]
    admin = login("east_admin")
    assert inbox(me(admin)["id"], "member_registered")

    # The other community's admin sees nothing and can do nothing.
    west = login("west_admin")
    assert registration["id"] not in [m["id"] for m in west.get("/party-members").get_json()["items"]]
    assert west.post(f"/party-members/{registration['id']}/transitions",
                     json={"action": "approve"}).status_code == 404
    # Members cannot be reviewed by themselves.
    assert resident.post(f"/party-members/{registration['id']}/transitions",
                         json={"action": "approve"}).status_code == 403

    pending = admin.get("/party-members").get_json()["items"]
    mine = next(m for m in pending if m["id"] == registration["id"])
    assert mine["allowed_actions"] == ["approve", "reject"] and mine["community_name"] == "东城社区"
    assert resident.get("/wishes?pool=true").status_code == 403
    approved = admin.post(f"/party-members/{registration['id']}/transitions", json={"action": "approve"})
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"

    profile = me(resident)
    assert profile["party_member"]["status"] == "approved"
    assert {(r["role"], r["area_id"]) for r in profile["roles"]} == {("party_member", areas["东城社区"].id)}
    assert inbox(profile["id"], "member_approved")
    assert resident.get("/wishes?pool=true").status_code == 200
    twice = admin.post(f"/party-members/{registration['id']}/transitions", json={"action": "reject",
                                                                                  "reason": "重复"})
    assert twice.status_code == 409 and twice.get_json()["errors"]["allowed_actions"] == []
    assert registration["id"] not in [m["id"] for m in admin.get("/party-members").get_json()["items"]]


def test_rejection_needs_a_reason_and_the_resident_may_register_again(login, areas):
    resident = login.resident()
    admin = login("east_admin")
    body = {"name": "钱多多", "org_name": "某公司", "community_id": areas["东城社区"].id}
    registration = resident.post("/party-members", json=body).get_json()
    res = admin.post(f"/party-members/{registration['id']}/transitions", json={"action": "reject"})
    assert res.status_code == 422 and "原因" in res.get_json()["message"]
    res = admin.post(f"/party-members/{registration['id']}/transitions",
                     json={"action": "reject", "reason": "请填写完整的单位党组织名称"})
    assert res.status_code == 200 and res.get_json()["status"] == "rejected"
    status = me(resident)["party_member"]
    assert status["status"] == "rejected" and status["reject_reason"] == "请填写完整的单位党组织名称"
    assert me(resident)["roles"] == []
    retry = resident.post("/party-members", json=body | {"org_name": "沁源县农商银行党支部"})
    assert retry.status_code == 201


def test_registration_checks_community_and_grid(login, areas):
    resident = login.resident()
    res = resident.post("/party-members", json={"name": "孙", "org_name": "单位",
                                                "community_id": areas["东城社区第一网格"].id})
    assert res.status_code == 422 and "社区" in res.get_json()["message"]
    res = resident.post("/party-members", json={"name": "孙", "org_name": "单位", "community_id": areas["东城社区"].id,
                                                "grid_id": areas["西园社区第一网格"].id})
    assert res.status_code == 422 and "网格不属于" in res.get_json()["message"]
    assert resident.post("/party-members", json={"name": "孙"}).status_code == 422


def _served(login, areas, member, hours=2.0, rating=4, title="帮老人换灯泡"):
    resident = login.resident()
    wish = post_wish(resident, areas, title=title)
    act(login("east_admin"), wish["id"], "approve")
    act(member, wish["id"], "claim")
    act(member, wish["id"], "fulfil", note="已上门更换，老人很满意。", hours=hours, photo_ids=[photo(member)])
    act(resident, wish["id"], "confirm", rating=rating)
    approve_ledger_entry(login, "wish", wish["id"])
    return wish


def approve_ledger_entry(login, source_type: str, source_id: int, action: str = "approve", **data) -> dict:
    """The community decides the ledger entry of a service; only then does it count."""
    admin = login("east_admin")
    status = "approved" if action == "reject" else "pending"
    items = admin.get(f"/service-hours?mine=false&status={status}&limit=100").get_json()["items"]
    entry = next(i for i in items if i["source_type"] == source_type and i["source_id"] == source_id)
    res = admin.post(f"/service-hours/{entry['id']}/transitions", json={"action": action, **data})
    assert res.status_code == 200, res.get_json()
    return res.get_json()


def test_record_and_employer_report_in_csv_and_pdf(login, areas):
    member, registration = new_member(login, areas, name="韩立平", org="沁源县税务局机关党支部")
    _served(login, areas, member, hours=2.0, rating=4, title="帮老人换灯泡")
    _served(login, areas, member, hours=1.5, rating=5, title="=SUM(A1:A9)")
    _praise(me(member)["id"], areas)

    record = member.get(f"/party-members/{registration['id']}/record").get_json()
    assert record["wishes_fulfilled"] == 2 and record["hours"] == 3.5 and record["rating_average"] == 4.5
    assert record["praise_count"] == 1
    assert {s["title"] for s in record["recent_services"]} == {"帮老人换灯泡", "=SUM(A1:A9)"}
    outsider, _ = new_member(login, areas, name="路人甲")
    assert outsider.get(f"/party-members/{registration['id']}/record").status_code == 404

    today = to_local(utcnow()).date()
    period = f"from={(today - timedelta(days=30)).isoformat()}&to={today.isoformat()}"
    res = member.get(f"/party-members/{registration['id']}/report.csv?{period}")
    assert res.status_code == 200 and res.mimetype == "text/csv"
    assert "attachment" in res.headers["Content-Disposition"]
    assert res.data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs
    rows = list(csv.reader(io.StringIO(res.data.decode("utf-8-sig"))))
    summary = {r[0]: r[1] for r in rows if len(r) == 2}
    assert summary["姓名"] == "韩立平" and summary["单位党组织"] == "沁源县税务局机关党支部"
    assert summary["完成心愿（件）"] == "2" and summary["已审核服务时长（小时）"] == "3.5"
    assert summary["获得点赞（次）"] == "1"
    header = rows.index(["序号", "服务日期", "服务内容", "类别", "服务地点", "记录单位", "服务时长（小时）", "群众评分",
                         "服务说明"])
    services = rows[header + 1:header + 3]
    assert {r[2] for r in services} == {"帮老人换灯泡", "'=SUM(A1:A9)"}  # no formula reaches Excel
    assert {r[6] for r in services} == {"2", "1.5"}

    empty = member.get(f"/party-members/{registration['id']}/report.csv?from={(today + timedelta(days=1)).isoformat()}"
                       f"&to={(today + timedelta(days=2)).isoformat()}")
    assert "帮老人换灯泡" not in empty.data.decode("utf-8-sig")
    bad = member.get(f"/party-members/{registration['id']}/report.csv?from={today.isoformat()}"
                     f"&to={(today - timedelta(days=1)).isoformat()}")
    assert bad.status_code == 422 and "开始日期" in bad.get_json()["message"]

    pdf = login("east_admin").get(f"/party-members/{registration['id']}/report.pdf?{period}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed: the PDF's text cannot be read back")
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.data, capture_output=True, check=True).stdout.decode()
    for expected in ("在职党员服务纪实报告", "韩立平", "沁源县税务局机关党支部", "帮老人换灯泡", "东城社区"):
        assert expected in text
    # The 双报告 embeds its CJK font as the proof does: it prints the same at any print shop.
    from app.core.pdf_fonts import FONT_FILES

    if shutil.which("pdffonts") is None or not any(os.path.exists(f) for f in FONT_FILES):
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs poppler-utils and fonts-wqy-microhei")
        pytest.skip("needs pdffonts and a CJK TrueType font (fonts-wqy-microhei)")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf.data)
        file.flush()
        fonts = subprocess.run(["pdffonts", file.name], capture_output=True, check=True, text=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    assert rows and all(row[-5] == "yes" for row in rows), fonts  # emb yes for every font


def _praise(user_id: int, areas) -> None:
    """A resident's 点赞 for the member, as the praise module stores it."""
    from sqlalchemy import select

    from app.accounts.models import User
    from app.areas.models import Place
    from app.praise.models import Praise

    place = db.session.scalar(select(Place).where(Place.grid_id == areas["东城社区第一网格"].id).limit(1))
    giver = User(openid="o_praise_giver", display_name="点赞居民")
    db.session.add(giver)
    db.session.flush()
    db.session.add(Praise(user_id=giver.id, target_type="party_member", target_id=user_id, place_id=place.id,
                          message="热心肠", area_path=place.area_path, day=to_local(utcnow()).date()))
    db.session.flush()


def test_community_ranking(login, areas):
    busy, busy_reg = new_member(login, areas, name="冯建华")
    idle, idle_reg = new_member(login, areas, name="褚文静")
    _served(login, areas, busy, hours=5)
    east = areas["东城社区"].id

    res = idle.get(f"/party-members/ranking?community_id={east}")
    assert res.status_code == 200
    items = res.get_json()["items"]
    ranked = [i["member_id"] for i in items]
    assert ranked.index(busy_reg["id"]) < ranked.index(idle_reg["id"])
    busy_item = next(i for i in items if i["member_id"] == busy_reg["id"])
    assert busy_item["name"] == "冯*华" and busy_item["hours"] == 5 and busy_item["wishes_fulfilled"] == 1
    mine = next(i for i in items if i["member_id"] == idle_reg["id"])
    assert mine["name"] == "褚文静" and mine["is_me"] is True and mine["hours"] == 0
    assert items[0]["rank"] == 1

    admin_items = login("east_admin").get(f"/party-members/ranking?community_id={east}").get_json()["items"]
    assert next(i for i in admin_items if i["member_id"] == busy_reg["id"])["name"] == "冯建华"
    assert login.resident().get(f"/party-members/ranking?community_id={east}").status_code == 403
    assert idle.get(f"/party-members/ranking?community_id={areas['西园社区'].id}").status_code == 403
