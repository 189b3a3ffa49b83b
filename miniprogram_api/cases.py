"""Cases (事件): 我要上报, the staff queues, transitions of the closed loop, rating and following."""
from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.cases import presenter
from app.cases import service as cases
from app.cases.exports import HEADER, case_rows
from app.cases.models import MODERATION_PASS, MODERATION_REVIEW, MODERATION_RISKY
from app.cases.states import ACTIONS, GROUPS, STATE_LABELS
from app.core.exports import CSV_MIMETYPE, XLSX_MIMETYPE
from app.core.inputs import Text
from app.stats.exports import render
from miniprogram_api.common import BEARER, LocalDateTime, PageArgs, View, current_actor, download, page_schema

blp = Blueprint("cases", __name__, description="事件上报与闭环处置")
PREFIX = "/cases"

ID_LIST = fields.List(fields.Integer(), load_default=list, validate=validate.Length(max=9),
                      metadata={"description": "POST /uploads 返回的图片 id，最多 9 张"})


LATITUDE = fields.Float(required=True, validate=validate.Range(min=-90, max=90),
                        metadata={"description": "纬度（GCJ-02，即 wx.getLocation type=gcj02 所得）"})
LONGITUDE = fields.Float(required=True, validate=validate.Range(min=-180, max=180),
                         metadata={"description": "经度（GCJ-02）"})


class CaseLocation(Schema):
    latitude = LATITUDE
    longitude = LONGITUDE
    accuracy = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0, max=100000),
                            metadata={"description": "定位精度（米），wx.getLocation 的 accuracy"})
    address = Text(load_default="", validate=validate.Length(max=200),
                   metadata={"description": "地址文字（wx.chooseLocation 的 address / name）"})


class CaseReportArgs(Schema):
    scene = Text(load_default=None, validate=validate.Length(max=32),
                 metadata={"description": "扫码得到的 scene（scene、place_id、location 三选一）"})
    place_id = fields.Integer(load_default=None, metadata={
        "description": "不扫码时选定的场所 id（scene、place_id、location 三选一；与 scene 同报时以 scene 为准）："
                       "如按位置上报答复中 nearby_places 的 id，或网页无码上报按社区和名称搜到的场所。事件归该场所"
                       "所在网格，与扫该场所的码上报相同。场所不存在时返回 404，已停用时返回 422"})
    location = fields.Nested(CaseLocation, load_default=None, allow_none=True, metadata={
        "description": "上报位置（GCJ-02）。没有 scene 和 place_id 时按位置分派到所在网格；与二者同报时一并记录"})
    category_id = fields.Integer(required=True)
    description = Text(multiline=True, required=True, validate=validate.Length(min=1, max=500))
    photo_ids = ID_LIST
    anonymous = fields.Boolean(load_default=False, metadata={"description": "匿名：工作人员看不到上报人"})


class CaseSimilarArgs(Schema):
    scene = Text(load_default=None, validate=validate.Length(max=32))
    place_id = fields.Integer(load_default=None)
    latitude = fields.Float(load_default=None, validate=validate.Range(min=-90, max=90),
                            metadata={"description": "没有 scene 时：当前位置纬度（GCJ-02），查 50 米内同类事件"})
    longitude = fields.Float(load_default=None, validate=validate.Range(min=-180, max=180),
                             metadata={"description": "当前位置经度（GCJ-02）"})
    category_id = fields.Integer(required=True)


class CaseQuery(PageArgs):
    mine = fields.Boolean(load_default=False, metadata={"description": "我上报的"})
    following = fields.Boolean(load_default=False, metadata={"description": "我关注的"})
    status = Text(load_default=None, validate=validate.OneOf([*STATE_LABELS, *GROUPS]),
                  metadata={"description": "状态，或分组 open / closed"})
    area_id = fields.Integer(load_default=None)
    assigned_to_me = fields.Boolean(load_default=False, metadata={"description": "派给我（或我所在部门）的"})
    overdue = fields.Boolean(load_default=None)
    escalated = fields.Boolean(load_default=None)
    category_id = fields.Integer(load_default=None)
    moderation = Text(load_default=None,
                      validate=validate.OneOf([MODERATION_PASS, MODERATION_REVIEW, MODERATION_RISKY]))
    q = Text(load_default=None, validate=validate.Length(max=32), metadata={"description": "受理编号"})


