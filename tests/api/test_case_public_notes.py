"""Public updates kept apart from internal notes: on every staff step staff choose whether the resident reads the
note (居民可见), with a sensible default per step; the reporter's views (API, portal tracking page, notifications)
carry only public notes, staff see all of them marked, and the choice is audited with the step."""
from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import User
from app.areas.models import Department, Place
from app.cases.models import Case, Category
from app.codes.models import Code
from app.core.audit import AuditLog
from app.extensions import db
from app.notifications.models import Notification
from app.privacy.notice import VERSION
from tests.console_client import Console

INTERNAL = "请今天下午去现场查看"
RESULT = "已清理楼道杂物，恢复通行。"


def _scene(name="东城小区1号楼") -> str:
    place = db.session.scalar(select(Place).where(Place.name == name))
    return db.session.scalar(select(Code.scene).where(Code.place_id == place.id, Code.active.is_(True)))


def _category() -> int:
    return db.session.scalar(select(Category.id).where(Category.name == "环境卫生"))


def _user_id(username: str) -> int:
    return db.session.scalar(select(User.id).where(User.username == username))


def _filed(owner) -> dict:
    res = owner.post("/cases", json={"scene": _scene(), "category_id": _category(), "description": "楼道堆满纸箱"})
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def _notes(body: dict) -> dict[str, tuple[str, bool]]:
    return {e["action"]: (e["note"], e["note_public"]) for e in body["timeline"]}


def test_an_internal_dispatch_note_never_reaches_the_reporter_and_a_handling_result_does(login):
    owner = login.resident()
    case = _filed(owner)
    admin = login("east_admin")
    assert admin.post(f"/cases/{case['id']}/transitions", json={"action": "accept"}).status_code == 200
    res = admin.post(f"/cases/{case['id']}/transitions",
                     json={"action": "dispatch", "assignee_id": _user_id("grid_east1"), "note": INTERNAL})
    assert res.status_code == 200, res.get_json()
    worker = login("grid_east1")
    res = worker.post(f"/cases/{case['id']}/transitions", json={"action": "handle", "note": RESULT})
    assert res.status_code == 200, res.get_json()

    mine = owner.get(f"/cases/{case['id']}").get_json()
    assert INTERNAL not in str(mine)
    assert _notes(mine)["dispatch"] == ("", False)
    assert _notes(mine)["handle"] == (RESULT, True)
    staff = _notes(admin.get(f"/cases/{case['id']}").get_json())
    assert staff["dispatch"] == (INTERNAL, False) and staff["handle"] == (RESULT, True)
    # The notifications the reporter receives never quote the dispatch note either.
    told = db.session.scalars(select(Notification).where(
        Notification.subject_type == "case", Notification.subject_id == case["id"],
        Notification.user_id == db.session.get(Case, case["id"]).reporter_id)).all()
    assert told and all(INTERNAL not in f"{n.title}{n.body}{n.data}" for n in told)


def test_staff_choose_per_note_and_the_choice_is_audited_with_the_step(login):
    owner = login.resident()
    case = _filed(owner)
    admin = login("east_admin")
    before = db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1)) or 0
    # An acceptance note kept internal (public by default), a dispatch note made public (internal by default).
    res = admin.post(f"/cases/{case['id']}/transitions",
                     json={"action": "accept", "note": "已与物业王经理沟通", "public": False})
    assert res.status_code == 200, res.get_json()
    res = admin.post(f"/cases/{case['id']}/transitions", json={
        "action": "dispatch", "department_id": _department("住建物业办"),
        "note": "已派住建物业办处理，预计三天内完成", "public": True})
    assert res.status_code == 200, res.get_json()

    mine = _notes(owner.get(f"/cases/{case['id']}").get_json())
    assert mine["accept"] == ("", False)
    assert mine["dispatch"] == ("已派住建物业办处理，预计三天内完成", True)
    accepted = db.session.scalar(select(Notification).where(
        Notification.kind == "case_accepted", Notification.subject_id == case["id"]))
    assert "王经理" not in f"{accepted.body}{accepted.data}"

    acts = [a for row in db.session.scalars(select(AuditLog).where(AuditLog.id > before))
            for a in row.detail.get("acts", [])]
    steps = {a["act"]: a.get("note_public") for a in acts if a["act"] in ("case.accept", "case.dispatch")}
    assert steps == {"case.accept": False, "case.dispatch": True}


