"""Console: the new groups (新就业群体): review registrations, publish service posts and approve their claims."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for

from app.accounts.models import ADMIN_ROLES
from app.areas.models import COMMUNITY
from app.areas.service import areas_in_scope
from app.core.errors import Invalid
from app.newgroups import service as group_service
from app.newgroups.models import POST_KINDS
from app.newgroups.states import CLAIM, REGISTRATION
from app.portal import web
from app.portal.auth import staff_actor
from app.portal.console import NAV, bp, roles_required

NAV.append({"endpoint": "console.groups", "label": "新就业群体", "roles": ADMIN_ROLES})

REGISTRATION_TABS = [("pending", "待审核"), ("approved", "已报到"), ("rejected", "未通过")]
CLAIM_TABS = [("pending", "待审核"), ("approved", "在岗"), ("left", "已离岗"), ("rejected", "未通过")]


def _tab(tabs, default: str) -> str:
    value = request.args.get("status") or default
    return value if value in dict(tabs) else default


@bp.get("/groups")
@roles_required(*ADMIN_ROLES)
def groups():
    status = _tab(REGISTRATION_TABS, "pending")
    page = group_service.list_registrations(staff_actor(), status=status, **web.page_args())
    return render_template("console/groups.html", page=page, tabs=REGISTRATION_TABS, status=status,
                           labels=REGISTRATION.action_labels)


@bp.post("/groups/workers/<int:worker_id>/actions")
@roles_required(*ADMIN_ROLES)
def group_worker_action(worker_id):
    action = request.form.get("action", "")

    def act():
        if action not in ("approve", "reject"):
            raise Invalid("未知的操作。", errors={"action": ["无效"]})
        return group_service.review_registration(staff_actor(), worker_id, action,
                                                 reason=web.text("reason", multiline=True))

    web.attempt(act, success=f"已{REGISTRATION.action_label(action)}。")
    return redirect(url_for("console.groups", status=request.form.get("status") or "pending"))


@bp.route("/posts", methods=["GET", "POST"])
@roles_required(*ADMIN_ROLES)
def posts():
    actor = staff_actor()
    if request.method == "POST":
        ok, _ = web.attempt(lambda: group_service.create_post(
            actor, community_id=web.number("community_id"), kind=request.form.get("kind", ""),
            title=web.text("title", 30), duties=web.text("duties", 1000, multiline=True),
            places=web.number("places") or 0), success="岗位已发布。")
        if ok:
            return redirect(url_for("console.posts"))
    status = _tab(CLAIM_TABS, "pending")
    posts_page = group_service.list_posts(actor, **web.page_args())
    claims = group_service.list_claims(actor, status=status, limit=100)
    communities = areas_in_scope(actor, ADMIN_ROLES, levels=(COMMUNITY,), limit=200)
    return render_template("console/posts.html", page=posts_page, claims=claims, tabs=CLAIM_TABS, status=status,
                           communities=communities, kinds=POST_KINDS, labels=CLAIM.action_labels, form=request.form)


@bp.post("/posts/<int:post_id>/close")
@roles_required(*ADMIN_ROLES)
def post_close(post_id):
    web.attempt(group_service.close_post, staff_actor(), post_id, success="岗位已停止招募。")
    return redirect(url_for("console.posts"))


@bp.post("/claims/<int:claim_id>/actions")
@roles_required(*ADMIN_ROLES)
def claim_action(claim_id):
    action = request.form.get("action", "")

    def act():
        if action not in ("approve", "reject", "leave"):
            raise Invalid("未知的操作。", errors={"action": ["无效"]})
        return group_service.decide_claim(staff_actor(), claim_id, action, reason=web.text("reason", multiline=True))

    web.attempt(act, success=f"已{CLAIM.action_label(action)}。")
    return redirect(url_for("console.posts", status=request.form.get("status") or "pending"))
