"""What every portal view shares: one service call committed at the edge, form parsing and HTML error pages."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from flask import flash, render_template, request
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app import edge
from app.core import inputs, uow
from app.core.errors import HTTP_MESSAGES, DomainError, Invalid, StaleObject
from app.core.pagination import DEFAULT_LIMIT
from app.core.time import SHANGHAI
from app.extensions import db
from app.media.service import MAX_PHOTOS, save_upload


def attempt(call: Callable, *args, success: str | None = None, **kwargs) -> tuple[bool, object]:
    """Run one service call whose failure the page shows itself: on a domain error roll back, flash its
    Chinese message and tell the edge (app/edge.py), which then neither commits nor audits this request.
    On success the edge commits once, after the view, as it does for the API."""
    try:
        result = call(*args, **kwargs)
        db.session.flush()
    except (DomainError, StaleDataError) as exc:
        if isinstance(exc, DomainError) and exc.keeps_changes:
            edge.keep_changes()
        else:
            uow.rollback()
            edge.mark_failed()
        flash(exc.message if isinstance(exc, DomainError) else StaleObject.message, "error")
        return False, None
    if success:
        flash(success, "success")
    return True, result


# How a form field is named in a message; what the resident or the staff member saw beside the box.
FIELD_LABELS = {
    "description": "描述", "note": "说明", "reason": "原因", "body": "内容", "message": "留言", "comment": "评价",
    "evaluation": "评价", "public_title": "公开标题", "public_detail": "公开内容", "title": "标题", "name": "名称",
    "display_name": "姓名", "username": "用户名", "phone": "手机号", "place_text": "地点",
    "from": "开始日期", "to": "结束日期", "enroll_deadline": "报名截止时间", "starts_at": "开始时间",
    "ends_at": "结束时间",
}


def _label(name: str) -> str:
    return FIELD_LABELS.get(name, "所填内容")


def text(name: str, limit: int = 500, *, multiline: bool = False) -> str:
    """A text field; control characters are a Chinese 422 (a multi-line box may hold line breaks and tabs)."""
    value = (request.form.get(name) or "").strip()
    if multiline:
        value = inputs.normalise_newlines(value)
    problem = inputs.text_problem(value, multiline=multiline)
    if problem:
        raise Invalid(f"{_label(name)}{problem}", errors={name: [problem]})
    return value[:limit]


def number(name: str, source=None) -> int | None:
    """An integer form or query field; an empty field is None, garbage is a Chinese 422."""
    raw = ((source if source is not None else request.form).get(name) or "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise Invalid("请填写有效的数字。", errors={name: ["应为整数"]}) from exc


def query_int(name: str) -> int | None:
    try:
        return number(name, request.args)
    except Invalid:
        return None


def local_datetime(name: str) -> datetime | None:
    """A `datetime-local` field, read as Beijing time."""
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw).replace(tzinfo=SHANGHAI)
    except ValueError as exc:
        raise Invalid("请填写有效的日期和时间。", errors={name: ["格式不正确"]}) from exc
    _in_range(name, moment)
    return moment


def local_date(name: str, source=None) -> date | None:
    raw = ((source if source is not None else request.form).get(name) or "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError as exc:
        raise Invalid("请填写有效的日期。", errors={name: ["格式不正确"]}) from exc
    _in_range(name, day)
    return day


def _in_range(name: str, value: date | datetime) -> None:
    problem = inputs.date_problem(value)
    if problem:
        raise Invalid(f"{_label(name)}：{problem}", errors={name: [problem]})


def page_args() -> dict:
    """Keyset pagination from the query string: ?cursor= (every list in the portal is paginated)."""
    return {"limit": DEFAULT_LIMIT, "cursor": request.args.get("cursor") or None}


def save_photos(actor, field: str = "photos") -> list[int]:
    """Store each chosen file through the media service (decoded, re-encoded, EXIF stripped)."""
    files = [f for f in request.files.getlist(field) if f and f.filename]
    if len(files) > MAX_PHOTOS:
        raise Invalid(f"最多上传 {MAX_PHOTOS} 张照片。", errors={field: [f"最多 {MAX_PHOTOS} 张"]})
    return [save_upload(actor, f.read(), f.filename or "").id for f in files]


def error_page(exc: Exception):
    """Domain and HTTP errors of portal pages as a Chinese HTML page (the API keeps its JSON)."""
    uow.rollback()
    if isinstance(exc, DomainError):
        status, message = exc.status_code, exc.message
    elif isinstance(exc, StaleDataError):
        status, message = 409, StaleObject.message
    elif isinstance(exc, HTTPException):
        status = exc.code or 500
        message = HTTP_MESSAGES.get(status, "请求失败。")
        if status == 400 and "CSRF" in (exc.description or ""):
            message = "页面已过期，请刷新后重新提交。"
    else:
        raise exc
    in_console = request.blueprint == "console" or request.path.startswith("/console")
    base = "console/base.html" if in_console else "portal/base.html"
    return render_template("portal/error.html", base=base, status=status, message=message), status


def register_error_pages(bp) -> None:
    for kind in (DomainError, StaleDataError, HTTPException):
        bp.register_error_handler(kind, error_page)
