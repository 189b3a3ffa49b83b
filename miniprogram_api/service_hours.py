"""The service-hours ledger: my hours and totals, admins' review (approve/reject), and the export."""

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.core.exports import CSV_MIMETYPE, FILE_SCHEMA, XLSX_MIMETYPE
from app.core.inputs import Date, Text
from app.core.time import to_local, utcnow
from app.core.workflow import timeline
from app.volunteering import corrections as ledger_corrections
from app.volunteering import exports, ledger
from app.volunteering.states import HOURS_LABELS
from miniprogram_api.common import BEARER, LocalDateTime, PageArgs, View, current_actor, download, page_schema

blp = Blueprint("service_hours", __name__, description="志愿服务时长：记录、审核、统计与导出")
PREFIX = "/service-hours"


class HoursQuery(PageArgs):
    mine = fields.Boolean(load_default=True, metadata={
        "description": "true：我的服务时长（含合计）；false：管理员待审核（管辖范围内）"})
    status = Text(load_default=None, validate=validate.OneOf(list(HOURS_LABELS)), metadata={
        "description": "pending / approved / rejected；管理员列表默认 pending"})
    community_id = fields.Integer(load_default=None)


class HoursTransitionArgs(Schema):
    action = Text(required=True, validate=validate.OneOf(("approve", "reject")))
    reason = Text(multiline=True, load_default="", validate=validate.Length(max=500), metadata={
        "description": "reject 时必填"})
    evaluation = Text(multiline=True, load_default="", validate=validate.Length(max=500), metadata={
        "description": "approve 时可填写服务评价"})


class HoursExportQuery(Schema):
    community_id = fields.Integer(load_default=None)
    date_from = Date(load_default=None, data_key="from")
    date_to = Date(load_default=None, data_key="to")


class HoursTotalsSchema(Schema):
    approved_hours = fields.Float()
    approved_count = fields.Integer()
    pending_hours = fields.Float()
    pending_count = fields.Integer()
    rejected_hours = fields.Float()
    rejected_count = fields.Integer()


class HoursSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    volunteer_name = fields.Function(lambda h: ledger.volunteer_name(current_actor(), h), metadata={
        "description": "志愿者姓名：本人与审核的组织方可见实名，其他人看到脱敏姓名"})
    source_type = Text(metadata={"description": "activity 志愿活动 / wish 微心愿 / report 新就业群体岗位上报"})
    source_id = fields.Integer()
    description = Text(metadata={"description": "服务内容"})
    place = Text(metadata={"description": "服务地点"})
    hours = fields.Float()
    served_on = Date()
    started_at = LocalDateTime(allow_none=True, metadata={"description": "服务开始时间"})
    ended_at = LocalDateTime(allow_none=True, metadata={"description": "服务结束时间"})
    organiser_area_id = fields.Integer(allow_none=True, metadata={"description": "记录单位（组织）的区域 id"})
    organiser_name = Text(metadata={"description": "记录单位"})
    recorded_by = fields.Integer(allow_none=True, metadata={"description": "记录人（工作人员）"})
    recorded_at = LocalDateTime(allow_none=True, metadata={"description": "记录时间"})
    status = Text(metadata={"description": "pending / approved / rejected"})
    status_label = fields.Function(lambda h: HOURS_LABELS[h.status])
    evaluation = Text()
    decision_note = Text()
    decided_at = LocalDateTime(allow_none=True)
    created_at = LocalDateTime()
    allowed_actions = fields.List(Text())


class HoursEventSchema(Schema):
    action = Text()
    actor_role = Text()
    from_state = Text(allow_none=True)
    to_state = Text()
    note = Text()
    data = fields.Dict()
    created_at = LocalDateTime()


class CorrectionSchema(Schema):
    id = fields.Integer()
    service_hours_id = fields.Integer()
    status = fields.String(metadata={"description": "requested 待答复 / corrected 已更正 / declined 不予更正"})
    status_label = fields.Function(lambda c: ledger_corrections.CORRECTION_LABELS[c.status])
    requested_by = fields.Integer(allow_none=True, metadata={"description": "申请更正的志愿者；组织方主动更正时为空"})
    request_reason = fields.String()
    old_values = fields.Dict(metadata={"description": "更正前：hours / description / place / served_on"})
    new_values = fields.Dict(metadata={"description": "更正后（已更正时）"})
    answer = fields.String(metadata={"description": "更正原因或不予更正的理由"})
    answered_at = LocalDateTime(allow_none=True)
    created_at = LocalDateTime()


class HoursDetailSchema(HoursSchema):
    timeline = fields.Function(lambda h: HoursEventSchema(many=True).dump(timeline("service_hours", h.id)))
    corrections = fields.Function(lambda h: CorrectionSchema(many=True).dump(ledger_corrections.corrections_of(h.id)),
                                  metadata={"description": "更正申请与更正记录，保留更正前后的值"})


class CorrectionRequestArgs(Schema):
    reason = Text(multiline=True, required=True, validate=validate.Length(min=1, max=500), metadata={
        "description": "需要更正的内容和原因"})


