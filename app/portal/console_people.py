"""Console: wish review and dispatch, party-member approvals, volunteer activities and approval of hours."""
from __future__ import annotations

import base64
import io
from decimal import Decimal, InvalidOperation

from flask import flash, redirect, render_template, request, send_file, url_for

from app.accounts.models import ADMIN_ROLES
from app.accounts.service import person_names
from app.areas.models import COMMUNITY
from app.areas.service import list_areas
from app.core.errors import Invalid
from app.members import service as member_service
from app.portal import web
from app.portal.auth import staff_actor
from app.portal.console import bp, roles_required
from app.volunteering import activities as activity_service
from app.volunteering import attendance, certificates, checkin_codes, ledger
from app.volunteering import corrections as ledger_corrections
from app.volunteering.states import ENROLLMENT_LABELS, PRESENCE_LABELS
from app.wishes import service as wish_service
from app.wishes.states import ACTION_LABELS

WISH_TABS = [("submitted", "待审核"), ("approved", "待认领"), ("offered", "待接单"), ("claimed", "已认领"),
             ("fulfilled", "待确认"), ("disputed", "有异议"), ("confirmed", "已确认"), ("rejected", "未通过")]
MEMBER_TABS = [("pending", "待审核"), ("approved", "已报到"), ("rejected", "未通过")]
HOURS_TABS = [("pending", "待审核"), ("approved", "已通过"), ("rejected", "未通过")]
# The console takes the community's steps of a wish; claiming and fulfilling happen in the mini-program.
WISH_CONSOLE_ACTIONS = ("approve", "reject", "dispatch", "reassign", "take_back", "redo", "close")


def _tab(tabs, default: str) -> str:
    status = request.args.get("status") or default
    return status if status in dict(tabs) else default


# -- wishes -------------------------------------------------------------------------------------

@bp.get("/wishes")
@roles_required(*ADMIN_ROLES)
def wishes():
    status = _tab(WISH_TABS, "submitted")
    page = wish_service.list_wishes(staff_actor(), status=status, **web.page_args())
    return render_template("console/wishes.html", page=page, tabs=WISH_TABS, status=status)


@bp.get("/wishes/<int:wish_id>")
@roles_required(*ADMIN_ROLES)
def wish_detail(wish_id):
    actor = staff_actor()
    wish = wish_service.get_wish(actor, wish_id)
    actions = [a for a in wish["allowed_actions"] if a in WISH_CONSOLE_ACTIONS]
    candidates = wish_service.candidates(actor, wish_id)["items"] if {"dispatch", "reassign"} & set(actions) else []
    return render_template("console/wish_detail.html", wish=wish, actions=actions, labels=ACTION_LABELS,
                           candidates=candidates)


@bp.post("/wishes/<int:wish_id>/actions")
@roles_required(*ADMIN_ROLES)
def wish_action(wish_id):
    action = request.form.get("action", "")

    def act():
        if action not in WISH_CONSOLE_ACTIONS:
            raise Invalid("未知的操作。", errors={"action": ["无效"]})
        data = {"note": web.text("note", multiline=True), "reason": web.text("reason", multiline=True)}
        if action == "approve":
            data |= {"public_title": web.text("public_title", 30) or None,
                     "public_detail": web.text("public_detail", 2000, multiline=True)
                     if "public_detail" in request.form else None}
        if action in ("dispatch", "reassign"):
            data["member_id"] = web.number("member_id")
        return wish_service.transition(staff_actor(), wish_id, action, **data)

    web.attempt(act, success=f"已{ACTION_LABELS.get(action, '办理')}。")
    return redirect(url_for("console.wish_detail", wish_id=wish_id))


@bp.post("/wishes/<int:wish_id>/pledges/<int:pledge_id>/handover")
@roles_required(*ADMIN_ROLES)
def wish_handover(wish_id, pledge_id):
    web.attempt(lambda: wish_service.confirm_handover(staff_actor(), wish_id, pledge_id,
                                                      note=web.text("note", 200)), success="已确认交接。")
    return redirect(url_for("console.wish_detail", wish_id=wish_id))


# -- party members ------------------------------------------------------------------------------

@bp.get("/members")
@roles_required(*ADMIN_ROLES)
def members():
    status = _tab(MEMBER_TABS, "pending")
    page = member_service.list_registrations(staff_actor(), status=status, **web.page_args())
    return render_template("console/members.html", page=page, tabs=MEMBER_TABS, status=status)


