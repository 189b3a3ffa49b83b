"""Statistics as rows, CSV and XLSX: the dashboard flattened, and the monthly 一表通 workbook."""
from __future__ import annotations

from datetime import date

from openpyxl.styles import Alignment, Font, PatternFill

from app.cases.states import STATE_LABELS
from app.core import exports
from app.core.errors import Invalid

STATUS_LABELS = STATE_LABELS  # one set of names for case states, as the rest of the UI says them (处理中)
HEADER = ("板块", "指标", "数值")
PERCENT_FORMAT = "0.0%"


class Percent(float):
    """A share (0.125): a number in a workbook (shown 12.5%), "12.5%" in a CSV."""

    def __str__(self) -> str:
        return f"{self * 100:.1f}%"


def _pct(value):
    return "" if value is None else Percent(value)


def _num(value):
    """Numbers stay numbers (a workbook can add them up); nothing is an empty cell."""
    return "" if value is None else value


def _text(value) -> str:
    return str(value)


def rows(figures: dict) -> list[tuple[str, str, str]]:
    """The standard indicators, in the order a county form lists them."""
    c, w, v, p, s, g = (figures[k] for k in ("cases", "wishes", "volunteering", "praise", "suggestions", "new_groups"))
    out: list[tuple[str, str, str]] = [
        ("事件", "上报总数", _num(c["total"])),
        *[("事件", f"状态：{STATUS_LABELS.get(k, k)}", _num(n)) for k, n in sorted(c["by_status"].items())],
        *[("事件", f"类别：{item['category']}", _num(item["count"])) for item in c["by_category"]],
        *[("事件", f"网格：{item['grid']}", _num(item["count"])) for item in c["by_grid"]],
        *[("事件", f"社区：{item['community']}", _num(item["count"])) for item in c.get("by_community", ())],
        *([("事件", "受理用时平均（小时）", _num(c["hours_to_accept"]["mean"])),
           ("事件", "办结用时平均（小时）", _num(c["hours_to_close"]["mean"])),
           ("事件", "办结数（按办结日）", _num(c["flow"]["out"])),
           ("事件", "按时办结数（按办结日）", _num(c["flow"]["out_on_time"]))] if c.get("from_rollups") else []),
        ("事件", "受理用时中位数（约，小时，分段上限）", _num(c["hours_to_accept"]["median"])),
        ("事件", "受理用时 90 分位（约，小时，分段上限）", _num(c["hours_to_accept"]["p90"])),
        ("事件", "办结用时中位数（约，小时，分段上限）", _num(c["hours_to_close"]["median"])),
        ("事件", "办结用时 90 分位（约，小时，分段上限）", _num(c["hours_to_close"]["p90"])),
        ("事件", "超期率", _pct(c["overdue_rate"])),
        ("事件", "重新办理率", _pct(c["reopen_rate"])),
        ("事件", "满意度（平均分）", _num(c["satisfaction"]["mean"])),
        ("事件", "满意率（4-5 分占比）", _pct(c["satisfaction"]["share_4_or_5"])),
        *[("事件", f"周趋势：{item['week']} 起", _num(item["count"])) for item in c["weekly_trend"]],
        ("微心愿", "发布", _num(w["posted"])),
        ("微心愿", "认领", _num(w["claimed"])),
        ("微心愿", "完成", _num(w["fulfilled"])),
        ("微心愿", "认领用时中位数（约，小时，分段上限）", _num(w["median_hours_to_claim"])),
        *([("微心愿", "认领用时平均（小时）", _num(w["mean_hours_to_claim"]))] if "mean_hours_to_claim" in w else []),
        *[("微心愿", f"党员：{m['name']}", f"完成 {m['fulfilled']} 件，{m['hours']:g} 小时") for m in w["top_members"]],
        ("志愿服务", "服务总时长（小时）", _num(v["total_hours"])),
        ("志愿服务", "活跃志愿者（人）", _num(v["active_volunteers"])),
        ("志愿服务", "开展活动（场）", _num(v["activities_held"])),
        *[("志愿服务", f"月度时长：{m['month']}", _num(m["hours"])) for m in v["hours_by_month"]],
        ("点赞", "点赞总数", _num(p["total"])),
        *[("点赞", f"获赞：{m['name'] or m['target_id']}", _num(m["count"])) for m in p["most_praised"]],
        ("建议", "收到建议", _num(s["total"])),
        *[("建议", f"代表：{r['name']}", f"收到 {r['received']}，答复 {r['answered']}，"
                                        f"响应中位数 {_num(r['median_response_hours'])} 小时，满意度 {_num(r['mean_rating'])}")
          for r in s["representatives"]],
        *[("建议", f"部门：{d['name']}", f"交办 {d['referred']}，回复 {d['replied']}，满意度 {_num(d['mean_rating'])}")
          for d in s["departments"]],
        ("新就业群体", "已报到（人）", _num(g["registered_total"])),
        *[("新就业群体", f"已报到：{k['label']}", _num(k["count"])) for k in g["by_kind"]],
        ("新就业群体", "本期新报到（人）", _num(g["registered_in_period"])),
        *[("新就业群体", f"在岗：{k['label']}", _num(k["count"])) for k in g["posts_held"]],
        ("新就业群体", "流动上报（件）", _num(g["reports_on_duty"])),
        ("新就业群体", "已审核服务（次）", _num(g["service_entries"])),
        ("新就业群体", "已审核服务时长（小时）", _num(g["service_hours"])),
    ]
    return out


def to_csv(title: str, table: list[tuple], header=HEADER) -> bytes:
    return exports.csv_bytes([[title], header, *[[_text(v) for v in values] for values in table]])


def to_xlsx(title: str, table: list[tuple], header=HEADER, sheet: str = "统计") -> bytes:
    book, ws = exports.workbook(sheet)
    exports.append(ws, [title])
    ws["A1"].font = Font(bold=True, size=14)
    exports.append(ws, header)
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="FDECEA")
    for values in table:
        exports.append(ws, [float(v) if isinstance(v, Percent) else v for v in values])
        for cell, value in zip(ws[ws.max_row], values, strict=False):
            if isinstance(value, Percent):
                cell.number_format = PERCENT_FORMAT
    widths = [max(len(str(r[i])) for r in [header, *table]) for i in range(len(header))]
    for i, width in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = min(60, max(10, width * 2))
    for cells in ws.iter_rows(min_row=3):
        for cell in cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    return exports.xlsx_bytes(book)


def month_bounds(month: str) -> tuple[date, date]:
    try:
        year, mon = (int(x) for x in month.split("-"))
        first = date(year, mon, 1)
    except ValueError as exc:
        raise Invalid("月份格式应为 YYYY-MM。", errors={"month": ["格式应为 YYYY-MM"]}) from exc
    nxt = date(year + (mon == 12), mon % 12 + 1, 1)
    return first, date.fromordinal(nxt.toordinal() - 1)


XLSX_MIMETYPE = exports.XLSX_MIMETYPE
def render(fmt: str, title: str, table: list[tuple], header=HEADER, sheet: str = "统计") -> tuple[bytes, str]:
    """(file bytes, mimetype) for `csv` or `xlsx`."""
    if fmt == "csv":
        return to_csv(title, table, header=header), exports.CSV_MIMETYPE
    return to_xlsx(title, table, header=header, sheet=sheet), XLSX_MIMETYPE
