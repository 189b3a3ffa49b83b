"""The statistics charts and workbook as a reader sees them: text big enough, whole-number counts,
the state names the rest of the UI uses, and numbers a spreadsheet can add up."""
import io
import re

from openpyxl import load_workbook

from app.stats import charts, exports

FIGURES = {
    "area": {"id": 1, "name": "东城社区"},
    "period": {"from": "2026-09-01", "to": "2026-11-30"},
    "cases": {"by_status": {"dispatched": 1, "closed": 1, "submitted": 2},
              "weekly_trend": [{"week": "2026-11-02", "count": 1}],
              "by_category": [{"category": "环境卫生", "count": 1}]},
    "volunteering": {"hours_by_month": [{"month": "2026-10", "hours": 2.5}]},
}


def _axis_labels(svg: str) -> list[str]:
    return re.findall(r'<text[^>]*class="(?:major)?"[^>]*>([^<]*)</text>', svg)


def test_every_chart_text_is_at_least_12_px_at_the_width_it_is_drawn_for():
    for name, render in charts.CHARTS.items():
        for size in ("wide", "narrow"):
            svg = render(FIGURES, size)
            sizes = [float(s) for s in re.findall(r"font-size:\s*([\d.]+)px", svg)]
            assert sizes and min(sizes) >= charts.MIN_TEXT_PX, (name, size, sizes)
            assert 'width="' in svg.split(">", 1)[0], "an intrinsic size, so the page does not shrink it"


def test_count_charts_have_whole_number_axes():
    for name in ("status", "trend", "category"):
        labels = _axis_labels(charts.CHARTS[name](FIGURES))
        numbers = [x for x in labels if re.fullmatch(r"[\d.]+", x)]
        assert numbers, (name, labels)
        assert all(re.fullmatch(r"\d+", x) for x in numbers), (name, numbers)


def test_charts_name_states_as_the_rest_of_the_ui_and_a_trend_is_a_line():
    svg = charts.cases_by_status(FIGURES)
    assert "处理中" in svg and "处置中" not in svg
    trend = charts.weekly_trend(FIGURES)
    assert trend.count('class="dot') >= 12  # every week of the three months, the quiet ones at 0


def _workbook_values(table):
    sheet = load_workbook(io.BytesIO(exports.to_xlsx("东城社区 统计", table))).active
    return {(row[0], row[1]): row[2] for row in sheet.iter_rows(min_row=3, values_only=True)}, sheet


def test_workbook_numbers_are_numbers_and_shares_are_percent_cells():
    table = [("事件", "上报总数", exports._num(4)), ("志愿服务", "服务总时长（小时）", exports._num(2.5)),
             ("事件", "超期率", exports._pct(0.125)), ("事件", "满意度（平均分）", exports._num(None))]
    values, sheet = _workbook_values(table)
    assert values[("事件", "上报总数")] == 4
    assert values[("志愿服务", "服务总时长（小时）")] == 2.5
    assert values[("事件", "超期率")] == 0.125
    assert sheet["C5"].number_format == "0.0%"
    csv = exports.to_csv("东城社区 统计", table).decode("utf-8-sig")
    assert "超期率,12.5%" in csv and "上报总数,4" in csv
