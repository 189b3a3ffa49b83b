"""Console sign-in: the cookie holds an opaque session id, never a token, a password or a user id alone."""
from __future__ import annotations

import functools

from flask import g, redirect, request, session, url_for

from app import edge
from app.accounts import service as accounts
from app.accounts.models import User
from app.core.scoping import Actor


def sign_in(user: User) -> None:
    sid = accounts.open_console_session(user)
    session.clear()
    session["sid"] = sid
    session.permanent = False
    g.gz_user = user


def sign_out() -> None:
    accounts.close_console_session(session.pop("sid", None))
    session.clear()


def staff_user() -> User | None:
    """The signed-in staff member, or None (a resident's account never opens the console)."""
    user = edge.current_user(required=False)
    return user if edge.is_staff(user) else None


def staff_actor() -> Actor:
    return accounts.actor_for(staff_user())


def staff_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if staff_user() is None:
            return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper
