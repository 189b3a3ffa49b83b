"""The mini-program API (/mp/v1): flask-smorest blueprints, one module per resource."""
from __future__ import annotations

import importlib

from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Flask, send_from_directory
from flask.sessions import SecureCookieSessionInterface
from flask_smorest import Api
from swagger_ui_bundle import swagger_ui_path

MODULES = [
    "auth", "me", "admin_areas", "admin_geo",
    "scan", "uploads", "cases", "praise", "messages", "codes",
    "wishes", "party_members", "activities", "service_hours", "suggestions",
    "inbox", "stats", "representatives", "subscriptions", "certificates",
    "categories", "moderation", "privacy", "points", "new_groups", "hotline",
]


def _schema_namer():
    """Schema names in the OpenAPI document: the class name, prefixed by its module on a clash.

    Each API module keeps its schemas beside its routes, so two modules may both have a
    `TransitionArgs`; the second one becomes e.g. `WishesTransitionArgs` instead of a warning.
    """
    taken: dict[str, type] = {}

    def name_for(schema) -> str:
        cls = resolve_schema_cls(schema)
        cls = cls[0] if isinstance(cls, list) else cls
        name = cls.__name__.removesuffix("Schema") or cls.__name__
        owner = taken.setdefault(name, cls)
        if owner is cls:
            return name
        prefix = "".join(part.title() for part in cls.__module__.rsplit(".", 1)[-1].split("_"))
        prefixed = prefix + name
        taken.setdefault(prefixed, cls)
        return prefixed

    return name_for


class GongzhiApi(Api):
    def _register_error_handlers(self):
        """Errors are rendered by app.core.errors, in Chinese and in one shape."""


class PortalSessions(SecureCookieSessionInterface):
    """The API authenticates by bearer token: its requests never read or write the portal's cookie."""

    def open_session(self, app, request):
        if request.path.startswith("/mp/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


def init_app(app: Flask) -> Api:
    app.session_interface = PortalSessions()
    api = GongzhiApi(spec_kwargs={
        "marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=_schema_namer()),
        "info": {"description": "共治小程序接口。认证：`Authorization: Bearer <token>`。错误统一为 "
                                "`{code, status, message, errors}`，message 为中文。"},
    })
    api.init_app(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for name in MODULES:
        module = importlib.import_module(f"miniprogram_api.{name}")
        api.register_blueprint(module.blp, url_prefix=f"/mp/v1{getattr(module, 'PREFIX', '')}")
    app.extensions["gongzhi.api"] = api
    _serve_swagger_assets(app)
    return api


def _serve_swagger_assets(app: Flask) -> None:
    @app.get("/mp/v1/docs/static/<path:filename>")
    def swagger_ui_static(filename):
        return send_from_directory(swagger_ui_path, filename, max_age=86400)
