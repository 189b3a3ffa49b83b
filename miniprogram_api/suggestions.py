"""Suggestions to representatives (人民建议征集): submit, handle, refer, reply, close, rate, and the public board."""
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.core.exports import CSV_MIMETYPE, XLSX_MIMETYPE
from app.core.inputs import Text
from app.stats.exports import render
from app.suggestions import service as suggestions
from app.suggestions import states
from app.suggestions.exports import HEADER, suggestion_rows
from miniprogram_api.common import BEARER, LocalDateTime, PageArgs, View, current_actor, download, page_schema

blp = Blueprint("suggestions", __name__, description="群众建议（两代表一委员）")
PREFIX = "/suggestions"

ACTIONS = ("accept", "reject", "answer", "refer", "reply", "close")


class SuggestionArgs(Schema):
    representative_id = fields.Integer(load_default=None, metadata={"description": "向某位代表提建议"})
    area_id = fields.Integer(load_default=None, metadata={"description": "或：向该区域的代表联络站提建议"})
    title = Text(required=True, validate=validate.Length(min=1, max=100))
    body = Text(multiline=True, required=True, validate=validate.Length(min=1, max=2000))
    photo_ids = fields.List(fields.Integer(), load_default=list)
    allow_publication = fields.Boolean(load_default=False, metadata={"description": "办结后是否同意公开（隐去个人信息）"})


class SuggestionQuery(PageArgs):
    box = Text(load_default=None, validate=validate.OneOf(suggestions.BOXES), metadata={
        "description": "mine 我提的 / addressed 提给我或我所在联络站的 / department 交办给我部门的 / "
              "scope 我管辖区域内的；不填则为以上全部"})
    status = Text(load_default=None, validate=validate.OneOf(list(states.STATUS_LABELS)))


class SuggestionTransitionArgs(Schema):
    action = Text(required=True, validate=validate.OneOf(ACTIONS))
    note = Text(multiline=True, load_default="", validate=validate.Length(max=2000), metadata={
        "description": "reject 的理由、answer 的答复、reply 的部门回复、close 的办结说明"})
    department_id = fields.Integer(load_default=None, metadata={"description": "refer：交办的部门"})
    due_at = fields.AwareDateTime(load_default=None, metadata={"description": "refer：办理期限，默认 15 天"})
    photo_ids = fields.List(fields.Integer(), load_default=list)


class SuggestionRatingArgs(Schema):
    score = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    comment = Text(multiline=True, load_default="", validate=validate.Length(max=500))


class SuggestionRepresentativeSchema(Schema):
    id = fields.Integer()
    name = Text()
    kind = Text()
    kind_label = Text()


class SuggestionSchema(Schema):
    id = fields.Integer()
    title = Text()
    status = Text()
    status_label = fields.Function(lambda s: states.STATUS_LABELS[s.status])
    representative = fields.Nested(SuggestionRepresentativeSchema, allow_none=True)
    office_name = fields.Function(lambda s: s.office.name if s.office else None)
    area_id = fields.Integer()
    area_name = fields.Function(lambda s: s.area.name)
    department_id = fields.Integer(allow_none=True)
    department_name = fields.Function(lambda s: s.department.name if s.department else None)
    due_at = LocalDateTime(allow_none=True)
    overdue = fields.Function(lambda s: s.overdue_at is not None and s.status == states.REFERRED)
    created_at = LocalDateTime()
    closed_at = LocalDateTime(allow_none=True)
    rating = fields.Integer(allow_none=True)


class SuggestionTimelineEventSchema(Schema):
    id = fields.Integer()
    action = Text()
    action_label = fields.Function(lambda e: states.ACTION_LABELS.get(e.action, e.action))
    actor_role = Text()
    actor_role_label = fields.Function(lambda e: states.ROLE_LABELS.get(e.actor_role, e.actor_role))
    from_state = Text(allow_none=True)
    to_state = Text()
    note = Text()
    attachments = fields.List(fields.Dict())
    data = fields.Dict()
    created_at = LocalDateTime()


