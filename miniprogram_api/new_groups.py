"""The new groups (新就业群体): couriers, riders and drivers register with a community, claim its service posts,
and, on a 民情收集员 or 流动网格员 post, report at any place of the communities they serve."""
from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.cases import presenter
from app.core.inputs import Text
from app.newgroups import reporting
from app.newgroups import service as groups
from app.newgroups.models import CLAIM_LABELS, KIND_LABELS, POST_KINDS, POST_LABELS, REGISTRATION_LABELS
from miniprogram_api.cases import ID_LIST, CaseReportResult
from miniprogram_api.common import BEARER, LocalDateTime, PageArgs, View, current_actor, page_schema

blp = Blueprint("new_groups", __name__, description="新就业群体：快递员、外卖骑手、网约车司机报到、认领岗位、流动上报")
PREFIX = "/new-groups"


def _choices(labels: dict) -> str:
    return "、".join(f"{k}={v}" for k, v in labels.items())


class WorkerArgs(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=32))
    kind = Text(required=True, validate=validate.OneOf(list(KIND_LABELS)), metadata={"description": _choices(KIND_LABELS)})
    platform = Text(required=True, validate=validate.Length(min=1, max=60), metadata={"description": "所在平台或企业"})
    work_area = Text(required=True, validate=validate.Length(min=1, max=100), metadata={"description": "日常工作区域"})
    community_id = fields.Integer(required=True, metadata={"description": "报到的社区（村）"})


class WorkerQuery(PageArgs):
    status = Text(load_default=None, validate=validate.OneOf(list(REGISTRATION_LABELS)))
    community_id = fields.Integer(load_default=None)
    mine = fields.Boolean(load_default=False, metadata={"description": "只看我的报到"})


class ReviewArgs(Schema):
    action = Text(required=True, validate=validate.OneOf(["approve", "reject"]))
    reason = Text(multiline=True, load_default="", validate=validate.Length(max=500), metadata={"description": "驳回时必填"})


class WorkerSchema(Schema):
    id = fields.Integer()
    name = Text()
    kind = Text()
    kind_label = Text()
    platform = Text()
    work_area = Text()
    community_id = fields.Integer()
    community_name = Text()
    status = Text()
    status_label = Text()
    reject_reason = Text(allow_none=True)
    created_at = LocalDateTime()
    allowed_actions = fields.List(Text())


class PostArgs(Schema):
    community_id = fields.Integer(required=True)
    kind = Text(required=True, validate=validate.OneOf(list(POST_KINDS)), metadata={"description": _choices(POST_KINDS)})
    title = Text(load_default="", validate=validate.Length(max=30), metadata={"description": "岗位名称，默认为类型名"})
    duties = Text(multiline=True, required=True, validate=validate.Length(min=1, max=1000), metadata={"description": "岗位职责"})
    places = fields.Integer(required=True, validate=validate.Range(min=1, max=200), metadata={"description": "名额"})


class PostQuery(PageArgs):
    community_id = fields.Integer(load_default=None)
    status = Text(load_default="open", validate=validate.OneOf(list(POST_LABELS)))


class ClaimArgs(Schema):
    note = Text(multiline=True, load_default="", validate=validate.Length(max=200), metadata={"description": "认领说明（选填）"})


class ClaimQuery(PageArgs):
    status = Text(load_default=None, validate=validate.OneOf(list(CLAIM_LABELS)))
    post_id = fields.Integer(load_default=None)
    mine = fields.Boolean(load_default=False)


class ClaimDecisionArgs(Schema):
    action = Text(required=True, validate=validate.OneOf(["approve", "reject", "withdraw", "leave"]))
    reason = Text(multiline=True, load_default="", validate=validate.Length(max=500),
                  metadata={"description": "reject、leave 必填"})


class ClaimSchema(Schema):
    id = fields.Integer()
    post_id = fields.Integer()
    post_title = Text()
    post_kind = Text()
    post_kind_label = Text()
    worker_id = fields.Integer()
    worker_name = Text(metadata={"description": "本人和社区管理员看到全名"})
    worker_kind_label = Text()
    platform = Text()
    status = Text()
    status_label = Text()
    reason = Text(allow_none=True)
    created_at = LocalDateTime()
    allowed_actions = fields.List(Text())


class PostSchema(Schema):
    id = fields.Integer()
    kind = Text()
    kind_label = Text()
    title = Text()
    duties = Text()
    places = fields.Integer()
    filled = fields.Integer(metadata={"description": "已批准上岗人数"})
    places_left = fields.Integer()
    community_id = fields.Integer()
    community_name = Text()
    status = Text()
    status_label = Text()
    created_at = LocalDateTime()
    my_claim = fields.Nested(ClaimSchema, allow_none=True)
    can_manage = fields.Boolean()


class DutyPlaceQuery(PageArgs):
    community_id = fields.Integer(load_default=None)


class DutyPlaceSchema(Schema):
    id = fields.Integer()
    name = Text()
    kind = Text()
    kind_label = Text()
    address = Text()
    grid_id = fields.Integer()
    grid_name = Text()


