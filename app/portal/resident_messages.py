"""Resident pages of 我要联系 on the web: read the replies by the message's number and the last four digits
of the phone left with it, and write back."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for

from app.contact import desk, lookup
from app.contact import service as contact
from app.portal import web
from app.portal.resident import THREADS_KEY, bp, remember


@bp.route("/messages", methods=["GET", "POST"])
def message_lookup():
    number = (request.values.get("number") or "").strip().upper()
    if request.method == "POST":
        lookup.tracking_budget_left(number)  # a 429 page once the number has had its wrong tries
        ok, found = web.attempt(lookup.thread_by_number, number, request.form.get("phone_last4", ""))
        if ok and found:
            remember(THREADS_KEY, found[0].id)
            return redirect(url_for("portal.message_thread", number=found[0].tracking_no))
        if ok:
            flash(lookup.NOT_FOUND, "error")
    return render_template("portal/message_lookup.html", number=number)


def _found(number: str):
    found = lookup.thread_for_visitor(number)
    if found is None or found[0].id not in session.get(THREADS_KEY, []):
        return None, None
    return found


@bp.get("/messages/<number>")
def message_thread(number):
    thread, _actor = _found(number)
    if thread is None:
        return redirect(url_for("portal.message_lookup", number=number))
    return render_template("portal/message_thread.html", thread=thread, lines=desk.lines(thread, for_staff=False),
                           form={})


@bp.post("/messages/<number>/reply")
def message_reply(number):
    thread, actor = _found(number)
    if thread is None:
        return redirect(url_for("portal.message_lookup", number=number))
    ok, _ = web.attempt(lambda: contact.reply(actor, thread.id, web.text("body", multiline=True)),
                        success="已发送，工作人员会收到通知。")
    if ok:
        return redirect(url_for("portal.message_thread", number=thread.tracking_no))
    thread, _actor = _found(number)
    return render_template("portal/message_thread.html", thread=thread, lines=desk.lines(thread, for_staff=False),
                           form=request.form)
