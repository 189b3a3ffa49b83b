"""Domain errors, each mapped to one HTTP status, and the single JSON error shape."""
from __future__ import annotations

from http import HTTPStatus

from flask import Flask, jsonify
from redis.exceptions import RedisError
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app.extensions import db

# Chinese messages for the HTTP errors raised by Flask/werkzeug themselves.
HTTP_MESSAGES = {
    400: "请求格式有误。",
    401: "请先登录。",
    403: "没有权限执行此操作。",
    404: "请求的资源不存在。",
    405: "不支持该请求方法。",
    409: "当前状态下不允许此操作。",
    413: "提交的内容过大（每张图片不能超过 10 MB，一次最多 9 张）。请返回上一页，减少或换用较小的照片后再提交。",
    415: "不支持的内容类型。",
    422: "提交的数据有误，请检查后重试。",
    429: "操作过于频繁，请稍后再试。",
    500: "服务器内部错误，请稍后再试。",
    503: "服务暂时不可用，请稍后再试。",
}


class DomainError(Exception):
    """Base of every error a service raises on purpose. Subclasses fix the status."""

    status_code = 400
    message = "请求有误。"
    # True for a failure that is itself the record (a failed sign-in): the edge commits it.
    keeps_changes = False

    def __init__(self, message: str | None = None, errors: dict | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.errors = errors or {}


class BadRequest(DomainError):
    status_code = 400


class Unauthorized(DomainError):
    status_code = 401
    message = "请先登录。"


class Forbidden(DomainError):
    status_code = 403
    message = "没有权限执行此操作。"


class OutOfScope(Forbidden):
    message = "该记录不在您的管辖范围内。"


class NotFound(DomainError):
    status_code = 404
    message = "请求的资源不存在。"


class Conflict(DomainError):
    status_code = 409
    message = "当前状态下不允许此操作。"


class InvalidTransition(Conflict):
    """An action the state machine does not allow now; names the ones it does allow."""

    def __init__(self, action: str, status: str, allowed: list[str], *, labels: dict[str, str] | None = None):
        labels = labels or {}
        allowed_text = "、".join(labels.get(a, a) for a in allowed) if allowed else "无"
        super().__init__(
            f"当前状态（{status}）下不能执行“{labels.get(action, '该操作')}”。现在可执行的操作：{allowed_text}。",
            errors={"action": action, "status": status, "allowed_actions": allowed},
        )


class StaleObject(Conflict):
    message = "该记录刚被其他人处理过，请刷新后重试。"


class Invalid(DomainError):
    status_code = 422
    message = "提交的数据有误，请检查后重试。"


class PayloadTooLarge(DomainError):
    status_code = 413
    message = "上传的内容过大。"


class TooManyRequests(DomainError):
    status_code = 429
    message = "操作过于频繁，请稍后再试。"


class ServiceUnavailable(DomainError):
    status_code = 503
    message = "服务暂时不可用，请稍后再试。"


def error_body(status_code: int, message: str, errors: dict | None = None) -> dict:
    return {
        "code": status_code,
        "status": HTTPStatus(status_code).phrase,
        "message": message,
        "errors": errors or {},
    }


def error_response(status_code: int, message: str, errors: dict | None = None):
    response = jsonify(error_body(status_code, message, errors))
    response.status_code = status_code
    return response


def http_exception_response(exc: HTTPException):
    """Any werkzeug/smorest HTTP error, in our shape and in Chinese."""
    code = exc.code or 500
    data = getattr(exc, "data", None) or {}
    errors = data.get("messages") or {}
    message = data.get("message") if isinstance(data.get("message"), str) and is_chinese(data.get("message")) else None
    if message is None and exc.description and is_chinese(exc.description):
        message = exc.description
    return error_response(code, message or HTTP_MESSAGES.get(code, "请求失败。"), errors)


def is_chinese(text: str | None) -> bool:
    return bool(text) and any("\u4e00" <= ch <= "\u9fff" for ch in text)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        db.session.rollback()
        return error_response(exc.status_code, exc.message, exc.errors)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        db.session.rollback()
        return http_exception_response(exc)

    @app.errorhandler(StaleDataError)
    def _stale(exc):
        db.session.rollback()
        return error_response(409, StaleObject.message)

    @app.errorhandler(DataError)
    def _bad_value(exc):
        # A value the database cannot store: a number beyond its range, a NUL byte in text...
        db.session.rollback()
        return error_response(422, "提交的数据超出允许范围或包含无效字符，请检查后重试。")

    @app.errorhandler(OperationalError)
    def _db_down(exc):
        app.logger.warning("database unavailable: %s", str(exc).splitlines()[0][:300])
        db.session.rollback()
        return error_response(503, "数据库暂时不可用，请稍后再试。")

    @app.errorhandler(RedisError)
    def _redis_down(exc):
        # Redis is a helper, never a gate: what needs it falls back on its own (token copy, outbox,
        # limits). Should anything still reach it, a resident gets a clean 503, not a 500.
        app.logger.warning("Redis unavailable during a request: %s", exc.__class__.__name__)
        db.session.rollback()
        return error_response(503, ServiceUnavailable.message)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the session may be unusable already
            pass
        return error_response(500, HTTP_MESSAGES[500])
