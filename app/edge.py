"""The one request edge, shared by the mini-program API and the web portal and console.

Every view of both front doors runs inside `unit_of_work`, which does, in this order:

- **who is calling**: a bearer token on `/mp/`, the console's opaque session id on `/console`
  (`current_user`, `current_actor`); nothing else can authenticate a request;
- **Idempotency-Key** on POST: bound to the caller (or the client's fingerprint), the method,
  the path and a hash of the body; a replay of the same request returns the first answer, the
  same key on another request is a 422, and sign-in answers are never stored or replayed;
- **the unit of work**: one commit after a successful view, a rollback otherwise, then the
  queued jobs are handed over;
- **the audit record**: every staff write and every export, whichever door it came through,
  with the acts the services declared (`app.core.audit.act`);
- **errors**: domain errors propagate to the door's own renderer (the API's JSON shape, the
  portal's Chinese page), registered once in `app.core.errors` and `app.portal.web`.

This module sits above the domain packages (it reads accounts); nothing in `app/core` imports it.
"""
from __future__ import annotations

import functools
import hashlib
import ipaddress
import time

from flask import Flask, Response, g, request, session
from sqlalchemy.exc import IntegrityError
from werkzeug.middleware.proxy_fix import ProxyFix

from app.accounts import service as accounts
from app.accounts.models import STAFF_ROLES, User
from app.core import audit, idempotency, uow
from app.core.errors import Conflict, DomainError, Unauthorized
from app.core.scoping import Actor

# Sign-in answers carry a token: they are never stored and never replayed (a replay would hand one
# person's token to whoever sent the same key).
NEVER_REPLAYED = ("/mp/v1/auth/", "/console/login", "/console/logout")
CONSOLE_PREFIX = "/console"


# -- who is calling ---------------------------------------------------------------------------

def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


def _caller() -> User | None:
    if request.path.startswith(CONSOLE_PREFIX):
        sid = session.get("sid")
        if not sid:
            return None
        try:
            return accounts.user_for_console_session(sid)
        except Unauthorized:
            session.clear()
            return None
    token = bearer_token()
    return accounts.user_for_token(token) if token else None


def current_user(required: bool = True) -> User | None:
    if "gz_user" not in g:
        g.gz_user = _caller()
    if required and g.gz_user is None:
        raise Unauthorized("请先登录。")
    return g.gz_user


def current_actor(required: bool = True) -> Actor:
    if "gz_actor" not in g:
        g.gz_actor = accounts.actor_for(current_user(required=required))
    if required and not g.gz_actor.is_authenticated:
        raise Unauthorized("请先登录。")
    return g.gz_actor


def forget_caller() -> None:
    """`g` can outlive a request when an app context was already pushed (tests, CLI)."""
    for name in ("gz_user", "gz_actor", "gz_failed", "gz_keep"):
        g.pop(name, None)


def is_staff(user: User | None) -> bool:
    return user is not None and any(grant.role in STAFF_ROLES for grant in user.grants)


# -- what a view tells the edge ---------------------------------------------------------------

def mark_failed() -> None:
    """The view answered a failure as a page of its own (a form shown again with its error):
    nothing of this request is committed or audited, whatever status the page has."""
    g.gz_failed = True


def keep_changes() -> None:
    """Commit this request's changes although it answers a failure: the failure is itself the
    record (a failed sign-in counts towards its throttle). Nothing is audited."""
    g.gz_failed = True
    g.gz_keep = True


# -- the unit of work -------------------------------------------------------------------------

