"""Console sign-in: a session cookie holding a revocable token, never the password or the user id alone."""
from __future__ import annotations

import functools

from flask import g, redirect, request, session, url_for

from app.accounts import service as accounts
from app.accounts.models import STAFF_ROLES, User
from app.core.errors import Unauthorized
from app.core.scoping import Actor


def sign_in(user: User) -> None:
    token, _ = accounts.issue_token(user, client="portal")
    session.clear()
    session["token"] = token
    session.permanent = False


def sign_out() -> None:
    token = session.pop("token", None)
    if token:
        try:
            accounts.revoke_token(token)
        except Unauthorized:
            pass
    session.clear()


def staff_user() -> User | None:
    if "gz_staff" not in g:
        token = session.get("token")
        user = None
        if token:
            try:
                user = accounts.user_for_token(token)
            except Unauthorized:
                session.clear()
        if user is not None and not any(grant.role in STAFF_ROLES for grant in user.grants):
            user = None
        g.gz_staff = user
    return g.gz_staff


def staff_actor() -> Actor:
    return accounts.actor_for(staff_user())


def staff_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if staff_user() is None:
            return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper
