"""The resident portal's elder mode (长辈版): larger text and targets, higher contrast, a simpler layout.

One tap on the header's switch posts here; the choice is kept in a cookie and rendered by the server as
a class on <html> (`elder_mode`), so a page never flashes the standard look first. The console keeps its
own look whatever the cookie says.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, redirect, request
from werkzeug.exceptions import HTTPException

from app.portal.resident import bp

COOKIE = "gz_display"
ELDER = "elder"
KEEP_SECONDS = 400 * 24 * 3600  # the longest a browser keeps a cookie


def elder_mode() -> bool:
    """Whether this request's page is drawn in the elder mode: the resident's choice, never on the console."""
    in_console = request.blueprint == "console" or request.path.startswith("/console")
    return not in_console and request.cookies.get(COOKIE) == ELDER


def _back() -> str:
    """The page the switch was pressed on, if it is a page of this site that can be opened again, else the
    home page (never another site: `next` is only ever a path the app routes for GET)."""
    target = request.form.get("next") or ""
    path = urlsplit(target).path
    if not target.startswith("/") or target.startswith(("//", "/\\")) or any(c in target for c in "\r\n\\"):
        return "/"
    try:
        current_app.url_map.bind("").match(path, method="GET")
    except HTTPException:
        return "/"
    return target


@bp.post("/display")
def display_mode():
    """Switch between 标准版 and 长辈版: a plain form post that comes back to the same page (the script
    posts it in the background and switches the page's class itself, so what was typed stays)."""
    elder = request.form.get("mode") == ELDER
    if request.headers.get("X-Requested-With") == "fetch":
        response = current_app.response_class(status=204)
    else:
        response = redirect(_back(), code=303)
    if elder:
        response.set_cookie(COOKIE, ELDER, max_age=KEEP_SECONDS, samesite="Lax", httponly=True,
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    else:
        response.delete_cookie(COOKIE, samesite="Lax", httponly=True,
                               secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response
