"""我要点赞: praise a grid worker, a party member, a merchant or a place; the praise wall and ranking."""
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.core.inputs import Date, Text
from app.praise import service as praise
from app.praise.models import TARGET_TYPES
from miniprogram_api.common import BEARER, LocalDateTime, PageArgs, View, current_actor, page_schema

blp = Blueprint("praise", __name__, description="我要点赞：点赞、点赞墙与月度排行")
PREFIX = "/praises"


class PraiseArgs(Schema):
    scene = Text(required=True, validate=validate.Length(min=1, max=32),
                 metadata={"description": "扫码得到的 scene"})
    target_type = Text(required=True, validate=validate.OneOf(list(TARGET_TYPES)),
                       metadata={"description": "grid_worker / party_member / merchant / place"})
    target_id = fields.Integer(load_default=None, metadata={
        "description": "网格员、党员为用户 id；商户、场所可省略（即扫码场所）"})
    message = Text(multiline=True, required=True, validate=validate.Length(min=1, max=praise.MAX_MESSAGE))


class PraiseQuery(PageArgs):
    community_id = fields.Integer(load_default=None, metadata={"description": "某社区的点赞墙"})
    mine = fields.Boolean(load_default=False, metadata={"description": "只看我点的赞（需登录）"})
    target_type = Text(load_default=None, validate=validate.OneOf(list(TARGET_TYPES)))
    target_id = fields.Integer(load_default=None)


class RankingQuery(Schema):
    community_id = fields.Integer(load_default=None)
    month = Text(load_default=None, validate=validate.Regexp(r"^\d{4}-\d{2}$"),
                 metadata={"description": "YYYY-MM，默认本月（北京时间）"})
    target_type = Text(load_default=None, validate=validate.OneOf(list(TARGET_TYPES)))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class PraiseSchema(Schema):
    id = fields.Integer()
    target_type = Text()
    target_type_label = Text()
    target_id = fields.Integer()
    target_name = Text()
    place_id = fields.Integer()
    place_name = Text()
    message = Text()
    praiser = Text(metadata={"description": "点赞人（姓名脱敏）"})
    created_at = LocalDateTime()
    review_notice = Text(allow_none=True, metadata={
        "description": "仅点赞人本人可见：待审核时为“审核中”（审核通过后才上点赞墙），隐藏后为原因"})


class CreatedPraiseSchema(Schema):
    id = fields.Integer()
    target_type = Text()
    target_id = fields.Integer()
    place_id = fields.Integer()
    message = Text()
    day = Date()
    created_at = LocalDateTime()
    review_notice = Text(allow_none=True, metadata={
        "description": "仅点赞人本人可见：待审核时为“审核中”（审核通过后才上点赞墙），隐藏后为原因"})


class RankingItemSchema(Schema):
    rank = fields.Integer()
    target_type = Text()
    target_type_label = Text()
    target_id = fields.Integer()
    name = Text()
    count = fields.Integer()


class RankingSchema(Schema):
    month = Text()
    items = fields.List(fields.Nested(RankingItemSchema))


PraisePage = page_schema(PraiseSchema, "PraisePage")


@blp.route("")
class Praises(View):
    @blp.arguments(PraiseQuery, location="query")
    @blp.response(200, PraisePage)
    def get(self, args):
        """点赞墙（公开，按时间倒序，点赞人姓名脱敏）；mine=true 查看我点的赞"""
        return praise.list_praises(current_actor(required=False), **args)

    @blp.arguments(PraiseArgs)
    @blp.response(201, CreatedPraiseSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """扫码点赞：同一对象每人每天一次，重复点赞返回 409"""
        return praise.praise(current_actor(), **args)


@blp.route("/ranking")
class PraiseRanking(View):
    @blp.arguments(RankingQuery, location="query")
    @blp.response(200, RankingSchema)
    def get(self, args):
        """月度点赞排行：按被点赞次数排序，并列同名次"""
        return praise.ranking(**args)
