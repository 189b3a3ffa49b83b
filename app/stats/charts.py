"""Server-side SVG charts with pygal: no CDN, no script, Chinese labels rendered by the browser's fonts."""
from __future__ import annotations

import re

import pygal
from pygal.style import Style

from app.stats.exports import STATUS_LABELS

_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
STYLE = Style(
    background="white", plot_background="white", foreground="#1f2328", foreground_strong="#1f2328",
    foreground_subtle="#8a939c", colors=("#b71c1c", "#1f5fbf", "#1b7f3b", "#a15c00", "#6a1b9a", "#00838f"),
    font_family='"PingFang SC","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif',
    title_font_size=16, label_font_size=12, major_label_font_size=12, legend_font_size=12,
    value_font_size=12, tooltip_font_size=12,
)
OPTIONS = dict(style=STYLE, width=720, height=320, js=[], disable_xml_declaration=True,
               show_legend=False, print_values=True, margin=16, explicit_size=False)


def _render(chart) -> str:
    # pygal adds a config <script> even with js=[]; our pages run no inline script (CSP).
    return _SCRIPT.sub("", chart.render(is_unicode=True))


def cases_by_status(figures: dict) -> str:
    chart = pygal.HorizontalBar(title="事件状态分布", **OPTIONS)
    for status, count in sorted(figures["cases"]["by_status"].items(), key=lambda kv: -kv[1]):
        chart.add(STATUS_LABELS.get(status, status), [count])
    chart.show_legend = True
    chart.print_values = True
    return _render(chart)


def weekly_trend(figures: dict) -> str:
    chart = pygal.Line(title="每周上报数量", x_label_rotation=0, **OPTIONS)
    trend = figures["cases"]["weekly_trend"]
    chart.x_labels = [w["week"][5:] for w in trend]
    chart.add("上报", [w["count"] for w in trend])
    return _render(chart)


def hours_by_month(figures: dict) -> str:
    chart = pygal.Bar(title="志愿服务时长（小时/月）", **OPTIONS)
    months = figures["volunteering"]["hours_by_month"]
    chart.x_labels = [m["month"] for m in months]
    chart.add("时长", [m["hours"] for m in months])
    return _render(chart)


def cases_by_category(figures: dict) -> str:
    chart = pygal.Bar(title="事件类别", **OPTIONS)
    items = figures["cases"]["by_category"]
    chart.x_labels = [c["category"] for c in items]
    chart.add("件数", [c["count"] for c in items])
    return _render(chart)


CHARTS = {"status": cases_by_status, "trend": weekly_trend, "hours": hours_by_month, "category": cases_by_category}
# The figures each chart reads, so a chart request computes only those sections.
NEEDS = {"status": ("cases",), "trend": ("cases",), "hours": ("volunteering",), "category": ("cases",)}
