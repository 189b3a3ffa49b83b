"""Abuse limits with flask-limiter: Redis storage in production, memory by default.

Limits are attached to the API's own URL rules here, in one table, so that the list of
what is limited can be read in one place and no endpoint module has to remember it.

When the counters' store (Redis) cannot be reached, a limit fails open (the request goes on
unlimited, and a warning is logged) except on logins and the case-tracking form, which fail
closed: a password or a phone-number suffix may not be guessed without a limit, so those
answer a clean 503 in the error shape until Redis is back.
"""
from __future__ import annotations

import contextvars
import hashlib
import re

from flask import Flask, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from app.core.errors import ServiceUnavailable

MESSAGE = "操作过于频繁，请稍后再试。"
CLOSED_MESSAGE = "登录保护暂时不可用，请稍后再试。"

# The limits that fail closed when their store cannot be reached (rule patterns below).
FAIL_CLOSED = (r"^/mp/v1/auth/(login|password)$", r"^/console/login$", r"^/track$", r"^/proofs$")

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
    (r"^/proofs$", "POST", "10/minute;60/hour"),  # verification code + last 4 of the ID number: no guessing
    # Open311 clients (per API key) and the hotline's posts back: generous, but a runaway client is stopped
    (r"^/open311/v2/requests\.<[^>]+>$", "POST", "60/minute;5000/day"),
    (r"^/open311/v2/", "GET", "300/minute"),
    (r"^/hotline/v1/events$", "POST", "300/minute"),
]


def _proof_code() -> str:
    return "proof:" + (request.form.get("code") or "").strip().upper()[:16]


def _not_a_pdf(response) -> bool:
    return response.mimetype != "application/pdf"


# Budgets of wrong tries per secret being guessed, whatever the addresses guessing it (a limit per caller
# alone lets a botnet try every last-4 of an ID number): (URL rule pattern, method, limit, the subject
# counted, which answers count as a wrong try, the message). Only wrong tries are counted.
WRONG_TRIES: list[tuple[str, str, str, object, object, str]] = [
    (r"^/proofs$", "POST", "5/hour", _proof_code, _not_a_pdf, "该证明编号的核对错误次数过多，请一小时后再试。"),
]


def _caller_key() -> str:
    """Per login session when there is a bearer token, per API key on Open311, else per client address."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer ") and len(header) > 7:
        return "t:" + hashlib.sha256(header[7:].encode()).hexdigest()[:32]
    if request.path.startswith("/open311/") and request.values.get("api_key"):
        return "k:" + hashlib.sha256(request.values["api_key"].encode()).hexdigest()[:32]
    return "ip:" + (get_remote_address() or "unknown")


_failing_closed: contextvars.ContextVar[bool] = contextvars.ContextVar("gongzhi_limit_closed", default=False)


class _Limiter(Limiter):
    """flask-limiter, failing open or closed per limit when its storage is unreachable."""

    # The endpoints whose limits fail closed, found once from FAIL_CLOSED when the app is built.
    closed_endpoints: frozenset[str] = frozenset()

    @property
    def _swallow_errors(self) -> bool:  # read by flask-limiter where a storage error happens
        return self._swallow and not _failing_closed.get()

    @_swallow_errors.setter
    def _swallow_errors(self, value) -> None:
        self._swallow = value

    def _check_request_limit(self, callable_name=None, in_middleware=True) -> None:
        token = _failing_closed.set(request.endpoint in self.closed_endpoints)
        try:
            super()._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)
        except RateLimitExceeded:
            raise
        except Exception as exc:  # the storage failed on a limit that fails closed
            self.logger.warning("rate limit storage unreachable on %s: refused (fails closed)", request.path)
            raise ServiceUnavailable(CLOSED_MESSAGE) from exc
        finally:
            _failing_closed.reset(token)


def init_app(app: Flask) -> Limiter:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "gongzhi-limit")
    # A Redis outage must not take reports and reads down with it (logins: see FAIL_CLOSED).
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    # Give up on an unreachable Redis quickly instead of holding the request.
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 1, "socket_timeout": 2})
    # One limiter per app: flask-limiter keeps its settings on the object, not on the app.
    limiter = _Limiter(key_func=_caller_key, headers_enabled=True)
    limiter.init_app(app)
    app.extensions["gongzhi.limiter"] = limiter
    if not limiter.enabled:
        # RATELIMIT_ENABLED=false: flask-limiter then adds no hooks, and its route decorators would
        # still run their checks on every request for nothing (≈ 0.1 ms a scan; bench/RESULTS.md).
        return limiter
    limiter.closed_endpoints = frozenset(rule.endpoint for rule in app.url_map.iter_rules()
                                         if any(re.match(pattern, rule.rule) for pattern in FAIL_CLOSED))
    for rule in app.url_map.iter_rules():
        for pattern, method, limit in RULES:
            if method in (rule.methods or ()) and re.match(pattern, rule.rule):
                view = app.view_functions[rule.endpoint]
                app.view_functions[rule.endpoint] = limiter.limit(
                    limit, methods=[method], error_message=MESSAGE)(view)
        for pattern, method, limit, subject, wrong, message in WRONG_TRIES:
            if method in (rule.methods or ()) and re.match(pattern, rule.rule):
                view = app.view_functions[rule.endpoint]
                app.view_functions[rule.endpoint] = limiter.limit(
                    limit, methods=[method], key_func=subject, deduct_when=wrong, error_message=message,
                    scope=f"wrong-tries:{rule.endpoint}")(view)
    return limiter
