"""Server-side SVG charts with pygal: no CDN, no script, Chinese labels rendered by the browser's fonts.

Each chart comes in two sizes, drawn at about the width it is shown at, so its text is never shrunk
below 12 px: `wide` (720 px, a desktop's content column) and `narrow` (340 px, a phone). Counts get
whole-number axes; states are named as everywhere else (app/cases/states.py).
"""
from __future__ import annotations

import math
import re
from datetime import date, timedelta

import pygal
from pygal.style import Style

from app.cases.states import STATE_LABELS

_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
FONT = '"PingFang SC","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif'
COLORS = ("#b71c1c", "#1f5fbf", "#1b7f3b", "#a15c00", "#6a1b9a", "#00838f")


def _style(text: int) -> Style:
    return Style(
        background="white", plot_background="white", foreground="#1f2328", foreground_strong="#1f2328",
        foreground_subtle="#5f6b76", colors=COLORS, font_family=FONT,
        title_font_size=text + 4, label_font_size=text, major_label_font_size=text, legend_font_size=text,
        value_font_size=text, value_label_font_size=text, tooltip_font_size=text, no_data_font_size=text + 4,
    )


SIZES = {
    "wide": dict(style=_style(13), width=720, height=340),
    "narrow": dict(style=_style(14), width=340, height=340),
}
MIN_TEXT_PX = 12  # what a reader sees at the width the page shows the chart at


def _options(size: str) -> dict:
    return dict(SIZES.get(size, SIZES["wide"]), js=[], disable_xml_declaration=True, show_legend=False,
                print_values=True, margin=12, explicit_size=True, no_data_text="暂无数据",
                truncate_label=-1, truncate_legend=-1)


def _render(chart) -> str:
    # pygal adds a config <script> even with js=[]; our pages run no inline script (CSP).
    return _SCRIPT.sub("", chart.render(is_unicode=True))


def _count_axis(chart, values) -> None:
    """Whole numbers on the value axis: 0, 1, 2… (or 0, 5, 10… for larger counts), never 0.2."""
    top = max([0, *values])
    step = max(1, math.ceil(top / 5))
    chart.y_labels = list(range(0, max(top, 1) + step, step))
    chart.value_formatter = lambda v: f"{v:.0f}"


def _narrow(size: str) -> bool:
    return size == "narrow"


def _labels_room(size: str, labels) -> dict:
    """Room on the left for category-like labels: pygal measures CJK as narrow Latin letters and clips them."""
    text = 14 if _narrow(size) else 13
    longest = max([len(str(x)) for x in labels] or [0])
    return dict(margin_left=12 + int(0.5 * text * longest))


def cases_by_status(figures: dict, size: str = "wide") -> str:
    items = sorted(figures["cases"]["by_status"].items(), key=lambda kv: -kv[1])
    names = [STATE_LABELS.get(status, status) for status, _ in items]
    chart = pygal.HorizontalBar(title="事件状态分布", **_options(size), **_labels_room(size, names))
    chart.x_labels = names
    chart.add("件数", [count for _, count in items])
    _count_axis(chart, [n for _, n in items])
    return _render(chart)


def _weeks(figures: dict) -> list[dict]:
    """Every week of the period, the quiet ones as 0, so a trend is a line and not one dot."""
    counts = {w["week"][:10]: w["count"] for w in figures["cases"]["weekly_trend"]}
    period = figures.get("period") or {}
    try:
        first, last = date.fromisoformat(period["from"]), date.fromisoformat(period["to"])
    except (KeyError, TypeError, ValueError):
        return figures["cases"]["weekly_trend"]
    if counts:
        first = min(first, date.fromisoformat(min(counts)))
    monday = first - timedelta(days=first.weekday())
    weeks = []
    while monday <= last and len(weeks) < 120:
        key = monday.isoformat()
        weeks.append({"week": key, "count": counts.get(key, 0)})
        monday += timedelta(days=7)
    return weeks


def weekly_trend(figures: dict, size: str = "wide") -> str:
    trend = _weeks(figures)
    chart = pygal.Line(title="每周上报数量", x_label_rotation=0, **_options(size))
    chart.x_labels = [w["week"][5:] for w in trend]
    every = max(1, math.ceil(len(trend) / (4 if _narrow(size) else 8)))
    chart.x_labels_major_every = every
    chart.show_minor_x_labels = False
    chart.print_values = False  # the axis says it; numbers on the dots collide with the week labels
    chart.add("上报", [w["count"] for w in trend])
    _count_axis(chart, [w["count"] for w in trend])
    return _render(chart)


def hours_by_month(figures: dict, size: str = "wide") -> str:
    chart = pygal.Bar(title="志愿服务时长（小时/月）", **_options(size))
    months = figures["volunteering"]["hours_by_month"]
    chart.x_labels = [m["month"][2:] if _narrow(size) else m["month"] for m in months]
    if _narrow(size) and len(months) > 4:
        chart.x_label_rotation = 45
    hours = [m["hours"] for m in months]
    chart.add("时长", hours)
    if max([0, *hours]) >= 2:
        _count_axis(chart, [math.ceil(h) for h in hours])
    chart.value_formatter = lambda v: f"{v:g}"
    return _render(chart)


def cases_by_category(figures: dict, size: str = "wide") -> str:
    items = figures["cases"]["by_category"]
    chart = pygal.HorizontalBar(title="事件类别", **_options(size), **_labels_room(size, [c["category"] for c in items]))
    chart.x_labels = [c["category"] for c in items]
    chart.add("件数", [c["count"] for c in items])
    _count_axis(chart, [c["count"] for c in items])
    return _render(chart)


CHARTS = {"status": cases_by_status, "trend": weekly_trend, "hours": hours_by_month, "category": cases_by_category}
# The figures each chart reads, so a chart request computes only those sections.
NEEDS = {"status": ("cases",), "trend": ("cases",), "hours": ("volunteering",), "category": ("cases",)}
