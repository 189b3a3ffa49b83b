"""The staff console: sign-in, dashboard and work queues, all scoped through the same services as the API."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.accounts import service as accounts
from app.accounts.models import ROLE_LABELS
from app.core import uow
from app.core.errors import DomainError
from app.portal import auth
from app.portal.auth import staff_required, staff_user

bp = Blueprint("console", __name__, template_folder="templates")


@bp.before_request
def _csrf():
    from app.portal import csrf

    if request.method == "POST":
        csrf.protect()


@bp.context_processor
def _chrome():
    user = staff_user()
    roles = "、".join(sorted({ROLE_LABELS.get(g.role, g.role) for g in user.grants})) if user else ""
    return {"staff": user, "staff_roles": roles, "console_nav": NAV}


NAV: list[dict] = [{"endpoint": "console.dashboard", "label": "概览"}]


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = request.args.get("next") or url_for("console.dashboard")
    if not next_url.startswith("/console"):
        next_url = url_for("console.dashboard")
    if request.method == "GET":
        return render_template("console/login.html", next=next_url, username="")
    username = request.form.get("username", "").strip()
    try:
        user = accounts.login_with_password(username, request.form.get("password", ""))
        auth.sign_in(user)
        uow.commit()
    except DomainError as exc:
        uow.rollback()
        flash(exc.message, "error")
        return render_template("console/login.html", next=next_url, username=username), exc.status_code
    return redirect(next_url)


@bp.post("/logout")
def logout():
    auth.sign_out()
    uow.commit()
    flash("已退出登录。", "info")
    return redirect(url_for("console.login"))


@bp.get("/")
@staff_required
def dashboard():
    return render_template("console/dashboard.html")
