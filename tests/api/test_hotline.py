"""The hand-over with the 12345 hotline, against a fake hotline server on loopback: a case handed over is sent
signed by a job, retried by the sweep while the hotline is down, and updated from it; a work order pushed down
(工单直派) becomes a case with the order's deadline; resends change nothing; unsigned messages are refused."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app.core.time import travel, utcnow
from app.extensions import db
from app.hotline import signing
from tests.api.test_locations import COMMUNITY, GRID, polygon

SECRET = "hotline-shared-secret-0123456789"


class FakeHotline:
    """The platform's side: checks our signature, keeps what it got, answers with its own order number."""

    def __init__(self):
        self.received, self.down = [], False
        self.httpd = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/gongzhi/handover"

    @Request.application
    def app(self, request):
        if self.down:
            return Response("维护中", status=503)
        body = request.get_data()
        if not signing.valid(SECRET, request.headers.get(signing.TIMESTAMP), request.headers.get(signing.SIGNATURE),
                             body):
            return Response("bad signature", status=401)
        self.received.append(json.loads(body))
        return Response(json.dumps({"id": f"12345-{len(self.received):04d}"}), mimetype="application/json")

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()


@pytest.fixture
def hotline():
    with FakeHotline() as server:
        yield server


@pytest.fixture
def platform(hotline):
    from app.accounts.models import User
    from app.accounts.service import actor_for
    from app.areas.models import Area
    from app.geo import service as geo
    from app.hotline import service

    areas = {a.name: a for a in db.session.scalars(select(Area))}
    admin = actor_for(db.session.scalar(select(User).where(User.username == "admin")))
    geo.set_boundary(admin, areas["东城社区"].id, polygon(COMMUNITY))
    geo.set_boundary(admin, areas["东城社区第一网格"].id, polygon(GRID))
    east = actor_for(db.session.scalar(select(User).where(User.username == "east_admin")))
    made = service.configure_platform(east, area_id=areas["东城社区"].id, name="12345 政务服务热线",
                                      endpoint=hotline.url, secret=SECRET)
    db.session.flush()
    return made


def post_event(client, platform, payload, secret=SECRET):
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {**signing.headers(secret, body), signing.PLATFORM: str(platform.id)}
    return client.post("/hotline/v1/events", data=body, headers=headers)


def filed_case(login, places, categories, reporter=None):
    res = (reporter or login.resident()).post("/cases", json={"place_id": places, "category_id": categories,
                                                              "description": "小区门口的下水道井盖丢了。"})
    assert res.status_code == 201, res.get_json()
    return res.get_json()


@pytest.fixture
def ids():
    from app.areas.models import Place
    from app.cases.models import Category

    place = db.session.scalar(select(Place).where(Place.name == "东城小区1号楼"))
    category = db.session.scalar(select(Category).where(Category.name == "设施损坏"))
    return place.id, category.id


def test_a_case_handed_to_the_hotline_is_sent_signed_and_updated_from_it(client, login, hotline, platform, ids):
    reporter = login.resident()
    case = filed_case(login, *ids, reporter=reporter)
    admin = login("east_admin")
    res = admin.post(f"/cases/{case['id']}/hotline", json={"platform_id": platform.id, "note": "涉及市政管网，请热线转办"})
    assert res.status_code == 201, res.get_json()
    # The job ran after the commit (inline here): the hotline has the case, without the reporter.
    assert len(hotline.received) == 1
    sent = hotline.received[0]
    assert sent["case"]["id"] == case["id"] and sent["note"] == "涉及市政管网，请热线转办"
    assert "reporter" not in json.dumps(sent["case"])
    timeline = admin.get(f"/cases/{case['id']}").get_json()["timeline"]
    assert [e["action_label"] for e in timeline][-2:] == ["移交热线", "热线已接收"]
    assert "12345-0001" in timeline[-1]["note"]

    update = {"id": "evt-1", "type": "status_update", "case_id": case["id"], "status": "处理中",
              "note": "已派市政养护单位，今日补装井盖"}
    assert post_event(client, platform, update).status_code == 200
    again = post_event(client, platform, update)  # the platform resends: same answer, nothing new
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    timeline = admin.get(f"/cases/{case['id']}").get_json()["timeline"]
    assert [e["note"] for e in timeline if e["action"] == "hotline_update"] == [
        "12345 政务服务热线：已派市政养护单位，今日补装井盖"]
    # The reporter sees it on their case, told by 系统, and hears of it.
    mine = reporter.get(f"/cases/{case['id']}").get_json()["timeline"]
    assert [(e["action_label"], e["actor_label"]) for e in mine if e["action"] == "hotline_update"] == [("热线反馈", "系统")]
    assert any(n["title"] == "您上报的问题有新的办理情况" for n in reporter.get("/inbox").get_json()["items"])
    # A message not signed with the shared secret is refused.
    assert post_event(client, platform, update, secret="wrong-secret-wrong-secret").status_code == 401


def test_a_hand_over_waits_out_a_hotline_outage_and_is_retried_by_the_sweep(client, login, hotline, platform, ids):
    from app.hotline.models import Handover
    from tasks.hotline import sweep_handovers

    case = filed_case(login, *ids)
    hotline.down = True
    res = login("east_admin").post(f"/cases/{case['id']}/hotline", json={"platform_id": platform.id})
    assert res.status_code == 201
    handover = db.session.scalar(select(Handover).where(Handover.case_id == case["id"]))
    assert handover.status == "pending" and handover.attempts == 1 and "503" in handover.last_error
    assert sweep_handovers() == 0  # not due yet: it backs off
    hotline.down = False
    travel(timedelta(minutes=1))
    assert sweep_handovers() == 1
    db.session.refresh(handover)
    assert handover.status == "sent" and handover.external_id == "12345-0001"


def test_a_work_order_pushed_down_becomes_a_case_with_its_deadline(client, login, platform, ids):
    from app.cases.models import Case

    due = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    order = {"id": "GD-20261201-0042", "type": "work_order", "service_code": str(ids[1]),
             "description": "市民来电：东城路口路灯不亮。", "lat": 36.4950, "long": 112.3350, "address": "东城路口",
             "due_at": due.isoformat()}
    res = post_event(client, platform, order)
    assert res.status_code == 200, res.get_json()
    case = db.session.get(Case, res.get_json()["case_id"])
    assert case.status == "submitted" and case.due_at == due
    from app.areas.models import Area
    assert case.area_path == db.session.scalar(select(Area.path).where(Area.name == "东城社区第一网格"))
    again = post_event(client, platform, order)
    assert again.get_json() == {"id": "GD-20261201-0042", "case_id": case.id, "duplicate": True}
    assert db.session.scalar(select(db.func.count()).select_from(Case).where(
        Case.description == "市民来电：东城路口路灯不亮。")) == 1
    # The grid's worker finds it in their list, labelled as a hotline order.
    listed = login("grid_east1").get("/cases").get_json()["items"]
    assert case.id in [c["id"] for c in listed]
    detail = login("east_admin").get(f"/cases/{case.id}").get_json()
    assert any(e["action_label"] == "热线工单" and "GD-20261201-0042" in e["note"] for e in detail["timeline"])
