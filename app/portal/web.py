"""What every portal view shares: one service call committed at the edge, form parsing and HTML error pages."""
from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, datetime

from flask import current_app, flash, g, render_template, request
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app import edge
from app.core import inputs, uow
from app.core.errors import HTTP_MESSAGES, DomainError, Invalid, StaleObject, is_chinese
from app.core.pagination import DEFAULT_LIMIT
from app.core.time import SHANGHAI
from app.extensions import db
from app.media.service import MAX_PHOTOS, save_upload

EXPIRED = "页面已过期（可能停留太久或浏览器清除了登录信息），您填写的内容已保留，请检查后再次提交。"
EXPIRED_PHOTOS = "已选的照片需要重新选择。"


def form_expired() -> None:
    """A resident's form arrived with a stale CSRF token: nothing of it is acted on, but the page comes
    back with everything typed kept (`attempt` refuses the call), instead of an error page that loses it."""
    g.form_expired = True


def attempt(call: Callable, *args, success: str | None = None, **kwargs) -> tuple[bool, object]:
    """Run one service call whose failure the page shows itself: on a domain error roll back, flash its
    Chinese message, keep what it says about each field for the form (`form_errors`) and tell the edge
    (app/edge.py), which then neither commits nor audits this request.
    On success the edge commits once, after the view, as it does for the API."""
    if g.get("form_expired"):
        edge.mark_failed()
        flash(EXPIRED + (EXPIRED_PHOTOS if any(f.filename for f in request.files.values()) else ""), "error")
        return False, None
    try:
        result = call(*args, **kwargs)
        db.session.flush()
    except (DomainError, StaleDataError) as exc:
        if isinstance(exc, DomainError) and exc.keeps_changes:
            edge.keep_changes()
        else:
            uow.rollback()
            edge.mark_failed()
        if isinstance(exc, DomainError) and exc.errors:
            g.form_errors = {**g.get("form_errors", {}), **{k: _messages(v) for k, v in exc.errors.items()}}
        flash(exc.message if isinstance(exc, DomainError) else StaleObject.message, "error")
        return False, None
    if success:
        flash(success, "success")
    return True, result


def _messages(value) -> list[str]:
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]


def form_errors() -> dict[str, list[str]]:
    """What the last refused form said about each of its fields, shown beside them."""
    return g.get("form_errors", {})


def check_all(**readers: Callable) -> dict:
    """Read every field of a form, each by its own reader, and refuse them together: the page then shows
    every problem beside its field at once (plus a summary), not only the first one found."""
    values, errors, first = {}, {}, None
    for name, read in readers.items():
        try:
            values[name] = read()
        except Invalid as exc:
            first = first or exc.message
            for field, problems in (exc.errors or {name: [exc.message]}).items():
                errors[field] = _messages(problems)
    if errors:
        summary = first if len(errors) == 1 else f"有 {len(errors)} 处需要修改，请看标红的提示。"
        raise Invalid(summary, errors=errors)
    return values


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


def required_text(name: str, message: str, limit: int = 500, *, multiline: bool = False) -> str:
    value = text(name, limit, multiline=multiline)
    if not value:
        raise Invalid(message, errors={name: [message]})
    return value


def required_choice(name: str, message: str) -> int:
    value = number(name)
    if value is None:
        raise Invalid(message, errors={name: [message]})
    return value


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


MB = 1024 * 1024


def photo_files(field: str = "photos") -> list:
    """The chosen photos, checked before any is stored: how many, and each one's size. Every problem is
    named by the photo's place and file name, beside the field, so the resident knows which one to change."""
    files = [f for f in request.files.getlist(field) if f and f.filename]
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    problems = []
    if len(files) > MAX_PHOTOS:
        problems.append(f"选了 {len(files)} 张，最多 {MAX_PHOTOS} 张")
    for i, file in enumerate(files, 1):
        file.stream.seek(0, os.SEEK_END)
        size = file.stream.tell()
        file.stream.seek(0)
        if size > limit:
            problems.append(f"第 {i} 张（{file.filename}）有 {size / MB:.1f} MB，超过 {limit // MB} MB")
    if problems:
        raise Invalid(f"照片未能上传：{'；'.join(problems)}。请减少或换用较小的照片后重新选择。",
                      errors={field: [*problems, "请重新选择照片（其他内容已保留）"]})
    return files


def save_photos(actor, field: str = "photos") -> list[int]:
    """Store each chosen file through the media service (decoded, re-encoded, EXIF stripped); a photo
    the service refuses is named in the message beside the field."""
    ids = []
    for i, file in enumerate(photo_files(field), 1):
        try:
            ids.append(save_upload(actor, file.read(), file.filename or "").id)
        except DomainError as exc:
            problem = f"第 {i} 张（{file.filename}）：{exc.message}"
            raise Invalid(f"照片未能上传：{problem}请换一张后重新选择。",
                          errors={field: [problem, "请重新选择照片（其他内容已保留）"]}) from exc
    return ids


def error_page(exc: Exception):
    """Domain and HTTP errors of portal pages as a Chinese HTML page (the API keeps its JSON)."""
    uow.rollback()
    if isinstance(exc, DomainError):
        status, message = exc.status_code, exc.message
    elif isinstance(exc, StaleDataError):
        status, message = 409, StaleObject.message
    elif isinstance(exc, HTTPException):
        status = exc.code or 500
        # A message of our own (a limit's, say) is already Chinese and more precise than the generic one.
        message = exc.description if is_chinese(exc.description) else HTTP_MESSAGES.get(status, "请求失败。")
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
