"""Which WeChat template each kind of notification uses, and its values cut to WeChat's field rules.

A notification's `kind` picks a template by its domain prefix ("case.accepted" → case_progress).
Each template field lists where its value comes from, first found wins:

- keys of the notification's `data`: `tracking_no`, `subject`, `status` (a short Chinese phrase
  such as 已受理), `time` (a datetime or ISO string), `note`, `handler`, `place`, `start_time`;
- then `title` and `body` of the notification, and `@created_at`.

Template ids come from configuration: `WECHAT_TEMPLATES` (mini-program subscribe messages) and
`WECHAT_OA_TEMPLATES` (official-account template messages), each a JSON object
`{"template_key": "template id"}`. An unset subscribe id defaults to the key itself, which
only the fake server accepts; an unset official-account id turns that channel off for the key.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app

from app.core.time import local_display, to_local


@dataclass(frozen=True)
class Template:
    key: str
    title: str
    fields: dict[str, tuple[str, ...]]


TEMPLATES: dict[str, Template] = {t.key: t for t in (
    Template("case_progress", "事件处理进度通知", {
        "character_string1": ("tracking_no",), "thing2": ("subject", "title"), "phrase3": ("status",),
        "time4": ("time", "@created_at"), "thing5": ("note", "body")}),
    Template("wish_progress", "微心愿进度通知", {
        "thing1": ("subject", "title"), "phrase2": ("status",), "time3": ("time", "@created_at"),
        "thing4": ("note", "body")}),
    Template("suggestion_progress", "建议办理进度通知", {
        "thing1": ("subject", "title"), "phrase2": ("status",), "name3": ("handler",),
        "time4": ("time", "@created_at"), "thing5": ("note", "body")}),
    Template("activity_notice", "志愿活动提醒", {
        "thing1": ("subject", "title"), "time2": ("start_time", "time", "@created_at"), "thing3": ("place",),
        "thing4": ("note", "body")}),
    Template("review_result", "审核结果通知", {
        "thing1": ("subject", "title"), "phrase2": ("status",), "time3": ("time", "@created_at"),
        "thing4": ("note", "body")}),
    Template("message_reply", "留言回复通知", {
        "thing1": ("subject", "title"), "thing2": ("note", "body"), "name3": ("handler",),
        "time4": ("time", "@created_at")}),
    Template("service_notice", "服务进度提醒", {
        "thing1": ("subject", "title"), "phrase2": ("status",), "time3": ("time", "@created_at"),
        "thing4": ("note", "body")}),
)}

# Domain prefixes of `kind`, most specific first.
KIND_PREFIXES = (
    ("case", "case_progress"),
    ("wish", "wish_progress"),
    ("suggestion", "suggestion_progress"),
    ("activity", "activity_notice"),
    ("service_hour", "review_result"),
    ("party_member", "review_result"),
    ("member", "review_result"),
    ("group_worker", "review_result"),
    ("post_claim", "review_result"),
    ("message", "message_reply"),
    ("contact", "message_reply"),
)
DEFAULT_TEMPLATE = "service_notice"

FALLBACKS = {"thing": "详见小程序", "phrase": "有新进展", "name": "工作人员", "character_string": "-",
             "number": "0", "letter": "A", "symbol": "-", "phone_number": "-", "car_number": "-",
             "amount": "0元"}

_CJK = re.compile(r"[\u4e00-\u9fff]")
_WECHAT_TIME = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日( \d{1,2}:\d{2})?")


def template_for(kind: str) -> Template:
    for prefix, key in KIND_PREFIXES:
        if kind == prefix or kind.startswith((prefix + ".", prefix + "_", prefix + "s.", prefix + "s_")):
            return TEMPLATES[key]
    return TEMPLATES[DEFAULT_TEMPLATE]


def _configured(name: str) -> dict[str, str]:
    raw = current_app.config.get(name) or {}
    return _parse(name, raw) if isinstance(raw, str) else {str(k): str(v) for k, v in raw.items()}


@functools.lru_cache(maxsize=16)
def _parse(name: str, raw: str) -> dict[str, str]:
    try:
        return {str(k): str(v) for k, v in json.loads(raw).items()}
    except (ValueError, AttributeError) as exc:
        raise RuntimeError(f"{name} must be a JSON object of template_key → template id") from exc


def subscribe_template_id(key: str) -> str:
    return _configured("WECHAT_TEMPLATES").get(key, key)


def oa_template_id(key: str) -> str | None:
    return _configured("WECHAT_OA_TEMPLATES").get(key)


def render(template: Template, notification) -> dict[str, str]:
    """The template's `data` for one notification, every value within WeChat's rules."""
    data = notification.data or {}
    values = {}
    for field, sources in template.fields.items():
        kind = field.rstrip("0123456789")
        raw = _first(sources, data, notification)
        values[field] = fit(kind, raw) or fit(kind, notification.created_at if kind in ("time", "date") else
                                              FALLBACKS.get(kind, "-"))
    return values


def _first(sources, data: dict, notification):
    for source in sources:
        if source == "@created_at":
            value = notification.created_at
        elif source in data:
            value = data[source]
        elif source in ("title", "body"):
            value = getattr(notification, source)
        else:
            continue
        if value not in (None, ""):
            return value
    return None


def fit(kind: str, value) -> str:
    """Convert one value to what WeChat accepts for a field of this kind; "" when nothing fits."""
    if value is None:
        return ""
    if kind in ("time", "date"):
        return _time(value, with_clock=kind == "time")
    text = " ".join(str(value).split())
    if kind == "thing":
        return _cut(text, 20)
    if kind == "phrase":
        return "".join(_CJK.findall(text))[:5]
    if kind == "name":
        cjk = "".join(_CJK.findall(text))
        return cjk[:10] if cjk else "".join(c for c in text if c.isascii() and c.isalpha())[:20]
    if kind == "character_string":
        return "".join(c for c in text if c.isascii() and c.isprintable())[:32]
    if kind == "number":
        return "".join(c for c in text if c.isdigit() or c == ".")[:32]
    if kind == "letter":
        return "".join(c for c in text if c.isascii() and c.isalpha())[:32]
    if kind == "symbol":
        return "".join(c for c in text if c.isascii() and not c.isalnum() and not c.isspace())[:5]
    if kind == "phone_number":
        return "".join(c for c in text if c.isdigit() or c in "+-*")[:17]
    if kind == "car_number":
        return text.replace(" ", "")[:8]
    if kind == "amount":
        number = "".join(c for c in text if c.isdigit() or c == ".")[:10]
        return f"{number}元" if number else ""
    return _cut(text, 20)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _time(value, *, with_clock: bool) -> str:
    if isinstance(value, str):
        if _WECHAT_TIME.fullmatch(value.strip()):
            value = value.strip()
            return value if with_clock or " " not in value else value.split(" ")[0]
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return ""
    if not isinstance(value, datetime):
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return local_display(value) if with_clock else to_local(value).strftime("%Y年%m月%d日")