def _department(name: str) -> int:
    return db.session.scalar(select(Department.id).where(Department.name == name))


def test_a_resident_cannot_hide_their_own_words(login):
    owner = login.resident()
    case = _filed(owner)
    res = owner.post(f"/cases/{case['id']}/transitions", json={"action": "withdraw", "note": "已经自己清理了",
                                                               "public": False})
    assert res.status_code == 200, res.get_json()
    assert _notes(owner.get(f"/cases/{case['id']}").get_json())["withdraw"] == ("已经自己清理了", True)


def test_the_openapi_document_describes_the_choice_and_a_bare_place_id(client):
    spec = client.get("/mp/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    public = schemas["CaseTransitionArgs"]["properties"]["public"]
    assert public["type"] == "boolean"
    assert "仅内部可见" in public["description"] and "dispatch、escalate 仅内部可见" in public["description"]
    assert "note_public" in schemas["CaseTimelineItem"]["properties"]
    assert "不扫码时选定的场所" in schemas["CaseReportArgs"]["properties"]["place_id"]["description"]


def test_a_bare_place_id_files_the_case_at_that_place(login):
    place = db.session.scalar(select(Place).where(Place.name == "老王便民超市"))
    res = login.resident().post("/cases", json={"place_id": place.id, "category_id": _category(),
                                                "description": "门口纸箱堆到路上"})
    assert res.status_code == 201, res.get_json()
    assert res.get_json()["place"]["name"] == "老王便民超市"
    assert db.session.get(Case, res.get_json()["id"]).area_path == place.area_path


# -- the console's forms and the portal's tracking page -------------------------------------------------

def _web_report(app) -> tuple[Console, Case]:
    resident = Console(app.test_client())
    resident.token_from(f"/s/{_scene()}/report")
    res = resident.post(f"/s/{_scene()}/report", data={
        "phone": "13912340000", "name": "陈女士", "category_id": _category(), "description": "楼道灯不亮",
        "privacy_version": VERSION})
    assert res.status_code == 302, res.get_data(as_text=True)[:500]
    case = db.session.scalar(select(Case).order_by(Case.id.desc()))
    case.moderation = "pass"  # released from review
    db.session.flush()
    return resident, case


def _radio(page: str, action: str) -> str:
    """The checked choice of 居民可见 in one action's form."""
    form = page.split(f'data-action="{action}"')[1].split("</form>")[0]
    checked = form.split('name="public"')
    return next(part.split('value="')[1][0] for part in checked[1:] if "checked" in part.split(">")[0])


def test_the_console_offers_the_choice_with_a_default_and_the_tracking_page_obeys_it(app):
    resident, case = _web_report(app)
    admin = Console(app.test_client(), "east_admin")
    page = admin.get(f"/console/cases/{case.id}").get_data(as_text=True)
    assert "对居民公开" in page and "仅内部可见" in page
    assert _radio(page, "accept") == "1" and _radio(page, "reject") == "1"
    res = admin.post(f"/console/cases/{case.id}/actions", data={"action": "accept", "note": "收到"})
    assert res.status_code == 302
    page = admin.get(f"/console/cases/{case.id}").get_data(as_text=True)
    assert _radio(page, "dispatch") == "0"
    worker = _user_id("grid_east1")
    # The dispatch note sent with the default (internal); the handling result made public explicitly.
    admin.post(f"/console/cases/{case.id}/actions", data={
        "action": "dispatch", "target": f"worker:{worker}", "note": INTERNAL, "public": "0"})
    staff = Console(app.test_client(), "grid_east1")
    assert _radio(staff.get(f"/console/cases/{case.id}").get_data(as_text=True), "handle") == "1"
    staff.post(f"/console/cases/{case.id}/actions", data={"action": "handle", "note": RESULT, "public": "1"})
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "handled"

    tracked = resident.get(f"/track/{case.tracking_no}").get_data(as_text=True)
    assert INTERNAL not in tracked and RESULT in tracked and "收到" in tracked
    shown = admin.get(f"/console/cases/{case.id}").get_data(as_text=True)
    timeline = shown.split("办理过程")[1]
    assert INTERNAL in timeline and RESULT in timeline
    assert timeline.count("仅内部可见") == 1 and timeline.count("对居民公开") >= 2
