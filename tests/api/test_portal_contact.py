"""我要联系 on the web, both ways: the thread keeps the phone the resident left, staff read it (audited) and
answer in the console's inbox, and the resident reads the answer by the message's number and last 4."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.accounts.models import User
from app.accounts.service import actor_for
from app.areas.models import Place
from app.cases import service as cases
from app.cases.models import Case, Category
from app.codes.models import Code
from app.contact.models import MessageThread
from app.core import uow
from app.core.audit import AuditLog
from app.core.time import to_local, utcnow
from app.extensions import db
from app.privacy.notice import VERSION
from tests.console_client import Console

PHONE = "13912345678"


def _scene() -> str:
    place = db.session.scalar(select(Place).where(Place.name == "东城小区1号楼"))
    return db.session.scalar(select(Code.scene).where(Code.place_id == place.id, Code.active.is_(True)))


def _send(app, **overrides):
    scene = _scene()
    resident = Console(app.test_client())
    resident.token_from(f"/s/{scene}/message")
    form = {"to_role": "grid_worker", "body": "楼道里堆了很多杂物，麻烦看一下。", "phone": PHONE, "name": "陈女士",
            "privacy_version": VERSION, **overrides}
    return resident, resident.post(f"/s/{scene}/message", data=form)


def test_a_message_and_its_reply_both_ways(app):
    resident, res = _send(app)
    assert res.status_code == 302, res.get_data(as_text=True)[:500]
    thread = db.session.scalar(select(MessageThread).order_by(MessageThread.id.desc()))
    assert thread.tracking_no.startswith("LY") and thread.callback_phone_last4 == "5678"
    assert PHONE not in (thread.callback_phone_encrypted or "")  # stored encrypted
    page = resident.get(res.headers["Location"]).get_data(as_text=True)
    assert thread.tracking_no in page and "楼道里堆了很多杂物" in page and "等待回复" in page

    staff = Console(app.test_client(), "grid_east1")
    inbox = staff.get("/console/messages").get_data(as_text=True)
    assert "东城小区1号楼" in inbox and "待回复" in inbox
    detail = staff.get(f"/console/messages/{thread.id}").get_data(as_text=True)
    assert "139****5678" in detail and PHONE not in detail
    before = db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1)) or 0
    revealed = staff.post(f"/console/messages/{thread.id}/phone").get_data(as_text=True)
    assert f'href="tel:{PHONE}"' in revealed
    read = db.session.scalar(select(AuditLog).where(AuditLog.id > before))
    assert read.action == "personal.read_phone"
    replied = staff.post(f"/console/messages/{thread.id}/reply", data={"body": "您好，明天上午来清理。"})
    assert replied.status_code == 302
    assert "没有待回复的留言" in staff.get("/console/messages").get_data(as_text=True)

    # The same browser sees the answer and who gave it; another browser needs the number and last 4.
    page = resident.get(f"/messages/{thread.tracking_no}").get_data(as_text=True)
    assert "您好，明天上午来清理。" in page and "网格员" in page and "已回复" in page
    stranger = Console(app.test_client())
    stranger.token_from("/messages")
    assert stranger.get(f"/messages/{thread.tracking_no}").status_code == 302
    wrong = stranger.post("/messages", data={"number": thread.tracking_no, "phone_last4": "0000"})
    assert "未找到匹配的留言" in wrong.get_data(as_text=True)
    right = stranger.post("/messages", data={"number": thread.tracking_no.lower(), "phone_last4": "5678"})
    assert right.status_code == 302
    assert "您好，明天上午来清理。" in stranger.get(right.headers["Location"]).get_data(as_text=True)
    followed = stranger.post(f"/messages/{thread.tracking_no}/reply", data={"body": "好的，谢谢！"})
    assert followed.status_code == 302
    assert "待回复" in staff.get("/console/messages").get_data(as_text=True)


def test_every_problem_of_the_form_is_shown_beside_its_field_and_the_input_is_kept(app):
    _resident, res = _send(app, body="", phone="123", privacy_version="")
    page = res.get_data(as_text=True)
    assert res.status_code == 200
    assert "有 3 处需要修改" in page
    for field in ("body", "phone", "privacy_version"):
        assert f'id="{field}-error"' in page, field
    assert 'value="123"' in page and "陈女士" in page


def test_an_expired_page_keeps_what_was_typed(app):
    scene = _scene()
    resident = Console(app.test_client())
    resident.token = "stale-token"
    res = resident.post(f"/s/{scene}/message", data={"to_role": "grid_worker", "body": "写了很久的留言",
                                                     "phone": PHONE, "privacy_version": VERSION})
    page = res.get_data(as_text=True)
    assert res.status_code == 200 and "页面已过期" in page and "写了很久的留言" in page
    assert db.session.scalar(select(MessageThread).where(MessageThread.callback_phone_last4 == "5678")) is None


# -- tracking on the web: steps, my reports, internal notes, withdraw and reopen, rating -----------------

def _report(app, description="楼下垃圾桶满了"):
    scene = _scene()
    category = db.session.scalar(select(Category).where(Category.name == "环境卫生"))
    resident = Console(app.test_client())
    resident.token_from(f"/s/{scene}/report")
    res = resident.post(f"/s/{scene}/report", data={"phone": PHONE, "name": "陈女士", "category_id": category.id,
                                                    "description": description, "privacy_version": VERSION})
    assert res.status_code == 302, res.get_data(as_text=True)[:500]
    return resident, db.session.scalar(select(Case).order_by(Case.id.desc()))


def test_tracking_shows_steps_the_acceptance_deadline_and_my_reports_and_withdraws(app):
    resident, case = _report(app)
    case.moderation, case.due_at = "pass", utcnow()  # as if released from review: the acceptance clock runs
    db.session.flush()
    page = resident.get(f"/track/{case.tracking_no}").get_data(as_text=True)
    assert 'class="steps"' in page and "提交" in page and "办结" in page
    assert "受理期限" in page and "办理时限" not in page
    assert "撤回上报" in page
    mine = resident.get("/track").get_data(as_text=True)
    assert "我的上报" in mine and case.tracking_no in mine
    res = resident.post(f"/track/{case.tracking_no}/withdraw", data={"note": "已经自己清理了"})
    assert res.status_code == 302
    assert "已撤回" in resident.get(res.headers["Location"]).get_data(as_text=True)


def test_dispatch_notes_stay_internal_and_rating_starts_empty_and_reopen_works(app):

    resident, case = _report(app, "路灯不亮")
    case.moderation = "pass"  # released from review
    admin = actor_for(db.session.scalar(select(User).where(User.username == "east_admin")))
    worker = db.session.scalar(select(User).where(User.username == "grid_east1"))
    cases.transition(admin, case.id, "accept", note="已受理，尽快安排")
    cases.transition(admin, case.id, "dispatch", assignee_id=worker.id, note="请今天下午去现场查看")
    cases.transition(actor_for(worker), case.id, "handle", note="已更换灯泡")
    cases.transition(admin, case.id, "verify", passed=True, note="")
    db.session.flush()
    page = resident.get(f"/track/{case.tracking_no}").get_data(as_text=True)
    assert "请今天下午去现场查看" not in page
    assert "已受理，尽快安排" in page and "已更换灯泡" in page
    assert 'type="radio" name="score"' in page and "checked" not in page.split("评价办理结果")[1].split("</form>")[0]
    staff_page = Console(app.test_client(), "east_admin").get(f"/console/cases/{case.id}").get_data(as_text=True)
    assert "请今天下午去现场查看" in staff_page and "仅内部可见" in staff_page
    res = resident.post(f"/track/{case.tracking_no}/reopen", data={"reason": "晚上又不亮了"})
    assert res.status_code == 302
    assert "重新办理" in resident.get(res.headers["Location"]).get_data(as_text=True)


# -- without a code: a report at a place found in the directory, a suggestion and a wish ------------------

def test_a_report_without_a_code_a_suggestion_and_a_wish_from_the_web(app):
    from app.areas.models import Area
    from app.suggestions.models import Suggestion
    from app.wishes.models import Wish

    east = db.session.scalar(select(Area).where(Area.name == "东城社区"))
    visitor = Console(app.test_client())
    found = visitor.get(f"/report?community_id={east.id}&q=1号楼").get_data(as_text=True)
    place = db.session.scalar(select(Place).where(Place.name == "东城小区1号楼"))
    assert f"/places/{place.id}/report" in found
    visitor.token_from(f"/places/{place.id}/report")
    category = db.session.scalar(select(Category).where(Category.name == "环境卫生"))
    res = visitor.post(f"/places/{place.id}/report", data={
        "phone": PHONE, "category_id": category.id, "description": "绿化带里有很多垃圾",
        "privacy_version": VERSION})
    assert res.status_code == 302, res.get_data(as_text=True)[:400]
    case = db.session.scalar(select(Case).order_by(Case.id.desc()))
    assert case.place_id == place.id and case.description == "绿化带里有很多垃圾"

    visitor.token_from("/suggestions/new")
    refused = visitor.post("/suggestions/new", data={"area_id": east.id, "title": "", "body": "",
                                                     "phone": PHONE, "privacy_version": VERSION})
    page = refused.get_data(as_text=True)
    assert 'id="title-error"' in page and 'id="body-error"' in page
    res = visitor.post("/suggestions/new", data={"area_id": east.id, "title": "建议增设充电桩",
                                                 "body": "电动车在楼道充电很危险。", "phone": PHONE,
                                                 "privacy_version": VERSION})
    assert res.status_code == 302, res.get_data(as_text=True)[:600]
    assert db.session.scalar(select(Suggestion).order_by(Suggestion.id.desc())).title == "建议增设充电桩"

    visitor.token_from("/wishes/new")
    day = (to_local(utcnow()).date() + timedelta(days=3)).isoformat()
    res = visitor.post("/wishes/new", data={"title": "想请人帮忙修水龙头", "category": "repair", "desired_date": day,
                                            "community_id": east.id, "address": "东城小区1号楼301",
                                            "phone": PHONE, "name": "陈女士", "privacy_version": VERSION})
    assert res.status_code == 302, res.get_data(as_text=True)[:600]
    assert db.session.scalar(select(Wish).order_by(Wish.id.desc())).title == "想请人帮忙修水龙头"


def test_without_javascript_a_too_big_photo_is_named_beside_the_field_and_the_rest_is_kept(app, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 1024 * 1024)
    scene = _scene()
    category = db.session.scalar(select(Category).where(Category.name == "环境卫生"))
    resident = Console(app.test_client())
    resident.token_from(f"/s/{scene}/report")
    # The multipart body is built here, as tests/api/test_uploads.py does: werkzeug's test client spools a
    # big body to a temporary file it never closes.
    boundary = "gongzhi-portal-boundary"
    fields = {"phone": PHONE, "category_id": str(category.id), "description": "井盖松动", "privacy_version": VERSION,
              "csrf_token": resident.token}
    body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                    for k, v in fields.items())
    for name, size in (("IMG_1.jpg", 1000), ("IMG_2.jpg", 1_600_000)):
        body += (f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="{name}"\r\n'
                 "Content-Type: image/jpeg\r\n\r\n").encode() + b"\xff\xd8" + b"\0" * size + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    res = resident._open("POST", f"/s/{scene}/report", data=body,
                         content_type=f"multipart/form-data; boundary={boundary}")
    page = res.get_data(as_text=True)
    assert res.status_code == 200
    beside = page.split('id="photos-error"')[1].split("</p>")[0]
    assert "第 2 张（IMG_2.jpg）有 1.5 MB，超过 1 MB" in beside and "请重新选择照片" in beside
    assert "井盖松动" in page and PHONE in page
    assert db.session.scalar(select(Case).where(Case.description == "井盖松动")) is None


def test_my_reports_mark_a_case_that_moved_since_it_was_last_seen(app):
    resident, case = _report(app, "垃圾没人收")
    resident.get(f"/track/{case.tracking_no}")  # seen as 待受理
    assert "badge open\">有新进展" not in resident.get("/track").get_data(as_text=True)
    case.moderation = "pass"
    admin = actor_for(db.session.scalar(select(User).where(User.username == "east_admin")))
    cases.transition(admin, case.id, "accept", note="")
    db.session.flush()
    assert "badge open\">有新进展" in resident.get("/track").get_data(as_text=True)
    resident.get(f"/track/{case.tracking_no}")
    assert "badge open\">有新进展" not in resident.get("/track").get_data(as_text=True)


def test_a_rating_without_a_choice_is_refused_beside_the_choices_and_the_comment_is_kept(app):
    resident, case = _report(app, "楼道灯又坏了")
    case.moderation = "pass"
    admin = actor_for(db.session.scalar(select(User).where(User.username == "east_admin")))
    cases.transition(admin, case.id, "accept", note="")
    cases.transition(admin, case.id, "handle", note="已修好")
    worker = actor_for(db.session.scalar(select(User).where(User.username == "grid_east1")))
    cases.transition(worker, case.id, "verify", passed=True)
    uow.commit()  # as the staff's requests would have: the refused rating rolls back only its own work
    res = resident.post(f"/track/{case.tracking_no}/rating", data={"comment": "修得很快"})
    page = res.get_data(as_text=True)
    assert res.status_code == 422 and 'id="score-error"' in page and "修得很快" in page
    assert resident.post(f"/track/{case.tracking_no}/rating", data={"score": "4"}).status_code == 302


def test_a_grid_worker_on_the_mini_program_reads_the_call_back_number_audited(app, login):
    _resident, res = _send(app)
    assert res.status_code == 302
    thread = db.session.scalar(select(MessageThread).order_by(MessageThread.id.desc()))
    worker = login("grid_east1")
    shown = worker.get(f"/messages/{thread.id}").get_json()
    assert shown["callback_phone"] == "139****5678" and shown["tracking_no"] == thread.tracking_no
    assert shown["awaiting_reply"] is True
    before = db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1)) or 0
    assert worker.post(f"/messages/{thread.id}/callback-phone").get_json() == {"phone": PHONE}
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.id > before)) == "personal.read_phone"
    assert login("west_admin").post(f"/messages/{thread.id}/callback-phone").status_code == 403
