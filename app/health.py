"""GET /healthz: is the database reachable, and Redis when it is configured."""
from flask import Flask, jsonify
from sqlalchemy import text

from app.extensions import db


def register(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        checks: dict[str, str] = {}
        try:
            db.session.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - a health check reports, it does not raise
            db.session.rollback()
            checks["database"] = f"error: {exc.__class__.__name__}"
        if app.config.get("REDIS_URL"):
            from tasks import redis_connection

            try:
                redis_connection().ping()
                checks["redis"] = "ok"
            except Exception as exc:  # noqa: BLE001
                checks["redis"] = f"error: {exc.__class__.__name__}"
        else:
            checks["redis"] = "not configured (jobs run inline)"
        checks["wechat"] = "console mode" if app.config["WECHAT_CONSOLE_MODE"] else "configured"
        healthy = all(not v.startswith("error") for v in checks.values())
        body = {"status": "ok" if healthy else "degraded", "checks": checks}
        return jsonify(body), 200 if healthy else 503
