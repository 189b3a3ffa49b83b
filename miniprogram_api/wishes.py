"""Micro-wishes (微心愿): post, the pool, transitions, rating and dispatch candidates."""
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.core.exports import CSV_MIMETYPE, XLSX_MIMETYPE
from app.core.inputs import Date, Text
from app.stats.exports import render
from app.wishes import service as wishes
from app.wishes.exports import HEADER, wish_rows
from app.wishes.models import CATEGORIES, STATUS_LABELS
from app.wishes.states import INTERNAL_ACTIONS, TRANSITIONS
from miniprogram_api.common import BEARER, LocalDateTime, PageArgs, View, current_actor, download, page_schema

blp = Blueprint("wishes", __name__, description="微心愿：群众点单、社区派单、党员接单")
PREFIX = "/wishes"

ACTIONS = sorted({action for _, action in TRANSITIONS} - INTERNAL_ACTIONS)


class WishArgs(Schema):
    title = Text(required=True, validate=validate.Length(min=1, max=30), metadata={"description": "最多 30 字"})
    detail = Text(multiline=True, load_default="", validate=validate.Length(max=2000))
    category = Text(required=True, validate=validate.OneOf(list(CATEGORIES)),
                    metadata={"description": "、".join(f"{k}={v[0]}" for k, v in CATEGORIES.items())})
    desired_date = Date(required=True, metadata={"description": "期望实现日期 YYYY-MM-DD"})
    community_id = fields.Integer(required=True, metadata={"description": "心愿所在社区"})
    grid_id = fields.Integer(load_default=None, allow_none=True, metadata={"description": "所在网格（可选，用于就近派单）"})
    address = Text(required=True, validate=validate.Length(min=1, max=200),
                   metadata={"description": "上门地址，仅认领党员和社区管理员可见"})
    contact_phone = Text(load_default=None, allow_none=True, validate=validate.Length(max=20),
                         metadata={"description": "联系电话；不填则用已绑定的手机号"})
    contact_name = Text(load_default="", validate=validate.Length(max=32))
    photo_ids = fields.List(fields.Integer(), load_default=list)
    quantity = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=999),
                              metadata={"description": "物品心愿（goods）所需件数，默认 1"})


class WishQuery(PageArgs):
    pool = fields.Boolean(load_default=False, metadata={"description": "心愿池（仅已报到党员）"})
    mine = fields.Boolean(load_default=False, metadata={"description": "我提交的心愿"})
    claimed_by_me = fields.Boolean(load_default=False, metadata={"description": "我认领的心愿"})
    offered_to_me = fields.Boolean(load_default=False, metadata={"description": "社区派给我、待我接单的心愿"})
    status = Text(load_default=None, validate=validate.OneOf(list(STATUS_LABELS)))
    community_id = fields.Integer(load_default=None)


class WishTransitionArgs(Schema):
    action = Text(required=True, validate=validate.OneOf(ACTIONS))
    note = Text(multiline=True, load_default="", validate=validate.Length(max=500))
    reason = Text(multiline=True, load_default="", validate=validate.Length(max=500),
                  metadata={"description": "reject、release、decline、take_back、reassign、dispute、redo、close 必填"})
    member_id = fields.Integer(load_default=None, metadata={"description": "dispatch、reassign：党员报到记录 id"})
    photo_ids = fields.List(fields.Integer(), load_default=list, metadata={"description": "fulfil：服务照片"})
    # Ranges are the service's to check, after it has checked who may take the step (permission before content).
    hours = fields.Float(load_default=None, metadata={"description": "fulfil：服务时长（小时），大于 0 且不超过 24"})
    rating = fields.Integer(load_default=None, metadata={"description": "confirm：评分 1-5（可选）"})
    comment = Text(multiline=True, load_default="", validate=validate.Length(max=200))
    public_title = Text(load_default=None, validate=validate.Length(min=1, max=30),
                        metadata={"description": "approve：修改后的公开标题（可选）"})
    public_detail = Text(multiline=True, load_default=None, validate=validate.Length(max=2000))


class WishPledgeArgs(Schema):
    quantity = fields.Integer(required=True, validate=validate.Range(min=1, max=999), metadata={"description": "认捐件数"})
    note = Text(load_default="", validate=validate.Length(max=200), metadata={"description": "留言（选填）"})
    donor_name = Text(load_default="", validate=validate.Length(max=32),
                      metadata={"description": "署名（选填，默认实名或“爱心人士”）"})


class WishHandoverArgs(Schema):
    note = Text(load_default="", validate=validate.Length(max=200), metadata={"description": "交接说明（选填）"})


