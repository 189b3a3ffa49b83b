"""Is this input acceptable: text without control characters, dates in a sane range; the API's fields for both."""
from __future__ import annotations

import re
from datetime import date, datetime

from marshmallow import ValidationError, fields

# C0 controls, DEL and C1 controls. A multi-line field may hold line feeds and tabs, nothing else.
_SINGLE_LINE_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MULTI_LINE_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
SINGLE_LINE_MESSAGE = "不能包含换行、制表符等控制字符。"
MULTI_LINE_MESSAGE = "不能包含控制字符（换行和制表符除外）。"

DATE_MIN = date(2000, 1, 1)
DATE_MAX = date(2100, 12, 31)
DATE_MESSAGE = f"日期应在 {DATE_MIN.isoformat()} 到 {DATE_MAX.isoformat()} 之间。"


def normalise_newlines(value: str) -> str:
    """Browsers send a textarea's line breaks as CR LF; the stored text uses LF only."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def without_controls(value: str, *, multiline: bool = False) -> str:
    """`value` with the characters `text_problem` refuses taken out (for stored text written before the rule)."""
    return (_MULTI_LINE_CONTROLS if multiline else _SINGLE_LINE_CONTROLS).sub("", value)


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` may not be stored as text (a Chinese message), or None when it may."""
    pattern = _MULTI_LINE_CONTROLS if multiline else _SINGLE_LINE_CONTROLS
    if pattern.search(value):
        return MULTI_LINE_MESSAGE if multiline else SINGLE_LINE_MESSAGE
    return None


def date_problem(value: date | datetime) -> str | None:
    """Why a date or a time is outside the range the system accepts, or None."""
    # The day as written, before any conversion: converting year 9999 to Beijing time would overflow.
    day = value.date() if isinstance(value, datetime) else value
    if not DATE_MIN <= day <= DATE_MAX:
        return DATE_MESSAGE
    return None


class Text(fields.String):
    """Every string the API reads: no control characters; `multiline=True` allows line feeds and tabs."""

    def __init__(self, *args, multiline: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.multiline = multiline

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if self.multiline:
            text = normalise_newlines(text)
        problem = text_problem(text, multiline=self.multiline)
        if problem:
            raise ValidationError(problem)
        return text


class Date(fields.Date):
    """A date between DATE_MIN and DATE_MAX."""

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        problem = date_problem(day)
        if problem:
            raise ValidationError(problem)
        return day


class DateTime(fields.DateTime):
    """A date and time whose day lies between DATE_MIN and DATE_MAX."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        problem = date_problem(moment)
        if problem:
            raise ValidationError(problem)
        return moment
