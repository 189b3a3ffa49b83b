"""What every API module shares: the unit-of-work view, auth helpers and page schemas."""
from __future__ import annotations

import functools
import json
import time

from flask import Response, g, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy.exc import IntegrityError

from app.accounts import service as accounts
from app.accounts.models import STAFF_ROLES, User
from app.core import audit, exports, idempotency, uow
from app.core.errors import Conflict, Unauthorized
from app.core.inputs import Text
from app.core.scoping import Actor
from app.core.time import to_local

BEARER = [{"bearerAuth": []}]


# -- who is calling -------------------------------------------------------------------------

def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


def current_user(required: bool = True) -> User | None:
    if "gz_user" not in g:
        token = _bearer_token()
        g.gz_user = accounts.user_for_token(token) if token else None
    if required and g.gz_user is None:
        raise Unauthorized("请先登录。")
    return g.gz_user


def current_actor(required: bool = True) -> Actor:
    if "gz_actor" not in g:
        g.gz_actor = accounts.actor_for(current_user(required=required))
    if required and not g.gz_actor.is_authenticated:
        raise Unauthorized("请先登录。")
    return g.gz_actor


# -- the edge: commit once, honour Idempotency-Key ------------------------------------------

def unit_of_work(view):
    """Commit once after a successful view, then dispatch queued jobs; roll back otherwise."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        if key:
            owner = _idempotency_owner()
            replay = idempotency.find(owner, key)
            if replay is not None:
                return _replay(replay)
        try:
            response = view(*args, **kwargs)
            if isinstance(response, Response) and response.status_code < 400:
                _audit(response.status_code)
                if key:
                    idempotency.remember(owner, key, g.get("gz_user") and g.gz_user.id, request.method,
                                         request.path, response.status_code, response.get_data(as_text=True))
                uow.commit()
            else:
                uow.rollback()
            return response
        except IntegrityError as exc:
            uow.rollback()
            if key:
                replay = _wait_for_replay(owner, key)
                if replay is not None:
                    return _replay(replay)
            raise Conflict("数据冲突：该记录已存在或已被修改，请刷新后重试。") from exc
        except BaseException:
            uow.rollback()
            raise

    return wrapper


def _audit(status_code: int) -> None:
    user = g.get("gz_user")
    staff = user is not None and any(grant.role in STAFF_ROLES for grant in user.grants)
    if audit.should_audit(staff, request.method, request.path):
        audit.record(user.id, request.endpoint or "", status_code)


def _idempotency_owner() -> str:
    user = current_user(required=False)
    if user is not None:
        return f"u{user.id}"
    return f"ip{request.remote_addr}"


def _wait_for_replay(owner: str, key: str):
    for _ in range(20):
        replay = idempotency.find(owner, key)
        if replay is not None:
            return replay
        time.sleep(0.05)
        uow.rollback()
    return None


def _replay(record) -> Response:
    response = Response(record.body, status=record.status_code, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


class View(MethodView):
    decorators = [unit_of_work]


# -- schemas ----------------------------------------------------------------------------------

class LocalDateTime(fields.DateTime):
    """Serialised in Asia/Shanghai with its offset, e.g. 2026-11-21T23:50:00+08:00."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else to_local(value).isoformat()


class PageArgs(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100),
                           metadata={"description": "每页条数，最多 100"})
    cursor = Text(load_default=None, metadata={"description": "上一页返回的 next_cursor"})


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item_schema), required=True),
        "next_cursor": fields.String(allow_none=True, required=True),
    }, name=name)


class MessageSchema(Schema):
    message = fields.String(required=True)


def json_dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)


def download(data: bytes, mimetype: str, filename: str):
    """A file download, named safely (app.core.exports.attachment)."""
    return exports.attachment(data, mimetype, filename)
