"""Console: requests of web-portal residents about their personal data (查阅、更正、注销), with a deadline."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for

from app.accounts.models import ADMIN_ROLES
from app.core import crypto
from app.core.exports import attachment
from app.portal import web
from app.portal.auth import staff_actor
from app.portal.console import bp, roles_required
from app.privacy import rights
from app.privacy.models import DECLINED, DONE, OPEN, REQUEST_KINDS, REQUEST_STATUSES

STATUS_TABS = [(OPEN, "待处理"), (DONE, "已办结"), (DECLINED, "不予办理"), ("", "全部")]


@bp.get("/privacy-requests")
@roles_required(*ADMIN_ROLES)
def privacy_requests():
    status = request.args.get("status", OPEN)
    status = status if status in dict(STATUS_TABS) else OPEN
    page = rights.list_requests(staff_actor(), status=status or None, **web.page_args())
    return render_template("console/privacy_requests.html", page=page, tabs=STATUS_TABS, status=status,
                           overdue=rights.overdue)


def _detail(request_id: int, phone: str | None = None):
    actor = staff_actor()
    found = rights.load_request(actor, request_id)
    return render_template("console/privacy_request.html", r=found, kinds=REQUEST_KINDS, statuses=REQUEST_STATUSES,
                           masked=crypto.mask_phone(phone) if phone else rights.masked_phone(found),
                           phone=phone, overdue=rights.overdue(found))


@bp.get("/privacy-requests/<int:privacy_request_id>")
@roles_required(*ADMIN_ROLES)
def privacy_request(privacy_request_id):
    return _detail(privacy_request_id)


@bp.post("/privacy-requests/<int:privacy_request_id>/phone")
@roles_required(*ADMIN_ROLES)
def privacy_request_phone(privacy_request_id):
    """The full number, to call the resident back and confirm it is them: the read is audited."""
    actor = staff_actor()
    return _detail(privacy_request_id, rights.requester_phone(actor, rights.load_request(actor, privacy_request_id)))


@bp.get("/privacy-requests/<int:privacy_request_id>/export.zip")
@roles_required(*ADMIN_ROLES)
def privacy_request_export(privacy_request_id):
    return attachment(rights.export_for_request(staff_actor(), privacy_request_id), "application/zip",
                      f"个人信息-申请{privacy_request_id}.zip")


@bp.post("/privacy-requests/<int:privacy_request_id>/handle")
@roles_required(*ADMIN_ROLES)
def privacy_request_handle(privacy_request_id):
    outcome = request.form.get("outcome", "")
    web.attempt(lambda: rights.handle_request(staff_actor(), privacy_request_id, outcome=outcome,
                                              answer=web.text("answer", 1000, multiline=True)),
                success="已办结，办理记录已保存。" if outcome == DONE else "已记录不予办理的理由。")
    return redirect(url_for("console.privacy_request", privacy_request_id=privacy_request_id))