class CaseTransitionArgs(Schema):
    action = Text(required=True, validate=validate.OneOf(ACTIONS))
    note = Text(multiline=True, load_default="", validate=validate.Length(max=500))
    reason = Text(multiline=True, load_default="", validate=validate.Length(max=500),
                  metadata={"description": "reject、verify 不通过、reopen 时必填"})
    assignee_id = fields.Integer(load_default=None, metadata={"description": "dispatch：网格员"})
    department_id = fields.Integer(load_default=None, metadata={"description": "dispatch：职能部门"})
    photo_ids = ID_LIST
    passed = fields.Boolean(load_default=None, metadata={"description": "verify：核查是否通过"})
    public = fields.Boolean(load_default=None, metadata={
        "description": "本步的说明（note，或 reject、verify 不通过时的 reason）居民是否可见：true 为对居民公开，"
                       "上报人在事件详情和网页查询中看到；false 为仅内部可见，只有工作人员看到。不填按操作默认："
                       "accept、reject、handle、verify 公开，dispatch、escalate 仅内部可见。withdraw、reopen 是居民"
                       "本人写的，始终公开，此项不起作用。选择随该步记入审计"})


class CaseRatingArgs(Schema):
    score = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    comment = Text(multiline=True, load_default="", validate=validate.Length(max=200))


class CaseRef(Schema):
    id = fields.Integer()
    name = Text()


class CasePlaceRef(Schema):
    id = fields.Integer(allow_none=True, metadata={"description": "场所 id；按位置上报且未选场所时为空"})
    name = Text()
    address = Text()


class NearbyPlace(Schema):
    id = fields.Integer()
    name = Text()
    address = Text()
    distance_m = fields.Integer(metadata={"description": "与上报位置的距离（米）"})


class CasePhoto(Schema):
    id = fields.Integer()
    url = Text()
    thumb_url = Text()


class CaseFollowArgs(Schema):
    follow_token = Text(load_default=None, validate=validate.Length(max=200), metadata={
        "description": "查重结果（GET /cases/similar 或上报答复的 similar）中该事件的 follow_token；"
                       "居民关注须提供，24 小时内有效"})


class SimilarCase(Schema):
    id = fields.Integer()
    status = Text()
    status_label = Text()
    category = fields.Nested(CaseRef)
    reported_on = fields.Date(metadata={"description": "上报日期"})
    is_mine = fields.Boolean(metadata={"description": "是否为我上报的"})
    follow_token = Text(metadata={"description": "关注凭证：POST /cases/{id}/follow 时提交"})


class CaseItem(Schema):
    id = fields.Integer()
    tracking_no = Text(allow_none=True, metadata={"description": "受理编号；仅上报人和工作人员可见"})
    status = Text()
    status_label = Text()
    status_group = Text(metadata={"description": "open / closed"})
    category = fields.Nested(CaseRef)
    place = fields.Nested(CasePlaceRef)
    location = fields.Nested(CaseLocation, allow_none=True, metadata={
        "description": "上报位置（GCJ-02）；仅上报人和工作人员可见"})
    description = Text(multiline=True, allow_none=True, metadata={"description": "问题描述；仅上报人和工作人员可见"})
    photos = fields.List(fields.Nested(CasePhoto), metadata={"description": "照片；仅上报人和工作人员可见"})
    anonymous = fields.Boolean()
    created_at = LocalDateTime()
    due_at = LocalDateTime(allow_none=True, metadata={"description": "当前环节的办理时限"})
    overdue = fields.Boolean()
    escalated = fields.Boolean()
    accepted_at = LocalDateTime(allow_none=True)
    closed_at = LocalDateTime(allow_none=True)
    reopen_count = fields.Integer()
    rating = fields.Integer(allow_none=True)
    rating_comment = Text()
    department = fields.Nested(CaseRef, allow_none=True)
    allowed_actions = fields.List(Text(), metadata={"description": "当前用户现在可执行的操作"})
    moderation = Text(allow_none=True, metadata={"description": "仅工作人员可见：pass / review / risky"})
    review_notice = Text(allow_none=True, metadata={
        "description": "仅上报人和工作人员可见：内容审核中为“审核中”，审核隐藏后为隐藏原因；公开的上报为空"})
    assignee_id = fields.Integer(allow_none=True, metadata={"description": "仅工作人员可见"})