def unit_of_work(view):
    """Commit once after a successful view, audit it, honour Idempotency-Key; roll back otherwise."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        audit.declared_acts()  # none of an earlier unit of work in this session
        key = _idempotency_key()
        if key:
            owner, fingerprint = _idempotency_owner(), _request_fingerprint()
            replay = idempotency.find(owner, key, fingerprint)
            if replay is not None:
                return _replay(replay)
        try:
            response = view(*args, **kwargs)
        except DomainError as exc:
            _finish_failed(keep=exc.keeps_changes)
            raise
        except IntegrityError as exc:
            return _after_conflict(exc, key and (owner, key, fingerprint))
        except BaseException:
            uow.rollback()
            raise
        response_obj = response if isinstance(response, Response) else None
        status = response_obj.status_code if response_obj is not None else _status_of(response)
        if status >= 400 or g.get("gz_failed"):
            _finish_failed(keep=g.get("gz_keep", False))
            return response
        try:
            _audit(status)
            if key and response_obj is not None:
                # A concurrent request with the same key fails here, on the unique index.
                idempotency.remember(owner, key, fingerprint, g.get("gz_user") and g.gz_user.id, request.method,
                                     request.path, status, response_obj.get_data(as_text=True))
            uow.commit()
        except IntegrityError as exc:
            return _after_conflict(exc, key and (owner, key, fingerprint))
        return response

    return wrapper


def _after_conflict(exc: IntegrityError, keyed: tuple | None) -> Response:
    """A unique index refused the write: a concurrent twin of this keyed request won, so answer what
    it answered; without a key (or when the twin's answer never shows up) it is a plain conflict."""
    uow.rollback()
    if keyed:
        replay = _wait_for_replay(*keyed)
        if replay is not None:
            return _replay(replay)
    raise Conflict("数据冲突：该记录已存在或已被修改，请刷新后重试。") from exc


def _status_of(response) -> int:
    """A view may return a body, a (body, status) pair or a Response."""
    if isinstance(response, tuple) and len(response) > 1 and isinstance(response[1], int):
        return response[1]
    return 200


def _finish_failed(keep: bool) -> None:
    audit.declared_acts()  # a failed request did nothing worth its acts
    if keep:
        uow.commit()
    else:
        uow.rollback()


def _audit(status_code: int) -> None:
    user = g.get("gz_user")
    acts = audit.declared_acts()
    if acts or audit.should_audit(is_staff(user), request.method, request.path):
        audit.record(user.id if user is not None else None, request.endpoint or "", status_code, acts)


# -- Idempotency-Key --------------------------------------------------------------------------

def _idempotency_key() -> str | None:
    if request.method != "POST" or request.path.startswith(NEVER_REPLAYED):
        return None
    return request.headers.get("Idempotency-Key") or None


def _idempotency_owner() -> str:
    """The caller; without a login, the client's fingerprint (its address and user agent)."""
    user = current_user(required=False)
    if user is not None:
        return f"u{user.id}"
    client = f"{request.remote_addr}|{request.user_agent.string}"
    return "c" + hashlib.sha256(client.encode()).hexdigest()[:40]


def _request_fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _wait_for_replay(owner: str, key: str, fingerprint: str):
    for _ in range(20):
        replay = idempotency.find(owner, key, fingerprint)
        if replay is not None:
            return replay
        time.sleep(0.05)
        uow.rollback()
    return None


def _replay(record) -> Response:
    response = Response(record.body, status=record.status_code, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


# -- wiring -----------------------------------------------------------------------------------

def init_app(app: Flask) -> None:
    app.before_request(forget_caller)
    app.after_request(_private_answers)
    trusted = parse_networks(app.config.get("TRUSTED_PROXIES") or "")
    if trusted:
        app.wsgi_app = TrustedProxies(app.wsgi_app, trusted)


def _private_answers(response: Response) -> Response:
    """API answers and console pages are about people: no cache, shared or private, may keep them."""
    path = request.path
    if (path.startswith(("/mp/", CONSOLE_PREFIX)) and not path.startswith("/mp/v1/docs/static/")):
        response.headers["Cache-Control"] = "no-store"
    return response


def parse_networks(spec: str) -> tuple:
    """`TRUSTED_PROXIES`: addresses or networks, comma separated ("127.0.0.1, 10.0.0.0/8")."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


class TrustedProxies:
    """The client's address from `X-Forwarded-For` (and the scheme from `X-Forwarded-Proto`), believed
    only when the request comes from one of the configured proxies; anyone else's headers are ignored,
    so a client cannot choose its own address for rate limits, throttles and the audit log."""

    def __init__(self, wsgi_app, trusted: tuple):
        self.plain = wsgi_app
        self.fixed = ProxyFix(wsgi_app, x_for=1, x_proto=1)
        self.trusted = trusted

    def __call__(self, environ, start_response):
        try:
            peer = ipaddress.ip_address(environ.get("REMOTE_ADDR", ""))
        except ValueError:
            peer = None
        if peer is not None and any(peer in network for network in self.trusted):
            return self.fixed(environ, start_response)
        return self.plain(environ, start_response)


def wrap_views(app, blueprints: tuple[str, ...]) -> None:
    """Put every view of these (non-API) blueprints inside the edge: the console and the portal."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".", 1)[0] in blueprints and not rule.endpoint.endswith(".static"):
            view = app.view_functions[rule.endpoint]
            if not getattr(view, "_gz_edge", False):
                wrapped = unit_of_work(view)
                wrapped._gz_edge = True
                app.view_functions[rule.endpoint] = wrapped
