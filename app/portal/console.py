"""The staff console: sign-in, dashboard and work queues, all scoped through the same services as the API."""
from __future__ import annotations

import functools

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app import edge
from app.accounts import service as accounts
from app.accounts.models import (
    ADMIN_ROLES,
    COMMUNITY_ADMIN,
    DEPARTMENT,
    GRID_WORKER,
    REPRESENTATIVE,
    ROLE_LABELS,
    STREET_ADMIN,
    SYSTEM_ADMIN,
)
from app.cases import desk
from app.cases.service import is_staff
from app.core.errors import DomainError, Forbidden
from app.extensions import csrf
from app.portal import auth, web
from app.portal.auth import staff_actor, staff_required, staff_user
from app.stats.service import pending_counts

bp = Blueprint("console", __name__, template_folder="templates")
web.register_error_pages(bp)

CASE_ROLES = (SYSTEM_ADMIN, STREET_ADMIN, COMMUNITY_ADMIN, GRID_WORKER, DEPARTMENT)
SUGGESTION_ROLES = (*ADMIN_ROLES, REPRESENTATIVE, DEPARTMENT)
CODE_ROLES = (*ADMIN_ROLES, GRID_WORKER)
MODERATION_ROLES = ADMIN_ROLES


@bp.before_request
def _csrf():
    if request.method == "POST":
        csrf.protect()


@bp.context_processor
def _chrome():
    user = staff_user()
    roles = "、".join(sorted({ROLE_LABELS.get(g.role, g.role) for g in user.grants})) if user else ""
    held = {g.role for g in user.grants} if user else set()
    nav = [item for item in NAV if item["roles"] is None or held & set(item["roles"]) or SYSTEM_ADMIN in held]
    return {"staff": user, "staff_roles": roles, "console_nav": nav}


# Each page is listed only for the roles that can use it (system admins see everything).
NAV: list[dict] = [
    {"endpoint": "console.dashboard", "label": "概览", "roles": None},
    {"endpoint": "console.cases", "label": "事件", "roles": CASE_ROLES},
    {"endpoint": "console.wishes", "label": "微心愿", "roles": ADMIN_ROLES},
    {"endpoint": "console.members", "label": "党员报到", "roles": ADMIN_ROLES},
    {"endpoint": "console.activities", "label": "志愿服务", "roles": ADMIN_ROLES},
    {"endpoint": "console.suggestions", "label": "建议办理", "roles": SUGGESTION_ROLES},
    {"endpoint": "console.moderation_queue", "label": "内容审核", "roles": MODERATION_ROLES},
    {"endpoint": "console.points_applications", "label": "积分", "roles": (*ADMIN_ROLES, GRID_WORKER)},
    {"endpoint": "console.codes", "label": "二维码", "roles": CODE_ROLES},
    {"endpoint": "console.categories", "label": "类别时限", "roles": ADMIN_ROLES},
    {"endpoint": "console.users", "label": "人员角色", "roles": ADMIN_ROLES},
    {"endpoint": "console.privacy_requests", "label": "个人信息申请", "roles": ADMIN_ROLES},
]


def roles_required(*roles: str):
    """A console page for some roles only: anyone else gets a Chinese 403 page (and no link to it)."""
    def decorate(view):
        @functools.wraps(view)
        @staff_required
        def wrapper(*args, **kwargs):
            if not staff_actor().has_role(*roles):
                raise Forbidden("您的角色不能使用此页面。")
            return view(*args, **kwargs)

        return wrapper

    return decorate


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = request.args.get("next") or url_for("console.dashboard")
    if not next_url.startswith("/console"):
        next_url = url_for("console.dashboard")
    if request.method == "GET":
        return render_template("console/login.html", next=next_url, username="")
    username = request.form.get("username", "").strip()
    try:
        user = accounts.login_with_password(username, request.form.get("password", ""), request.remote_addr)
    except DomainError as exc:
        if exc.keeps_changes:
            edge.keep_changes()
        flash(exc.message, "error")
        return render_template("console/login.html", next=next_url, username=username), exc.status_code
    auth.sign_in(user)
    return redirect(next_url)


@bp.post("/logout")
def logout():
    auth.sign_out()
    flash("已退出登录。", "info")
    return redirect(url_for("console.login"))


@bp.get("/")
@staff_required
def dashboard():
    actor = staff_actor()
    figures = desk.case_figures(actor) if is_staff(actor) else None
    return render_template("console/dashboard.html", figures=figures,
                           due_soon=desk.due_soon(actor) if figures else [],
                           pending=pending_counts(actor),
                           handles_suggestions=actor.has_role(REPRESENTATIVE, DEPARTMENT))