class CaseReporter(Schema):
    id = fields.Integer()
    display_name = Text()
    phone = Text(allow_none=True, metadata={"description": "脱敏手机号"})


class CaseTimelineItem(Schema):
    id = fields.Integer()
    action = Text()
    action_label = Text()
    from_state = Text(allow_none=True)
    to_state = Text()
    status_label = Text()
    actor_role = Text()
    actor_label = Text(metadata={"description": "居民看到的是角色（如“网格员”），不是姓名"})
    actor_name = Text(allow_none=True, metadata={"description": "仅工作人员可见"})
    note = Text(multiline=True, metadata={
        "description": "办理说明；工作人员看到全部，上报人只看到公开的（仅内部可见的为空），关注者看不到（为空）"})
    note_public = fields.Boolean(metadata={
        "description": "该说明是否对居民公开（办理时工作人员选择，见 POST /cases/{id}/transitions 的 public）；"
                       "居民本人的上报、撤回、申请重办和评价始终公开"})
    photos = fields.List(fields.Nested(CasePhoto), metadata={"description": "照片；关注者看不到（为空）"})
    data = fields.Dict()
    at = LocalDateTime()


class CaseDetail(CaseItem):
    timeline = fields.List(fields.Nested(CaseTimelineItem))
    reporter = fields.Nested(CaseReporter, allow_none=True, metadata={"description": "匿名上报时为空"})
    is_reporter = fields.Boolean()
    following = fields.Boolean()
    can_rate = fields.Boolean()


class CaseReportResult(CaseDetail):
    similar = fields.List(fields.Nested(SimilarCase), metadata={
        "description": "同一地点或 50 米内 72 小时内同类未办结的事件（只有类别、状态和日期），可改为关注"
                       "（POST /cases/{id}/follow，附 follow_token）"})
    nearby_places = fields.List(fields.Nested(NearbyPlace), metadata={
        "description": "按位置上报时，所在网格内离该位置最近的赋码场所（最多 3 个）"})


CasePage = page_schema(CaseItem, "CasePage")


@blp.route("")
class Cases(View):
    @blp.arguments(CaseReportArgs)
    @blp.response(201, CaseReportResult)
    @blp.doc(security=BEARER)
    def post(self, args):
        """我要上报：扫码、选场所或按位置（GCJ-02）提交问题，返回受理编号；附同一地点或附近的同类事件（similar）
        和按位置上报时最近的赋码场所（nearby_places）"""
        actor = current_actor()
        filed = cases.report_case(actor, **args)
        # Already what CaseReportResult documents (presenter.detail_json): sent as it is.
        body = {**presenter.detail_json(filed.case, actor, filed.timeline),
                "similar": [presenter.similar_json(c, actor) for c in filed.similar],
                "nearby_places": cases.places_near(filed.case)}
        return current_app.json.response(body), 201

    @blp.arguments(CaseQuery, location="query")
    @blp.response(200, CasePage)
    @blp.doc(security=BEARER)
    def get(self, args):
        """事件列表：居民看自己上报/关注的；工作人员看管辖范围内的（待办、派给我、超时、按编号查）"""
        actor = current_actor()
        page = cases.list_cases(actor, **args)
        # Already what CasePage documents: sent as it is, not dumped through the schema again.
        return current_app.json.response(
            {"items": [presenter.summary_json(c, actor) for c in page.items], "next_cursor": page.next_cursor})


