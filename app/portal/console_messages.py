"""Console: the 我要联系 inbox, a thread with the resident's call-back number (read in clear, audited) and replies."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for

from app.contact import desk
from app.contact import service as contact
from app.portal import web
from app.portal.auth import staff_actor
from app.portal.console import CASE_ROLES, NAV, bp, roles_required

NAV.insert(2, {"endpoint": "console.messages", "label": "留言", "roles": CASE_ROLES})


@bp.get("/messages")
@roles_required(*CASE_ROLES)
def messages():
    tab = request.args.get("tab", desk.WAITING)
    tab = tab if tab in desk.INBOX_TABS else desk.WAITING
    page = desk.inbox(staff_actor(), tab=tab, **web.page_args())
    return render_template("console/messages.html", page=page, tabs=desk.INBOX_TABS, tab=tab)


def _thread_page(thread_id: int, phone: str | None = None, form=None):
    actor = staff_actor()
    thread = contact.thread_detail(actor, thread_id)
    return render_template("console/message_thread.html", thread=thread, lines=desk.lines(thread, for_staff=True),
                           masked=desk.masked_callback(thread), phone=phone, form=form or {})


@bp.get("/messages/<int:thread_id>")
@roles_required(*CASE_ROLES)
def message_thread(thread_id):
    return _thread_page(thread_id)


@bp.post("/messages/<int:thread_id>/phone")
@roles_required(*CASE_ROLES)
def message_phone(thread_id):
    """The number the resident left, to call them back: the read is audited."""
    return _thread_page(thread_id, desk.callback_phone(staff_actor(), thread_id))


@bp.post("/messages/<int:thread_id>/reply")
@roles_required(*CASE_ROLES)
def message_reply(thread_id):
    ok, _ = web.attempt(lambda: contact.reply(staff_actor(), thread_id, web.text("body", multiline=True)),
                        success="已回复，居民会在留言页看到。")
    if ok:
        return redirect(url_for("console.message_thread", thread_id=thread_id))
    return _thread_page(thread_id, form=request.form)