class WishPublicTextArgs(Schema):
    public_title = Text(validate=validate.Length(min=1, max=30))
    public_detail = Text(multiline=True, validate=validate.Length(max=2000))


class WishRatingArgs(Schema):
    score = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    comment = Text(multiline=True, load_default="", validate=validate.Length(max=200))


class WishCandidateQuery(Schema):
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=50))


class WishPhotoSchema(Schema):
    id = fields.Integer()
    url = Text()
    thumb_url = Text()


class WishContactSchema(Schema):
    name = Text(allow_none=True)
    phone = Text(allow_none=True)
    address = Text(allow_none=True)


class WishClaimerSchema(Schema):
    user_id = fields.Integer()
    member_id = fields.Integer(allow_none=True)
    name = Text()
    org_name = Text(allow_none=True)
    phone = Text(allow_none=True, metadata={"description": "脱敏手机号"})


class WishPledgeSchema(Schema):
    id = fields.Integer()
    quantity = fields.Integer()
    status = Text(metadata={"description": "pledged 已认捐、handed_over 已交接、withdrawn 已撤回"})
    status_label = Text()
    mine = fields.Boolean()
    note = Text(allow_none=True)
    donor_name = Text(metadata={"description": "社区管理员和本人看到全名，其他人看到脱敏姓名"})
    created_at = LocalDateTime()
    handed_over_at = LocalDateTime(allow_none=True)


class WishEventSchema(Schema):
    action = Text()
    action_label = Text()
    actor_role = Text()
    actor_role_label = Text()
    from_state = Text(allow_none=True)
    to_state = Text()
    note = Text(allow_none=True)
    attachments = fields.List(fields.Nested(WishPhotoSchema))
    time = LocalDateTime()


class WishSchema(Schema):
    id = fields.Integer()
    title = Text(metadata={"description": "公开标题（管理员可能已修改）"})
    detail = Text()
    category = Text()
    category_label = Text()
    desired_date = Date()
    photos = fields.List(fields.Nested(WishPhotoSchema))
    status = Text()
    status_label = Text()
    community_id = fields.Integer()
    community_name = Text()
    grid_id = fields.Integer(allow_none=True)
    grid_name = Text(allow_none=True)
    requester_name = Text(metadata={"description": "非认领党员看到的是脱敏姓名"})
    claimed = fields.Boolean()
    claimed_by_me = fields.Boolean()
    offered_to_me = fields.Boolean(metadata={"description": "社区派单给我，待我接单或拒绝"})
    offer_expires_at = LocalDateTime(allow_none=True, metadata={"description": "派单接单期限"})
    quantity = fields.Integer(allow_none=True, metadata={"description": "物品心愿所需件数"})
    claimed_at = LocalDateTime(allow_none=True)
    fulfilled_at = LocalDateTime(allow_none=True)
    confirmed_at = LocalDateTime(allow_none=True)
    hours = fields.Float(allow_none=True)
    rating = fields.Integer(allow_none=True)
    auto_confirmed = fields.Boolean()
    created_at = LocalDateTime()
    allowed_actions = fields.List(Text())
    original_title = Text(allow_none=True, metadata={"description": "仅提交人和管理员可见"})
    original_detail = Text(allow_none=True)
    reject_reason = Text(allow_none=True)


class WishDetailSchema(WishSchema):
    contact = fields.Nested(WishContactSchema, allow_none=True,
                            metadata={"description": "居民地址和电话：仅认领党员、提交人和社区管理员可见"})
    claimer = fields.Nested(WishClaimerSchema, allow_none=True)
    fulfil_note = Text(allow_none=True)
    fulfil_photos = fields.List(fields.Nested(WishPhotoSchema))
    rating_comment = Text(allow_none=True)
    can_rate = fields.Boolean()
    timeline = fields.List(fields.Nested(WishEventSchema))
    dispute_reason = Text(allow_none=True, metadata={"description": "居民对完成情况的异议"})
    pledges = fields.List(fields.Nested(WishPledgeSchema))
    pledged = fields.Integer(allow_none=True, metadata={"description": "物品心愿已认捐件数（含已交接）"})


class WishCandidateSchema(Schema):
    rank = fields.Integer()
    member_id = fields.Integer()
    user_id = fields.Integer()
    name = Text()
    org_name = Text()
    grid_id = fields.Integer(allow_none=True)
    grid_name = Text(allow_none=True)
    skills = fields.List(Text())
    matched_skills = fields.List(Text())
    same_grid = fields.Boolean()
    open_claims = fields.Integer()
    recent_fulfilled = fields.Integer()
    availability = Text()
    score = fields.Float()
    reason = Text(metadata={"description": "排序理由"})