class CaseExportQuery(CaseQuery):
    class Meta:
        exclude = ("limit", "cursor")


@blp.route("/export.<any(csv, xlsx):fmt>")
class CaseExport(View):
    @blp.arguments(CaseExportQuery, location="query")
    @blp.doc(security=BEARER, responses={"200": {"description": "CSV 或 XLSX 文件", "content": {
        CSV_MIMETYPE: {"schema": {"type": "string", "format": "binary"}},
        XLSX_MIMETYPE: {"schema": {"type": "string", "format": "binary"}}}}})
    def get(self, args, fmt):
        """按列表的筛选条件导出事件（CSV 或 Excel，最多 2 万行，不含上报人身份）"""
        rows = case_rows(current_actor(), **args)
        data, mimetype = render(fmt, f"事件列表（{len(rows)} 件）", rows, header=HEADER, sheet="事件")
        return download(data, mimetype, f"事件列表.{fmt}")


@blp.route("/similar")
class Similar(View):
    @blp.arguments(CaseSimilarArgs, location="query")
    @blp.response(200, SimilarCase(many=True))
    @blp.doc(security=BEARER)
    def get(self, args):
        """上报前查重：同一地点（或 50 米内）72 小时内同类未办结的事件（最多 5 条，只有类别、状态和日期）。居民提供
        扫码得到的 scene，或当前位置 latitude/longitude；place_id 仅供管辖该场所的工作人员使用"""
        actor = current_actor()
        return [presenter.similar(c, actor) for c in cases.find_similar(actor, **args)]


@blp.route("/<int:case_id>")
class CaseResource(View):
    @blp.response(200, CaseDetail)
    @blp.doc(security=BEARER)
    def get(self, case_id):
        """事件详情：含办理时间线与当前用户可执行的操作"""
        actor = current_actor()
        return presenter.detail(cases.get_case(actor, case_id), actor)


@blp.route("/<int:case_id>/transitions")
class Transitions(View):
    @blp.arguments(CaseTransitionArgs)
    @blp.response(200, CaseDetail)
    @blp.doc(security=BEARER)
    def post(self, args, case_id):
        """办理操作：accept、reject、dispatch、escalate、handle、verify、reopen、withdraw"""
        actor = current_actor()
        return presenter.detail(cases.transition(actor, case_id, **args), actor)


@blp.route("/<int:case_id>/rating")
class Rating(View):
    @blp.arguments(CaseRatingArgs)
    @blp.response(200, CaseDetail)
    @blp.doc(security=BEARER)
    def post(self, args, case_id):
        """回访评价：上报人在办结后评价一次，1–5 分"""
        actor = current_actor()
        return presenter.detail(cases.rate_case(actor, case_id, **args), actor)


@blp.route("/<int:case_id>/follow")
class Follow(View):
    @blp.arguments(CaseFollowArgs, required=False)
    @blp.response(200, CaseDetail)
    @blp.doc(security=BEARER)
    def post(self, args, case_id):
        """关注事件：不再重复上报，办理进展同样通知我。居民凭查重得到的 follow_token 关注；关注者只看到办理进展，
        看不到受理编号、描述、照片和办理说明"""
        actor = current_actor()
        return presenter.detail(cases.follow_case(actor, case_id, **args), actor)

    @blp.response(200, CaseItem)
    @blp.doc(security=BEARER)
    def delete(self, case_id):
        """取消关注"""
        actor = current_actor()
        return presenter.summary(cases.unfollow_case(actor, case_id), actor)
