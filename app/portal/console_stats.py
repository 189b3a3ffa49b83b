"""Console statistics: figures for an area in scope, SVG charts, and CSV/XLSX downloads."""
from __future__ import annotations

from flask import Response, render_template, request

from app.areas.models import COMMUNITY, DISTRICT, STREET, Area
from app.areas.service import areas_in_scope
from app.core import audit
from app.core.errors import Invalid
from app.core.exports import attachment
from app.portal import web
from app.portal.auth import staff_actor
from app.portal.console import NAV, bp, roles_required
from app.stats import charts, exports
from app.stats import service as stats

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NAV.append({"endpoint": "console.stats", "label": "统计报表", "roles": stats.STATS_ROLES})


def _figures(sections: tuple[str, ...] | None = None) -> dict:
    actor = staff_actor()
    area_id = request.args.get("area_id", type=int) or stats.default_area_id(actor)
    return stats.dashboard(actor, area_id, web.local_date("from", request.args), web.local_date("to", request.args),
                           sections)


def _areas_in_scope() -> list[Area]:
    actor = staff_actor()
    return areas_in_scope(actor, stats.STATS_ROLES, levels=(DISTRICT, STREET, COMMUNITY), limit=200)


@bp.get("/stats", endpoint="stats")
@roles_required(*stats.STATS_ROLES)
def stats_page():
    figures = _figures()
    return render_template("console/stats.html", figures=figures, areas=_areas_in_scope(),
                           status_labels=exports.STATUS_LABELS, query=request.args.to_dict())


@bp.get("/stats/chart/<name>.svg")
@roles_required(*stats.STATS_ROLES)
def stats_chart(name: str):
    render = charts.CHARTS.get(name)
    if render is None:
        raise Invalid("没有这个图表。")
    size = "narrow" if request.args.get("size") == "narrow" else "wide"
    response = Response(render(_figures(charts.NEEDS[name]), size), mimetype="image/svg+xml")
    # An SVG shown through <img> runs no script; its own inline styles must still apply.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


@bp.get("/stats/export.<fmt>")
@roles_required(*stats.STATS_ROLES)
def stats_export(fmt: str):
    figures = _figures()
    title = f"{figures['area']['name']} {figures['period']['from']} 至 {figures['period']['to']} 统计"
    if fmt == "csv":
        data, mimetype = exports.to_csv(title, exports.rows(figures)), "text/csv"
    elif fmt == "xlsx":
        data, mimetype = exports.to_xlsx(title, exports.rows(figures)), XLSX
    else:
        raise Invalid("只支持 CSV 或 XLSX。")
    audit.act("stats.export", format=fmt, area=figures["area"]["id"])
    return attachment(data, mimetype, f"{title}.{fmt}")

