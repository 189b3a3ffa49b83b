"""The yearly service target: the community sets it, the console shows who is behind, the 双报告 says if it was met."""
from __future__ import annotations

import csv
import io

from sqlalchemy import select

from app.core.time import to_local, utcnow
from app.extensions import db
from tests.api.wishflow import act, new_member, photo, post_wish
from tests.console_client import Console


def _serve_one_wish(login, areas, member):
    """One wish fulfilled by `member`, confirmed, and its ledger entry approved by the community."""
    from app.volunteering.models import ServiceHours

    resident = login.resident()
    wish = post_wish(resident, areas)
    act(login("east_admin"), wish["id"], "approve")
    act(member, wish["id"], "claim")
    act(member, wish["id"], "fulfil", note="已上门服务", hours=1, photo_ids=[photo(member)])
    act(resident, wish["id"], "confirm")
    entry = db.session.scalar(select(ServiceHours).where(ServiceHours.source_type == "wish",
                                                         ServiceHours.source_id == wish["id"]))
    assert login("east_admin").post(f"/service-hours/{entry.id}/transitions",
                                    json={"action": "approve"}).status_code == 200


def _report_rows(api, member_id):
    res = api.get(f"/party-members/{member_id}/report.csv")
    assert res.status_code == 200
    return {row[0]: row[1] for row in csv.reader(io.StringIO(res.get_data(as_text=True).lstrip("\ufeff"))) if len(row) > 1}


def test_the_yearly_target_shown_behind_for_one_member(app, login, areas):
    east = areas["东城社区"]
    year = to_local(utcnow()).year
    busy, busy_reg = new_member(login, areas, name="赵积极")
    idle, idle_reg = new_member(login, areas, name="钱落后")
    _serve_one_wish(login, areas, busy)
    _serve_one_wish(login, areas, busy)

    console = Console(app.test_client(), "east_admin")
    page = console.get(f"/console/targets?community_id={east.id}").get_data(as_text=True)
    assert "每名党员全年至少服务 <strong>4</strong> 次" in page  # the demo's target
    before = _report_rows(login("east_admin"), idle_reg["id"])
    assert before[f"{year}年服务目标"] == "至少 4 次，已完成 0 次：未达标（还差 4 次）"
    next_year = console.get(f"/console/targets?community_id={east.id}&year={year + 1}").get_data(as_text=True)
    assert "尚未设定本年度目标" in next_year

    # The west community's admin may not set 东城's target.
    west = Console(app.test_client(), "west_admin")
    west.post("/console/targets", data={"community_id": east.id, "year": year, "services": 9})
    assert "只有本社区的管理员" in west.get(f"/console/targets?community_id={east.id}").get_data(as_text=True)

    res = console.post("/console/targets", data={"community_id": east.id, "year": year, "services": 2})
    assert res.status_code == 302
    page = console.get(f"/console/targets?community_id={east.id}").get_data(as_text=True)
    assert "每名党员全年至少服务 <strong>2</strong> 次" in page
    behind = console.get(f"/console/targets?community_id={east.id}&behind=1").get_data(as_text=True)
    assert 'data-member="钱落后"' in behind and 'data-member="赵积极"' not in behind
    assert "未达标（还差 2 次）" in behind

    assert _report_rows(busy, busy_reg["id"])[f"{year}年服务目标"] == "至少 2 次，已完成 2 次：已达标"
    own = idle.get(f"/party-members/{idle_reg['id']}/record").get_json()["year_target"]
    assert own == {"year": year, "target": 2, "done": 0, "met": False, "short_by": 2, "label": "未达标（还差 2 次）"}
    assert _report_rows(idle, idle_reg["id"])[f"{year}年服务目标"] == "至少 2 次，已完成 0 次：未达标（还差 2 次）"
    assert "service_target.set" in {r.action for r in _audit()}


def _audit():
    from app.core.audit import AuditLog

    return list(db.session.scalars(select(AuditLog)))
