"""Statistics for an area in the caller's scope, and their CSV/XLSX exports (一张表 / 一表通)."""

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.areas.service import scoped_area
from app.core.inputs import Date, Text
from app.stats import exports
from app.stats import service as stats
from miniprogram_api.common import BEARER, LocalDateTime, PageArgs, View, current_actor, download, page_schema

blp = Blueprint("stats", __name__, description="统计与报表")
PREFIX = "/admin/stats"

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class StatsArgs(Schema):
    area_id = fields.Integer(load_default=None, metadata={"description": "统计区域，默认为您管辖的最大区域"})
    date_from = Date(load_default=None, data_key="from", metadata={"description": "开始日期（含）"})
    date_to = Date(load_default=None, data_key="to", metadata={"description": "结束日期（含）"})


class MonthArgs(Schema):
    area_id = fields.Integer(load_default=None)
    month = Text(required=True, validate=validate.Regexp(r"^\d{4}-\d{2}$"),
                 metadata={"description": "月份，如 2026-11"})


class StatsSchema(Schema):
    area = fields.Dict()
    period = fields.Dict()
    cases = fields.Dict(metadata={"description": (
        "事件：total 上报总数；by_status、by_category 按状态、类别的件数；by_grid 按网格（社区的统计）、"
        "by_community 按社区（街道、区县的统计）；weekly_trend 周趋势；overdue_rate 超期率、reopen_rate 重新办理率、"
        "satisfaction 满意度；flow 按上报日进、按办结日出的件数；hours_to_accept 受理用时、hours_to_close 办结用时"
        "（按上报日落在区间内的事件）：" + stats.DURATION_NOTE + "。")})
    wishes = fields.Dict(metadata={"description": (
        "微心愿：posted 发布、claimed 认领、fulfilled 完成的件数（各按其发生日）；top_members 党员排行；"
        "median_hours_to_claim、mean_hours_to_claim 为区间内认领的心愿从发布到认领的用时：" + stats.DURATION_NOTE + "。")})
    volunteering = fields.Dict()
    praise = fields.Dict()
    suggestions = fields.Dict()
    new_groups = fields.Dict(metadata={"description": "新就业群体：已报到人数（按从业类型）、在岗人数（按岗位）、流动上报、已审核服务"})


class MonthlyReportSchema(Schema):
    id = fields.Integer()
    area_id = fields.Integer()
    month = Text()
    created_at = LocalDateTime()


def _figures(args):
    actor = current_actor()
    area_id = args["area_id"] or stats.default_area_id(actor)
    return stats.dashboard(actor, area_id, args["date_from"], args["date_to"])




@blp.route("")
class Stats(View):
    @blp.arguments(StatsArgs, location="query")
    @blp.response(200, StatsSchema)
    @blp.doc(security=BEARER)
    def get(self, args):
        """区域统计：事件、微心愿、志愿服务、点赞、建议（仅限管辖范围）"""
        return _figures(args)


@blp.route("/export.csv")
class StatsCsv(View):
    @blp.arguments(StatsArgs, location="query")
    @blp.doc(security=BEARER, responses={"200": {"description": "CSV", "content": {"text/csv": {}}}})
    def get(self, args):
        """导出统计为 CSV（筛选条件与统计页一致）"""
        figures = _figures(args)
        title = f"{figures['area']['name']} {figures['period']['from']} 至 {figures['period']['to']} 统计"
        return download(exports.to_csv(title, exports.rows(figures)), "text/csv", f"{title}.csv")


@blp.route("/export.xlsx")
class StatsXlsx(View):
    @blp.arguments(StatsArgs, location="query")
    @blp.doc(security=BEARER, responses={"200": {"description": "XLSX", "content": {XLSX: {}}}})
    def get(self, args):
        """导出统计为 Excel（XLSX）"""
        figures = _figures(args)
        title = f"{figures['area']['name']} {figures['period']['from']} 至 {figures['period']['to']} 统计"
        return download(exports.to_xlsx(title, exports.rows(figures)), XLSX, f"{title}.xlsx")


@blp.route("/monthly.xlsx")
class MonthlyWorkbook(View):
    @blp.arguments(MonthArgs, location="query")
    @blp.doc(security=BEARER, responses={"200": {"description": "XLSX", "content": {XLSX: {}}}})
    def get(self, args):
        """生成某区域某月的“一表通”工作簿"""
        actor = current_actor()
        area = scoped_area(actor, args["area_id"] or stats.default_area_id(actor), stats.STATS_ROLES)
        data = stats.monthly_workbook(area, args["month"])
        return download(data, XLSX, f"{area.name}-{args['month']}-一表通.xlsx")


MonthlyReportPage = page_schema(MonthlyReportSchema, "MonthlyReportPage")


@blp.route("/monthly-reports")
class MonthlyReports(View):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, MonthlyReportPage)
    @blp.doc(security=BEARER)
    def get(self, args):
        """每月自动生成的“一表通”工作簿列表"""
        return stats.list_monthly_reports(current_actor(), **args)


@blp.route("/monthly-reports/<int:report_id>/file")
class MonthlyReportFile(View):
    @blp.doc(security=BEARER, responses={"200": {"description": "XLSX", "content": {XLSX: {}}}})
    def get(self, report_id):
        """下载一份自动生成的“一表通”工作簿"""
        data, filename = stats.monthly_report_file(current_actor(), report_id)
        return download(data, XLSX, filename)