class CorrectionArgs(Schema):
    reason = Text(multiline=True, required=True, validate=validate.Length(min=1, max=500))
    request_id = fields.Integer(load_default=None, metadata={"description": "答复的更正申请 id（如有）"})
    hours = fields.Float(load_default=None, validate=validate.Range(min=0, max=1000, min_inclusive=False),
                         metadata={"description": "更正后的时长（小时，保留两位小数）"})
    description = Text(load_default=None, validate=validate.Length(min=1, max=200))
    place = Text(load_default=None, validate=validate.Length(max=200))
    served_on = Date(load_default=None)


class DeclineArgs(Schema):
    answer = Text(multiline=True, required=True, validate=validate.Length(min=1, max=500), metadata={
        "description": "不予更正的理由，志愿者可见"})


CorrectionPage = page_schema(CorrectionSchema, "CorrectionPage")


class HoursPageSchema(Schema):
    items = fields.List(fields.Nested(HoursSchema), required=True)
    next_cursor = Text(allow_none=True, required=True)
    totals = fields.Nested(HoursTotalsSchema, metadata={"description": "按状态合计（不受 status 筛选影响）"})


def _filename(ext: str) -> str:
    return f"志愿服务时长-{to_local(utcnow()).strftime('%Y%m%d')}.{ext}"


@blp.route("")
class HoursList(View):
    @blp.arguments(HoursQuery, location="query")
    @blp.response(200, HoursPageSchema)
    @blp.doc(security=BEARER)
    def get(self, args):
        """服务时长列表：我的（含合计），或管理员管辖范围内待审核的（mine=false）"""
        return ledger.list_hours(current_actor(), **args)


@blp.route("/<int:entry_id>")
class HoursDetail(View):
    @blp.response(200, HoursDetailSchema)
    @blp.doc(security=BEARER)
    def get(self, entry_id):
        """服务时长详情：含审核记录"""
        return ledger.get_entry(current_actor(), entry_id)


@blp.route("/<int:entry_id>/transitions")
class HoursTransitions(View):
    @blp.arguments(HoursTransitionArgs)
    @blp.response(200, HoursDetailSchema)
    @blp.doc(security=BEARER)
    def post(self, args, entry_id):
        """审核服务时长：approve 通过（可附评价）、reject 不通过（须填原因；已出具的证明随之撤销）"""
        return ledger.transition_hours(current_actor(), entry_id, **args)


@blp.route("/export.csv")
class ExportCsv(View):
    @blp.arguments(HoursExportQuery, location="query")
    @blp.response(200, FILE_SCHEMA, content_type="text/csv")
    @blp.doc(security=BEARER)
    def get(self, args):
        """导出已通过的服务时长（CSV，UTF-8 带 BOM），用于录入全国志愿服务信息系统"""
        data = exports.to_csv(exports.approved_rows(current_actor(), **args))
        return download(data, CSV_MIMETYPE, _filename("csv"))


@blp.route("/export.xlsx")
class ExportXlsx(View):
    @blp.arguments(HoursExportQuery, location="query")
    @blp.response(200, FILE_SCHEMA, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    @blp.doc(security=BEARER)
    def get(self, args):
        """导出已通过的服务时长（Excel），用于录入全国志愿服务信息系统"""
        data = exports.to_xlsx(exports.approved_rows(current_actor(), **args))
        return download(data, XLSX_MIMETYPE, _filename("xlsx"))



@blp.route("/correction-requests")
class CorrectionRequests(View):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, CorrectionPage)
    @blp.doc(security=BEARER)
    def get(self, args):
        """待答复的更正申请（社区管理员，管辖范围内）"""
        return ledger_corrections.open_correction_requests(current_actor(), **args)


@blp.route("/correction-requests/<int:request_id>/decline")
class CorrectionDecline(View):
    @blp.arguments(DeclineArgs)
    @blp.response(200, CorrectionSchema)
    @blp.doc(security=BEARER)
    def post(self, args, request_id):
        """不予更正（记录单位的管理员，须填理由，志愿者会收到通知）"""
        return ledger_corrections.decline_correction(current_actor(), request_id, **args)


@blp.route("/<int:entry_id>/correction-requests")
class EntryCorrectionRequests(View):
    @blp.arguments(CorrectionRequestArgs)
    @blp.response(201, CorrectionSchema)
    @blp.doc(security=BEARER)
    def post(self, args, entry_id):
        """申请更正我的一条服务记录（须说明原因），由记录单位在工作台答复"""
        return ledger_corrections.request_correction(current_actor(), entry_id, **args)


@blp.route("/<int:entry_id>/corrections")
class EntryCorrections(View):
    @blp.arguments(CorrectionArgs)
    @blp.response(200, CorrectionSchema)
    @blp.doc(security=BEARER)
    def post(self, args, entry_id):
        """更正一条已通过的服务记录（记录单位的管理员，须填原因）；更正前后的值都保留，已出具的证明随之撤销"""
        return ledger_corrections.correct_entry(current_actor(), entry_id, **args)
