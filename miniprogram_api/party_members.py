"""In-service party members: dual registration (双报到), review, service record, employer report, ranking."""

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.core.exports import FILE_SCHEMA
from app.core.inputs import Date, Text
from app.members import service as members
from app.members.models import STATUS_LABELS
from app.records import report
from app.records import service as records
from miniprogram_api.common import BEARER, LocalDateTime, PageArgs, View, current_actor, download, page_schema

blp = Blueprint("party_members", __name__, description="在职党员：双报到、纪实与双报告")
PREFIX = "/party-members"


class MemberRegisterArgs(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=32))
    org_name = Text(required=True, validate=validate.Length(min=1, max=100),
                    metadata={"description": "工作单位党组织"})
    community_id = fields.Integer(required=True, metadata={"description": "报到（居住）社区"})
    grid_id = fields.Integer(load_default=None, allow_none=True, metadata={"description": "居住网格（可选）"})
    skills = fields.List(Text(validate=validate.Length(min=1, max=16)), load_default=list,
                metadata={"description": "技能标签，如 维修、辅导、医疗"})
    availability = Text(load_default="", validate=validate.Length(max=200),
                        metadata={"description": "可服务时间，如 周末全天"})


class MemberRegistrationQuery(PageArgs):
    status = Text(load_default="pending", validate=validate.OneOf(list(STATUS_LABELS)))
    community_id = fields.Integer(load_default=None)


class MemberReviewArgs(Schema):
    action = Text(required=True, validate=validate.OneOf(["approve", "reject"]))
    reason = Text(multiline=True, load_default="", validate=validate.Length(max=500), metadata={"description": "驳回必填"})


class MemberPeriodArgs(Schema):
    date_from = Date(data_key="from", load_default=None, metadata={"description": "开始日期，默认当年 1 月 1 日"})
    date_to = Date(data_key="to", load_default=None, metadata={"description": "结束日期（含），默认今天"})


class MemberRankingArgs(MemberPeriodArgs):
    community_id = fields.Integer(required=True)
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class PartyMemberSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    name = Text()
    org_name = Text()
    community_id = fields.Integer()
    community_name = Text()
    grid_id = fields.Integer(allow_none=True)
    grid_name = Text(allow_none=True)
    skills = fields.List(Text())
    availability = Text()
    phone = Text(allow_none=True, metadata={"description": "脱敏手机号"})
    status = Text()
    status_label = Text()
    reject_reason = Text(allow_none=True)
    reviewed_at = LocalDateTime(allow_none=True)
    created_at = LocalDateTime()
    allowed_actions = fields.List(Text())


class MemberServiceSchema(Schema):
    entry_id = fields.Integer(metadata={"description": "服务记录（台账）id"})
    source_type = Text(metadata={"description": "wish / activity"})
    source_label = Text()
    wish_id = fields.Integer(allow_none=True)
    title = Text()
    served_on = Date()
    place = Text()
    organiser_name = Text(metadata={"description": "记录单位"})
    category = Text()
    category_label = Text()
    fulfilled_at = LocalDateTime(allow_none=True)
    confirmed_at = LocalDateTime(allow_none=True)
    hours = fields.Float(allow_none=True)
    rating = fields.Integer(allow_none=True)
    status = Text()
    status_label = Text()
    note = Text()


class YearTargetSchema(Schema):
    year = fields.Integer()
    target = fields.Integer(allow_none=True, metadata={"description": "社区设定的年度服务次数目标；未设定为 null"})
    done = fields.Integer(metadata={"description": "本年审核通过的服务次数"})
    met = fields.Boolean(allow_none=True)
    short_by = fields.Integer()
    label = Text(metadata={"description": "已达标 / 未达标（还差 N 次）/ 社区未设定年度目标"})


class MemberRecordSchema(Schema):
    member = fields.Nested(PartyMemberSchema)
    year_target = fields.Nested(YearTargetSchema, metadata={"description": "本年度服务目标完成情况"})
    wishes_fulfilled = fields.Integer(metadata={"description": "审核通过的心愿服务数"})
    activities_joined = fields.Integer(metadata={"description": "审核通过的志愿活动服务数"})
    hours = fields.Float(metadata={"description": "审核通过的服务时长（小时），心愿与活动合计"})
    pending_hours = fields.Float(metadata={"description": "待审核的服务时长"})
    rating_average = fields.Float(allow_none=True)
    rating_count = fields.Integer()
    praise_count = fields.Integer()
    points = fields.Dict(metadata={"description": "双积分：{earned 累计获得, balance 现有可用}"})
    open_claims = fields.Integer()
    recent_services = fields.List(fields.Nested(MemberServiceSchema))


