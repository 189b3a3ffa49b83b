"""The web portal: resident self-service pages (`/`) and the staff console (`/console`), server-rendered
with Jinja. It renders and calls the domain services; it holds no query of its own, and every request
passes the one edge (app/edge.py) as the API's do.

May import: any package of app/. Imported only by create_app().
"""
from __future__ import annotations

from flask import Flask, request

from app import edge
from app.core.errors import http_exception_response
from app.extensions import csrf
from app.portal import (
    console,
    console_cases,
    console_geo,
    console_groups,
    console_messages,
    console_moderation,
    console_people,
    console_points,
    console_privacy,
    console_setup,
    console_stats,
    console_suggestions,
    console_targets,
    filters,
    resident,
    resident_display,
    resident_forms,
    resident_messages,
    resident_points,
    web,
)
from app.portal.web import error_page

# The console's work queues and setup pages, and the residents' pages kept in their own modules: each
# registers its routes (and its menu entry) on `console.bp` or `resident.bp` as it loads, so loading them
# here, before the blueprints are mounted, is what mounts them.
PAGES = (console_cases, console_geo, console_messages, console_moderation, console_people, console_points, console_privacy,
         console_setup, console_stats, console_suggestions, console_targets, console_groups, resident_display,
         resident_forms, resident_messages, resident_points)

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def init_app(app: Flask) -> None:
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # the JSON API uses bearer tokens, not cookies
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    # Flask ships these keys with its own defaults, so setdefault would never apply ours.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if app.config.get("SESSION_COOKIE_NAME") in (None, "session"):
        app.config["SESSION_COOKIE_NAME"] = "gz_session"
    app.config["SESSION_COOKIE_SECURE"] = app.config.get("PORTAL_SECURE_COOKIES", app.config["PRODUCTION"])
    csrf.init_app(app)

    filters.register(app)
    app.jinja_env.globals["form_errors"] = web.form_errors  # macros are imported without the page's context
    app.jinja_env.globals["elder_mode"] = resident_display.elder_mode  # layout.html: <html class="elder">
    app.register_blueprint(resident.bp)
    app.register_blueprint(console.bp, url_prefix="/console")
    edge.wrap_views(app, ("portal", "console"))  # the same request edge as the API's views

    @app.errorhandler(404)
    def not_found(exc):
        # An unknown address opened in a browser gets the portal's Chinese page; API clients keep their JSON.
        if request.path.startswith("/mp/") or not request.accept_mimetypes.accept_html:
            return http_exception_response(exc)

        return error_page(exc)

    @app.after_request
    def security_headers(response):
        if request.blueprint in ("portal", "console") or request.path.startswith("/portal-static"):
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