@bp.post("/members/<int:member_id>/actions")
@roles_required(*ADMIN_ROLES)
def member_action(member_id):
    action = request.form.get("action", "")
    done = {"approve": "已通过报到申请。", "reject": "已驳回报到申请。"}
    web.attempt(lambda: member_service.review(staff_actor(), member_id, action, reason=web.text("reason", multiline=True)),
                success=done.get(action))
    return redirect(url_for("console.members", status=request.form.get("status") or "pending"))


# -- volunteering -------------------------------------------------------------------------------

@bp.route("/activities", methods=["GET", "POST"])
@roles_required(*ADMIN_ROLES)
def activities():
    actor = staff_actor()
    if request.method == "POST":
        ok, _ = web.attempt(lambda: activity_service.create_activity(
            actor, title=web.text("title", 60), community_id=web.number("community_id"),
            starts_at=_required_time("starts_at"), ends_at=_required_time("ends_at"),
            capacity=web.number("capacity") or 0, description=web.text("description", 1000, multiline=True),
            place_text=web.text("place_text", 100), enroll_deadline=web.local_datetime("enroll_deadline")),
            success="活动已发布。")
        if ok:
            return redirect(url_for("console.activities"))
    page = activity_service.list_managed_activities(actor, **web.page_args())
    communities = list_areas(actor, level=COMMUNITY, limit=100).items
    return render_template("console/activities.html", page=page, communities=communities, form=request.form)


def _required_time(name: str):
    value = web.local_datetime(name)
    if value is None:
        raise Invalid("请填写活动的开始和结束时间。", errors={name: ["必填"]})
    return value


@bp.get("/hours")
@roles_required(*ADMIN_ROLES)
def hours():
    status = _tab(HOURS_TABS, "pending")
    page = ledger.list_hours(staff_actor(), mine=False, status=status, **web.page_args())
    names = _user_names({e.user_id for e in page.items})
    return render_template("console/hours.html", page=page, tabs=HOURS_TABS, status=status, names=names)


def _user_names(ids: set[int]) -> dict[int, str]:
    return person_names(ids)


@bp.post("/hours/<int:entry_id>/actions")
@roles_required(*ADMIN_ROLES)
def hours_action(entry_id):
    action = request.form.get("action", "")
    done = {"approve": "服务时长已审核通过。", "reject": "已驳回该服务时长。"}
    web.attempt(lambda: ledger.transition_hours(staff_actor(), entry_id, action, reason=web.text("reason", multiline=True),
                                                      evaluation=web.text("evaluation", multiline=True)),
                success=done.get(action))
    return redirect(url_for("console.hours", status=request.form.get("status") or "pending"))


@bp.get("/corrections")
@roles_required(*ADMIN_ROLES)
def corrections():
    """申请更正: the volunteers' requests the organisation answers, correcting or declining with a reason."""
    page = ledger_corrections.open_correction_requests(staff_actor(), **web.page_args())
    names = _user_names({c.requested_by for c in page.items if c.requested_by})
    return render_template("console/corrections.html", page=page, names=names)


@bp.post("/hours/<int:entry_id>/correct")
@roles_required(*ADMIN_ROLES)
def hours_correct(entry_id):
    request_id = request.form.get("request_id", type=int)
    web.attempt(lambda: ledger_corrections.correct_entry(
        staff_actor(), entry_id, reason=web.text("reason"), request_id=request_id,
        hours=web.text("hours") or None, description=web.text("description") or None,
        place=web.text("place") if "place" in request.form else None),
        success="已更正该服务记录，更正前后的内容都已留存。")
    if request_id:
        return redirect(url_for("console.corrections"))
    return redirect(url_for("console.hours", status="approved"))


@bp.post("/corrections/<int:request_id>/decline")
@roles_required(*ADMIN_ROLES)
def correction_decline(request_id):
    web.attempt(lambda: ledger_corrections.decline_correction(staff_actor(), request_id, answer=web.text("answer")),
                success="已答复：不予更正。")
    return redirect(url_for("console.corrections"))


@bp.get("/proofs")
@roles_required(*ADMIN_ROLES)
def proofs():
    """志愿服务证明: requests to issue (谁记录谁证明) and the proofs this organisation issued."""
    actor = staff_actor()
    pending = certificates.list_requests(actor, status="requested", **web.page_args())
    issued = certificates.issued_by_area(actor, limit=web.DEFAULT_LIMIT)
    return render_template("console/proofs.html", pending=pending, issued=issued,
                           policies=certificates.proof_policies(actor))


