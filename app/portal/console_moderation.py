"""Console: the moderation queue (内容审核): held content in the reviewer's areas, released or hidden with a reason."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for

from app.content_safety.policy import KIND_LABELS
from app.moderation import service as moderation
from app.portal import web
from app.portal.auth import staff_actor
from app.portal.console import MODERATION_ROLES, bp, roles_required

STATUS_TABS = [("held", "待审核"), ("hidden", "已隐藏"), ("released", "已放行")]


@bp.get("/moderation")
@roles_required(*MODERATION_ROLES)
def moderation_queue():
    status = request.args.get("status") or "held"
    status = status if status in dict(STATUS_TABS) else "held"
    kind = request.args.get("kind") or ""
    kind = kind if kind in KIND_LABELS else ""
    page = moderation.list_holds(staff_actor(), status=status, kind=kind or None, **web.page_args())
    return render_template("console/moderation.html", page=page, tabs=STATUS_TABS, status=status,
                           kinds=KIND_LABELS, kind=kind)


@bp.post("/moderation/<int:hold_id>/decision")
@roles_required(*MODERATION_ROLES)
def moderation_decision(hold_id):
    action = request.form.get("action", "")
    done = {"release": "已放行，内容恢复公开并已通知作者。", "hide": "已隐藏，并已告知作者原因。"}
    web.attempt(lambda: moderation.decide(staff_actor(), hold_id, action, web.text("reason", 200, multiline=True)),
                success=done.get(action))
    return redirect(url_for("console.moderation_queue", status=request.form.get("status") or "held",
                            kind=request.form.get("kind") or None))
