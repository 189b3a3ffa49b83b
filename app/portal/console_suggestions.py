"""Console: the representatives' and departments' suggestion work (accept, answer, refer, reply, close)."""
from __future__ import annotations

from datetime import datetime, time

from flask import redirect, render_template, request, url_for

from app.areas.service import departments_in_scope
from app.core.errors import Invalid
from app.core.time import SHANGHAI
from app.portal import web
from app.portal.auth import staff_actor
from app.portal.console import SUGGESTION_ROLES, bp, roles_required
from app.suggestions import service as suggestion_service
from app.suggestions.states import ACTION_LABELS, ROLE_LABELS, STATUS_LABELS

BOXES = [("", "全部"), ("addressed", "代表收到的"), ("department", "交办本部门的"), ("scope", "辖区内的")]
STATUS_TABS = [("", "全部状态"), ("submitted", "待受理"), ("accepted", "已受理"), ("referred", "已交办"),
               ("replied", "部门已回复"), ("answered", "已答复"), ("closed", "已办结"), ("rejected", "不予受理")]
ACTIONS = ("accept", "reject", "answer", "refer", "reply", "close")


@bp.get("/suggestions")
@roles_required(*SUGGESTION_ROLES)
def suggestions():
    box = request.args.get("box") or ""
    box = box if box in dict(BOXES) else ""
    status = request.args.get("status") or ""
    status = status if status in dict(STATUS_TABS) else ""
    page = suggestion_service.list_suggestions(staff_actor(), box=box or None, status=status or None,
                                               **web.page_args())
    return render_template("console/suggestions.html", page=page, boxes=BOXES, box=box, tabs=STATUS_TABS,
                           status=status, labels=STATUS_LABELS)


@bp.get("/suggestions/<int:suggestion_id>")
@roles_required(*SUGGESTION_ROLES)
def suggestion_detail(suggestion_id):
    actor = staff_actor()
    suggestion = suggestion_service.get_suggestion(actor, suggestion_id)
    actions = suggestion_service.allowed_actions(suggestion, actor)
    departments = []
    if "refer" in actions:
        departments = [d for d in departments_in_scope(actor, roles=SUGGESTION_ROLES)
                       if suggestion.area_path.startswith(d.area_path) or d.area_path.startswith(suggestion.area_path)]
    return render_template("console/suggestion_detail.html", s=suggestion, actions=actions,
                           events=suggestion_service.history(suggestion), departments=departments,
                           labels=ACTION_LABELS, role_labels=ROLE_LABELS, status_labels=STATUS_LABELS)


@bp.post("/suggestions/<int:suggestion_id>/actions")
@roles_required(*SUGGESTION_ROLES)
def suggestion_action(suggestion_id):
    action = request.form.get("action", "")

    def act():
        if action not in ACTIONS:
            raise Invalid("未知的操作。", errors={"action": ["无效"]})
        due = web.local_date("due_date")
        due_at = datetime.combine(due, time(18, 0), tzinfo=SHANGHAI) if due else None
        return suggestion_service.transition(staff_actor(), suggestion_id, action, note=web.text("note", 2000, multiline=True),
                                             department_id=web.number("department_id"), due_at=due_at)

    web.attempt(act, success=f"已{ACTION_LABELS.get(action, '办理')}。")
    return redirect(url_for("console.suggestion_detail", suggestion_id=suggestion_id))
