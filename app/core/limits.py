"""Abuse limits with flask-limiter: Redis storage in production, memory by default.

Limits are attached to the API's own URL rules here, in one table, so that the list of
what is limited can be read in one place and no endpoint module has to remember it.
"""
from __future__ import annotations

import hashlib
import re

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

MESSAGE = "操作过于频繁，请稍后再试。"

# (URL rule pattern, method, limit). Patterns match werkzeug rule strings.
RULES: list[tuple[str, str, str]] = [
    (r"^/mp/v1/auth/(login|password|phone)$", "POST", "10/minute;100/hour"),
    (r"^/mp/v1/scan/<[^>]+>$", "GET", "120/minute"),
    (r"^/mp/v1/cases$", "POST", "10/minute;50/day"),
    (r"^/mp/v1/praises$", "POST", "20/minute;100/day"),
    (r"^/mp/v1/messages$", "POST", "10/minute;100/day"),
    (r"^/mp/v1/messages/<[^>]+>/replies$", "POST", "30/minute"),
    (r"^/mp/v1/uploads$", "POST", "30/minute;300/day"),
    (r"^/mp/v1/suggestions$", "POST", "5/minute;20/day"),
    (r"^/console/login$", "POST", "10/minute;100/hour"),
    (r"^/s/<[^>]+>/(report|praise|message)$", "POST", "10/minute;50/day"),
    (r"^/track$", "POST", "10/minute;60/hour"),  # tracking number + last 4 phone digits: no guessing
]


def _caller_key() -> str:
    """Per login session when there is a bearer token, else per client address."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer ") and len(header) > 7:
        return "t:" + hashlib.sha256(header[7:].encode()).hexdigest()[:32]
    return "ip:" + (get_remote_address() or "unknown")


def init_app(app: Flask) -> Limiter:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "gongzhi-limit")
    # A Redis hiccup must not take logins and reports down with it.
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    # One limiter per app: flask-limiter keeps its settings on the object, not on the app.
    limiter = Limiter(key_func=_caller_key, headers_enabled=True)
    limiter.init_app(app)
    app.extensions["gongzhi.limiter"] = limiter
    if not limiter.enabled:
        # RATELIMIT_ENABLED=false: flask-limiter then adds no hooks, and its route decorators would
        # still run their checks on every request for nothing (≈ 0.1 ms a scan; bench/RESULTS.md).
        return limiter
    for rule in app.url_map.iter_rules():
        for pattern, method, limit in RULES:
            if method in (rule.methods or ()) and re.match(pattern, rule.rule):
                view = app.view_functions[rule.endpoint]
                app.view_functions[rule.endpoint] = limiter.limit(
                    limit, methods=[method], error_message=MESSAGE)(view)
    return limiter