class MemberRankingItemSchema(Schema):
    rank = fields.Integer()
    member_id = fields.Integer()
    name = Text(metadata={"description": "非管理员看到脱敏姓名（本人除外）"})
    org_name = Text()
    wishes_fulfilled = fields.Integer()
    activities_joined = fields.Integer()
    hours = fields.Float(metadata={"description": "审核通过的服务时长（小时）"})
    rating_average = fields.Float(allow_none=True)
    is_me = fields.Boolean()


class MemberRankingSchema(Schema):
    community_id = fields.Integer()
    community_name = Text()
    date_from = Date(data_key="from", attribute="from", allow_none=True)
    date_to = Date(data_key="to", attribute="to", allow_none=True)
    items = fields.List(fields.Nested(MemberRankingItemSchema))


MemberPage = page_schema(PartyMemberSchema, "PartyMemberPage")


@blp.route("")
class PartyMembers(View):
    @blp.arguments(MemberRegisterArgs)
    @blp.response(201, PartyMemberSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """在职党员到居住社区报到（双报到），等待社区审核"""
        return members.register(current_actor(), **args)

    @blp.arguments(MemberRegistrationQuery, location="query")
    @blp.response(200, MemberPage)
    @blp.doc(security=BEARER)
    def get(self, args):
        """管理员：管辖范围内的报到申请（默认待审核）"""
        return members.list_registrations(current_actor(), **args)


@blp.route("/<int:member_id>/transitions")
class PartyMemberTransitions(View):
    @blp.arguments(MemberReviewArgs)
    @blp.response(200, PartyMemberSchema)
    @blp.doc(security=BEARER)
    def post(self, args, member_id):
        """审核报到申请：approve 通过（授予在职党员身份）或 reject 驳回（须填写原因）"""
        return members.review(current_actor(), member_id, args["action"], args["reason"])


@blp.route("/<int:member_id>/record")
class PartyMemberRecord(View):
    @blp.response(200, MemberRecordSchema)
    @blp.doc(security=BEARER)
    def get(self, member_id):
        """党员服务纪实：完成心愿、服务时长、群众评分与获赞"""
        return records.service_record(current_actor(), member_id)


@blp.route("/<int:member_id>/report.csv")
class PartyMemberReportCsv(View):
    @blp.arguments(MemberPeriodArgs, location="query")
    @blp.response(200, FILE_SCHEMA, content_type="text/csv", description="CSV（UTF-8 带 BOM，Excel 可直接打开）")
    @blp.doc(security=BEARER)
    def get(self, args, member_id):
        """双报告：下载党员在某期间的服务纪实（CSV）"""
        data = records.employer_report(current_actor(), member_id, args["date_from"], args["date_to"])
        return download(report.to_csv(data), "text/csv; charset=utf-8", report.filename(data, "csv"))


@blp.route("/<int:member_id>/report.pdf")
class PartyMemberReportPdf(View):
    @blp.arguments(MemberPeriodArgs, location="query")
    @blp.response(200, FILE_SCHEMA, content_type="application/pdf", description="PDF 报告，可打印盖章")
    @blp.doc(security=BEARER)
    def get(self, args, member_id):
        """双报告：下载党员在某期间的服务纪实（PDF，供单位党组织存档）"""
        data = records.employer_report(current_actor(), member_id, args["date_from"], args["date_to"])
        return download(report.to_pdf(data), "application/pdf", report.filename(data, "pdf"))


@blp.route("/ranking")
class PartyMemberRanking(View):
    @blp.arguments(MemberRankingArgs, location="query")
    @blp.response(200, MemberRankingSchema)
    @blp.doc(security=BEARER)
    def get(self, args):
        """社区党员服务排行榜（按已确认服务时长，前 N 名）"""
        return records.ranking(current_actor(), args["community_id"], date_from=args["date_from"],
                               date_to=args["date_to"], limit=args["limit"])
