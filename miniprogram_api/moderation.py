"""Content moderation: the reviewers' queue of held items, their decisions, and residents' abuse reports (举报)."""

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.content_safety.policy import RULES
from app.core.inputs import Text
from app.moderation import service as moderation
from app.moderation.models import HOLD_STATUS_LABELS
from miniprogram_api.common import BEARER, LocalDateTime, PageArgs, View, current_actor, page_schema

blp = Blueprint("moderation", __name__, description="内容审核：待审核内容、放行或隐藏、居民举报")
PREFIX = "/moderation"


class HoldQuery(PageArgs):
    status = Text(load_default="held", validate=validate.OneOf(list(HOLD_STATUS_LABELS)),
                  metadata={"description": "held（待审核，默认）/ released（已放行）/ hidden（已隐藏）"})
    kind = Text(load_default=None, validate=validate.OneOf(list(RULES)),
                metadata={"description": "内容类型：" + "、".join(f"{k} {r.label}" for k, r in RULES.items())})


class HoldSchema(Schema):
    id = fields.Integer()
    kind = Text(metadata={"description": "内容类型，如 case / praise / suggestion / wish"})
    kind_label = Text()
    subject_id = fields.Integer(metadata={"description": "该类型内容的 id（如案件 id）"})
    excerpt = Text(metadata={"description": "内容摘录（前 200 字）"})
    source = Text(metadata={"description": "wechat（微信内容安全检查）/ unchecked（未能检查）/ reports（居民举报）"})
    source_label = Text()
    suggest = Text(metadata={"description": "微信的建议：pass / review / risky；未检查时为空"})
    suggest_label = Text()
    label = fields.Integer(allow_none=True, metadata={"description": "微信返回的命中标签"})
    status = Text(metadata={"description": "held / released / hidden"})
    status_label = Text()
    reason = Text(metadata={"description": "审核理由（隐藏时会告知作者）"})
    reports = fields.Integer(metadata={"description": "居民举报次数"})
    created_at = LocalDateTime()
    decided_at = LocalDateTime(allow_none=True)


HoldPage = page_schema(HoldSchema, "HoldPage")


class DecisionArgs(Schema):
    action = Text(required=True, validate=validate.OneOf(list(moderation.ACTION_LABELS)),
                  metadata={"description": "release（放行：公开并进入正常流程）/ hide（隐藏：不公开）"})
    reason = Text(multiline=True, required=True, validate=validate.Length(min=1, max=200),
                  metadata={"description": "审核理由，必填；隐藏时会告知作者"})


class AbuseReportArgs(Schema):
    kind = Text(required=True, validate=validate.OneOf(list(moderation.REPORTABLE)),
                metadata={"description": "praise（点赞留言）/ suggestion（公开的建议）/ wish（心愿池中的心愿）"})
    subject_id = fields.Integer(required=True, metadata={"description": "被举报内容的 id"})
    reason = Text(multiline=True, load_default="", validate=validate.Length(max=200))


class AbuseReportResult(Schema):
    reports = fields.Integer(metadata={"description": "该内容已收到的举报数"})
    hidden = fields.Boolean(metadata={"description": "该内容是否已暂时隐藏、等待审核（3 位居民举报后隐藏）"})


@blp.route("/holds")
class Holds(View):
    @blp.arguments(HoldQuery, location="query")
    @blp.response(200, HoldPage)
    @blp.doc(security=BEARER)
    def get(self, args):
        """社区、街道管理员：辖区内待审核（或已处理）的内容，按时间倒序"""
        return moderation.list_holds(current_actor(), **args)


@blp.route("/holds/<int:hold_id>")
class HoldDetail(View):
    @blp.response(200, HoldSchema)
    @blp.doc(security=BEARER)
    def get(self, hold_id):
        """一条待审核内容：内容摘录、检查结果、举报次数"""
        return moderation.get_hold(current_actor(), hold_id)


@blp.route("/holds/<int:hold_id>/decision")
class HoldDecision(View):
    @blp.arguments(DecisionArgs)
    @blp.response(200, HoldSchema)
    @blp.doc(security=BEARER)
    def post(self, args, hold_id):
        """放行或隐藏一条内容（须填理由，记入审计并通知作者）；放行的上报从放行时起计算受理时限"""
        return moderation.decide(current_actor(), hold_id, args["action"], args["reason"])


@blp.route("/reports")
class AbuseReports(View):
    @blp.arguments(AbuseReportArgs)
    @blp.response(201, AbuseReportResult)
    @blp.doc(security=BEARER)
    def post(self, args):
        """举报公开内容（点赞留言、公开建议、心愿）；3 位不同居民举报后暂时隐藏，等待工作人员审核"""
        return moderation.report_abuse(current_actor(), args["kind"], args["subject_id"], args["reason"])
