"""Gongzhi (共治): the app factory."""
from __future__ import annotations

import importlib
import logging
from pathlib import Path

from flask import Flask, send_from_directory
from werkzeug.routing import IntegerConverter

import miniprogram_api
from app import cli, edge, health
from app.config import load_config
from app.core import i18n, limits
from app.core.engine import configure_engine
from app.core.errors import register_error_handlers
from app.extensions import db, migrate
from app.hotline.views import bp as hotline
from app.media.push import bp as wechat_push
from app.open311.views import bp as open311
from app.portal import init_app


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(load_config(overrides))
    Path(app.config["INSTANCE_DIR"]).mkdir(parents=True, exist_ok=True)
    Path(app.config["MEDIA_DIR"]).mkdir(parents=True, exist_ok=True)
    app.json.ensure_ascii = False

    class DatabaseId(IntegerConverter):
        """Path ids beyond a database integer cannot exist: a 404, not a database error."""

        def __init__(self, url_map, **kwargs):
            kwargs.setdefault("max", 2**31 - 1)
            super().__init__(url_map, **kwargs)

    app.url_map.converters["int"] = DatabaseId
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("gongzhi").setLevel(logging.INFO)

    i18n.install()

    db.init_app(app)
    _import_models()
    with app.app_context():
        for engine in db.engines.values():  # the primary, and the read replica if there is one
            configure_engine(engine)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))

    miniprogram_api.init_app(app)

    register_error_handlers(app)

    edge.init_app(app)

    cli.register(app)
    health.register(app)
    _serve_media(app)
    _register_portal(app)

    app.register_blueprint(wechat_push)
    app.register_blueprint(open311)
    app.register_blueprint(hotline)

    limits.init_app(app)  # last: it attaches limits to the URL rules registered above
    return app


def _import_models() -> None:
    """Import every domain's models so metadata (and alembic) sees every table."""
    root = Path(__file__).resolve().parent
    for models in sorted(root.glob("*/models.py")):
        importlib.import_module(f"app.{models.parent.name}.models")
    importlib.import_module("app.core.timeline")
    importlib.import_module("app.core.idempotency")
    importlib.import_module("app.core.audit")


def _serve_media(app: Flask) -> None:
    """Uploaded images. In production nginx serves MEDIA_DIR directly under /media/."""
    @app.get("/media/<path:filename>")
    def media_file(filename):
        return send_from_directory(app.config["MEDIA_DIR"], filename, max_age=7 * 86400)


def _register_portal(app: Flask) -> None:
    init_app(app)