class SuggestionDetailSchema(SuggestionSchema):
    body = Text()
    photos = fields.List(fields.Dict())
    allow_publication = fields.Boolean()
    submitter_name = fields.Method("get_submitter_name", metadata={
        "description": "提建议人姓名：提建议人本人与办理的代表可见全名，其他人看到脱敏姓名"})
    reject_reason = Text()
    answer = Text()
    department_reply = Text()
    closing_note = Text()
    rating_comment = Text()
    timeline = fields.Method("get_timeline")
    allowed_actions = fields.Method("get_allowed_actions")
    can_rate = fields.Method("get_can_rate")

    def get_submitter_name(self, s):
        return suggestions.submitter_name(s, current_actor())

    def get_timeline(self, s):
        return SuggestionTimelineEventSchema(many=True).dump(suggestions.history(s))

    def get_allowed_actions(self, s):
        return suggestions.allowed_actions(s, current_actor())

    def get_can_rate(self, s):
        return s.status == states.CLOSED and s.rating is None and s.submitter_id == current_actor().user_id


class SuggestionBoardItemSchema(Schema):
    id = fields.Integer()
    title = Text()
    body = Text()
    answer = Text()
    department_reply = Text()
    closing_note = Text()
    representative = fields.Nested(SuggestionRepresentativeSchema, allow_none=True)
    office_name = Text(allow_none=True)
    department_name = Text(allow_none=True)
    area_name = Text()
    submitted_at = LocalDateTime()
    closed_at = LocalDateTime()
    rating = fields.Integer(allow_none=True)


SuggestionPage = page_schema(SuggestionSchema, "SuggestionPage")
SuggestionBoardPage = page_schema(SuggestionBoardItemSchema, "SuggestionBoardPage")


@blp.route("")
class Suggestions(View):
    @blp.arguments(SuggestionArgs)
    @blp.response(201, SuggestionDetailSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """提建议：选择一位代表（representative_id），或某区域的代表联络站（area_id）"""
        return suggestions.submit(current_actor(), **args)

    @blp.arguments(SuggestionQuery, location="query")
    @blp.response(200, SuggestionPage)
    @blp.doc(security=BEARER)
    def get(self, args):
        """建议列表：我提的、提给我（或我所在联络站）的、交办给我部门的、我管辖区域内的"""
        return suggestions.list_suggestions(current_actor(), **args)


class SuggestionExportQuery(SuggestionQuery):
    class Meta:
        exclude = ("limit", "cursor")


@blp.route("/export.<any(csv, xlsx):fmt>")
class SuggestionExport(View):
    @blp.arguments(SuggestionExportQuery, location="query")
    @blp.doc(security=BEARER, responses={"200": {"description": "CSV 或 XLSX 文件", "content": {
        CSV_MIMETYPE: {"schema": {"type": "string", "format": "binary"}},
        XLSX_MIMETYPE: {"schema": {"type": "string", "format": "binary"}}}}})
    def get(self, args, fmt):
        """按列表的筛选条件导出建议（不含提建议人的身份）"""
        rows = suggestion_rows(current_actor(), **args)
        data, mimetype = render(fmt, f"群众建议列表（{len(rows)} 条）", rows, header=HEADER, sheet="建议")
        return download(data, mimetype, f"群众建议列表.{fmt}")


@blp.route("/board")
class Board(View):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, SuggestionBoardPage)
    def get(self, args):
        """公开栏：同意公开的已办结建议（已隐去个人信息，无需登录）"""
        return suggestions.public_board(**args)


@blp.route("/<int:suggestion_id>")
class SuggestionDetail(View):
    @blp.response(200, SuggestionDetailSchema)
    @blp.doc(security=BEARER)
    def get(self, suggestion_id):
        """建议详情：含办理时间线与当前可执行的操作"""
        return suggestions.get_suggestion(current_actor(), suggestion_id)


@blp.route("/<int:suggestion_id>/transitions")
class SuggestionTransitions(View):
    @blp.arguments(SuggestionTransitionArgs)
    @blp.response(200, SuggestionDetailSchema)
    @blp.doc(security=BEARER)
    def post(self, args, suggestion_id):
        """办理建议：accept 受理、reject 不予受理、answer 直接答复、refer 交办部门、reply 部门回复、close 办结"""
        return suggestions.transition(current_actor(), suggestion_id, **args)


@blp.route("/<int:suggestion_id>/rating")
class SuggestionRating(View):
    @blp.arguments(SuggestionRatingArgs)
    @blp.response(200, SuggestionDetailSchema)
    @blp.doc(security=BEARER)
    def post(self, args, suggestion_id):
        """评价已办结的建议（仅提建议的居民，限一次）"""
        return suggestions.rate(current_actor(), suggestion_id, **args)