@bp.post("/proofs/policy/<int:area_id>")
@roles_required(*ADMIN_ROLES)
def proof_policy(area_id):
    """The organisation says whether its proofs are issued at once (by the system, on its behalf) or by hand."""
    auto = request.form.get("auto_issue") == "on"
    web.attempt(lambda: certificates.set_proof_policy(staff_actor(), area_id, auto_issue=auto),
                success="已设为自动出具：申请提交后立即以本单位名义出具。" if auto else "已设为人工出具。")
    return redirect(url_for("console.proofs"))


@bp.post("/proofs/<int:proof_request_id>/issue")
@roles_required(*ADMIN_ROLES)
def proof_issue(proof_request_id):
    web.attempt(lambda: certificates.issue_for_request(staff_actor(), proof_request_id),
                success="证明已出具，志愿者可以下载。")
    return redirect(url_for("console.proofs"))


@bp.get("/proofs/<string:code>.pdf")
@roles_required(*ADMIN_ROLES)
def proof_file(code):
    certificate = certificates.certificate_for_download(staff_actor(), code)
    return send_file(io.BytesIO(certificates.render_pdf(certificate)), mimetype="application/pdf",
                     as_attachment=True, download_name=f"志愿服务证明-{certificate.code}.pdf")


@bp.route("/activities/<int:activity_id>", methods=["GET", "POST"])
@roles_required(*ADMIN_ROLES)
def activity_roster(activity_id):
    """The organiser's roster: who enrolled, who checked in and out, and attendance by hand (with a reason)."""
    actor = staff_actor()
    if request.method == "POST":
        raw_hours = (request.form.get("hours") or "").strip()
        try:
            hours = Decimal(raw_hours) if raw_hours else None
        except InvalidOperation:
            flash("时长应为数字，如 2.5。", "error")
        else:
            action = request.form.get("action", "")
            web.attempt(lambda: attendance.correct_attendance(
                actor, activity_id, user_id=web.number("user_id"), action=action,
                reason=web.text("reason", 200, multiline=True), hours=hours, at=web.local_datetime("at")),
                success=f"已{attendance.ATTENDANCE_LABELS.get(action, '更正考勤')}，并记入活动纪实。")
        return redirect(url_for("console.activity_roster", activity_id=activity_id))
    activity = activity_service.get_activity(activity_id)
    page = activity_service.list_enrollments(actor, activity_id, **web.page_args())
    return render_template("console/activity_roster.html", activity=activity, page=page,
                           offers=attendance.offered_actions(actor, activity, page.items), labels=ENROLLMENT_LABELS, presence_labels=PRESENCE_LABELS,
                           method_labels=checkin_codes.METHOD_LABELS, actions=attendance.ATTENDANCE_LABELS,
                           printed_qr=_qr_data_uri(activity.scene) if activity.fallback_code_enabled else None)


@bp.post("/activities/<int:activity_id>/check-in-rules")
@roles_required(*ADMIN_ROLES)
def activity_check_in_rules(activity_id):
    """The printed fallback code on or off; the place (GCJ-02) and radius of the check-in, or none."""
    def act():
        return attendance.set_check_in_rules(
            staff_actor(), activity_id, fallback_code_enabled=request.form.get("fallback_code_enabled") == "on",
            place_lat=_decimal("place_lat"), place_lng=_decimal("place_lng"), place_radius_m=web.number("place_radius_m"))

    web.attempt(act, success="签到规则已保存。")
    return redirect(url_for("console.activity_roster", activity_id=activity_id))


def _decimal(name: str):
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return Decimal(raw)
    except InvalidOperation as exc:
        raise Invalid("经纬度应为数字，如 36.500123。", errors={name: ["应为数字"]}) from exc


@bp.get("/activities/<int:activity_id>/check-in-code")
@roles_required(*ADMIN_ROLES)
def activity_check_in_code(activity_id):
    """The code shown on site: the page renews it (and its QR) when the minute turns, without script."""
    actor = staff_actor()
    code = attendance.current_code(actor, activity_id)
    activity = activity_service.get_activity(activity_id)
    return render_template("console/check_in_code.html", activity=activity, code=code,
                           qr=_qr_data_uri(code.code))


@bp.get("/activities/<int:activity_id>/printed-code")
@roles_required(*ADMIN_ROLES)
def activity_printed_code(activity_id):
    """The paper fallback code on a page of its own, to print and post on site (print hides the console around it)."""
    activity = attendance.printed_code(staff_actor(), activity_id)
    return render_template("console/printed_code.html", activity=activity, qr=_qr_data_uri(activity.scene))


def _qr_data_uri(text: str) -> str:
    return "data:image/png;base64," + base64.b64encode(certificates.qr_png(text).getvalue()).decode()