class WishCandidatesSchema(Schema):
    wish_id = fields.Integer()
    items = fields.List(fields.Nested(WishCandidateSchema))


WishPage = page_schema(WishSchema, "WishPage")


@blp.route("")
class Wishes(View):
    @blp.arguments(WishArgs)
    @blp.response(201, WishDetailSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """提交微心愿（群众点单），社区审核后进入心愿池"""
        return wishes.create_wish(current_actor(), **args)

    @blp.arguments(WishQuery, location="query")
    @blp.response(200, WishPage)
    @blp.doc(security=BEARER)
    def get(self, args):
        """心愿列表：pool 心愿池、mine 我提交的、claimed_by_me 我认领的；管理员默认看管辖范围"""
        return wishes.list_wishes(current_actor(), **args)


class WishExportQuery(WishQuery):
    class Meta:
        exclude = ("limit", "cursor")


@blp.route("/export.<any(csv, xlsx):fmt>")
class WishExport(View):
    @blp.arguments(WishExportQuery, location="query")
    @blp.doc(security=BEARER, responses={"200": {"description": "CSV 或 XLSX 文件", "content": {
        CSV_MIMETYPE: {"schema": {"type": "string", "format": "binary"}},
        XLSX_MIMETYPE: {"schema": {"type": "string", "format": "binary"}}}}})
    def get(self, args, fmt):
        """按列表的筛选条件导出心愿（只含公开标题，不含联系人、电话和住址）"""
        rows = wish_rows(current_actor(), **args)
        data, mimetype = render(fmt, f"微心愿列表（{len(rows)} 件）", rows, header=HEADER, sheet="微心愿")
        return download(data, mimetype, f"微心愿列表.{fmt}")


@blp.route("/<int:wish_id>")
class WishDetail(View):
    @blp.response(200, WishDetailSchema)
    @blp.doc(security=BEARER)
    def get(self, wish_id):
        """心愿详情与纪实时间线；居民地址电话仅对认领党员可见"""
        return wishes.get_wish(current_actor(), wish_id)

    @blp.arguments(WishPublicTextArgs)
    @blp.response(200, WishDetailSchema)
    @blp.doc(security=BEARER)
    def patch(self, args, wish_id):
        """管理员修改心愿的公开标题和内容（如去掉电话号码）"""
        return wishes.edit_public_text(current_actor(), wish_id, **args)


@blp.route("/<int:wish_id>/transitions")
class WishTransitions(View):
    @blp.arguments(WishTransitionArgs)
    @blp.response(200, WishDetailSchema)
    @blp.doc(security=BEARER)
    def post(self, args, wish_id):
        """推进心愿：审核、驳回、派单、接单、拒绝接单、认领、退回、收回、改派、完成、确认、异议、重办、办结、撤销"""
        return wishes.transition(current_actor(), wish_id, args.pop("action"), **args)


@blp.route("/<int:wish_id>/pledges")
class WishPledges(View):
    @blp.arguments(WishPledgeArgs)
    @blp.response(201, WishDetailSchema)
    @blp.doc(security=BEARER)
    def post(self, args, wish_id):
        """爱心认捐物品心愿（不超过尚缺的件数）"""
        return wishes.pledge(current_actor(), wish_id, **args)


@blp.route("/<int:wish_id>/pledges/<int:pledge_id>/handover")
class WishPledgeHandover(View):
    @blp.arguments(WishHandoverArgs)
    @blp.response(200, WishDetailSchema)
    @blp.doc(security=BEARER)
    def post(self, args, wish_id, pledge_id):
        """社区确认一笔认捐的物品已交接；全部交接后心愿转为待居民确认"""
        return wishes.confirm_handover(current_actor(), wish_id, pledge_id, **args)


@blp.route("/<int:wish_id>/rating")
class WishRating(View):
    @blp.arguments(WishRatingArgs)
    @blp.response(200, WishDetailSchema)
    @blp.doc(security=BEARER)
    def post(self, args, wish_id):
        """居民评价已确认的心愿（每个心愿一次）"""
        return wishes.rate(current_actor(), wish_id, **args)


@blp.route("/<int:wish_id>/candidates")
class WishCandidates(View):
    @blp.arguments(WishCandidateQuery, location="query")
    @blp.response(200, WishCandidatesSchema)
    @blp.doc(security=BEARER)
    def get(self, args, wish_id):
        """派单推荐：按技能、就近、在办数量和近期活跃度为本社区党员排序，并说明理由"""
        return wishes.candidates(current_actor(), wish_id, **args)