class DutyReportArgs(Schema):
    place_id = fields.Integer(load_default=None, metadata={"description": "所选地点（不扫码时必填）"})
    scene = Text(load_default=None, validate=validate.Length(max=32), metadata={"description": "扫码得到的 scene（可选）"})
    category_id = fields.Integer(required=True)
    description = Text(multiline=True, required=True, validate=validate.Length(min=1, max=500))
    photo_ids = ID_LIST


class OnDutySchema(Schema):
    post_id = fields.Integer()
    post_kind = Text()
    post_kind_label = Text()
    by_code = fields.Boolean(metadata={"description": "是否扫码上报；否则为选择地点的流动上报"})
    ledger_entry_id = fields.Integer(metadata={"description": "记入服务台账的记录（待社区审核）"})
    hours = fields.Float()


class DutyReportResult(CaseReportResult):
    on_duty = fields.Nested(OnDutySchema)


WorkerPage = page_schema(WorkerSchema, "GroupWorkerPage")
PostPage = page_schema(PostSchema, "ServicePostPage")
ClaimPage = page_schema(ClaimSchema, "PostClaimPage")
DutyPlacePage = page_schema(DutyPlaceSchema, "DutyPlacePage")


@blp.route("/workers")
class Workers(View):
    @blp.arguments(WorkerArgs)
    @blp.response(201, WorkerSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """向社区报到：从业类型、所在平台或企业、日常工作区域，社区审核通过后可认领岗位"""
        return groups.register(current_actor(), **args)

    @blp.arguments(WorkerQuery, location="query")
    @blp.response(200, WorkerPage)
    @blp.doc(security=BEARER)
    def get(self, args):
        """报到列表：管理员看管辖范围，其他人看自己的报到"""
        return groups.list_registrations(current_actor(), **args)


@blp.route("/workers/<int:worker_id>/transitions")
class WorkerReview(View):
    @blp.arguments(ReviewArgs)
    @blp.response(200, WorkerSchema)
    @blp.doc(security=BEARER)
    def post(self, args, worker_id):
        """社区审核报到：approve 通过、reject 驳回（须写原因）"""
        return groups.review_registration(current_actor(), worker_id, **args)


@blp.route("/posts")
class Posts(View):
    @blp.arguments(PostArgs)
    @blp.response(201, PostSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """社区发布服务岗位（政策宣传员、民情收集员、流动网格员、文明示范员、志愿服务员）"""
        return groups.create_post(current_actor(), **args)

    @blp.arguments(PostQuery, location="query")
    @blp.response(200, PostPage)
    @blp.doc(security=BEARER)
    def get(self, args):
        """社区岗位：已报到人员看所报到社区的岗位，管理员看管辖范围"""
        return groups.list_posts(current_actor(), **args)


@blp.route("/posts/<int:post_id>/close")
class PostClose(View):
    @blp.response(200, PostSchema)
    @blp.doc(security=BEARER)
    def post(self, post_id):
        """停止岗位招募"""
        return groups.close_post(current_actor(), post_id)


@blp.route("/posts/<int:post_id>/claims")
class PostClaims(View):
    @blp.arguments(ClaimArgs)
    @blp.response(201, ClaimSchema)
    @blp.doc(security=BEARER)
    def post(self, args, post_id):
        """认领岗位（须已向该社区报到），社区批准后上岗"""
        return groups.claim_post(current_actor(), post_id, **args)


@blp.route("/claims")
class Claims(View):
    @blp.arguments(ClaimQuery, location="query")
    @blp.response(200, ClaimPage)
    @blp.doc(security=BEARER)
    def get(self, args):
        """岗位认领列表：管理员看管辖范围，其他人看自己的认领"""
        return groups.list_claims(current_actor(), **args)


@blp.route("/claims/<int:claim_id>/transitions")
class ClaimDecision(View):
    @blp.arguments(ClaimDecisionArgs)
    @blp.response(200, ClaimSchema)
    @blp.doc(security=BEARER)
    def post(self, args, claim_id):
        """岗位认领：社区 approve 批准（不超过名额）或 reject；本人 withdraw 撤回；本人或社区 leave 离岗"""
        return groups.decide_claim(current_actor(), claim_id, **args)


@blp.route("/places")
class DutyPlaces(View):
    @blp.arguments(DutyPlaceQuery, location="query")
    @blp.response(200, DutyPlacePage)
    @blp.doc(security=BEARER)
    def get(self, args):
        """在岗民情收集员、流动网格员可上报的地点（所服务社区内的全部场所）"""
        return reporting.places_on_duty(current_actor(), **args)


@blp.route("/reports")
class DutyReports(View):
    @blp.arguments(DutyReportArgs)
    @blp.response(201, DutyReportResult)
    @blp.doc(security=BEARER)
    def post(self, args):
        """流动上报：在岗民情收集员、流动网格员在服务社区内任意地点上报（可不扫码），上报记为其岗位服务并记入服务台账"""
        actor = current_actor()
        filed, on_duty = reporting.report_on_duty(actor, **args)
        body = {**presenter.detail_json(filed.case, actor, filed.timeline),
                "similar": [presenter.similar_json(c, actor) for c in filed.similar], "on_duty": on_duty}
        return current_app.json.response(body), 201
