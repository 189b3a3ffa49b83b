"""积分制: schemes, my points and household book, applications, rankings and the points supermarket."""
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.core.exports import FILE_SCHEMA, XLSX_MIMETYPE
from app.core.inputs import Text
from app.points import cashout as cashouts
from app.points import evaluation as evaluations
from app.points import exports as points_exports
from app.points import service as points
from app.points import shop
from app.points.models import (
    APPLICATION_LABELS,
    APPROVER_ROLES,
    ENTRY_LABELS,
    EVALUATION_LABELS,
    ITEM_KINDS,
    OBJECTION_LABELS,
    REDEMPTION_LABELS,
    SCHEME_LABELS,
    SOURCES,
)
from miniprogram_api.common import BEARER, LocalDateTime, PageArgs, View, current_actor, download, page_schema

blp = Blueprint("points", __name__, description="积分制：积分方案、我的积分、家庭户、积分申请、排行与积分超市")
PREFIX = "/points"


# -- schemas ----------------------------------------------------------------------------------

class ItemArgs(Schema):
    code = Text(required=True, validate=validate.Length(min=1, max=16), metadata={"description": "项目编号，如 A01"})
    name = Text(required=True, validate=validate.Length(min=1, max=64))
    points = fields.Integer(required=True, validate=validate.Range(min=-1000, max=1000),
                            metadata={"description": "分值；自动计分的志愿服务时长为每小时分值"})
    kind = Text(required=True, validate=validate.OneOf(list(ITEM_KINDS)),
                metadata={"description": "auto 自动计分 / applied 申请审核 / evaluated 月度评议"})
    source = Text(load_default=None, validate=validate.OneOf(list(SOURCES)),
                  metadata={"description": "自动计分的来源：service_hours / wish / case / praise"})
    monthly_cap = fields.Integer(load_default=None, validate=validate.Range(min=0, max=100000),
                                 metadata={"description": "每人每月最多可得的分数，空为不封顶"})
    approver_role = Text(load_default="community_admin", validate=validate.OneOf(list(APPROVER_ROLES)),
                         metadata={"description": "申请项目的审核人：community_admin / grid_worker"})


class IndicatorArgs(Schema):
    code = Text(required=True, validate=validate.Length(min=1, max=16))
    name = Text(required=True, validate=validate.Length(min=1, max=32), metadata={"description": "如 遵纪守法、孝老爱亲"})
    weight = fields.Integer(required=True, validate=validate.Range(min=1, max=100),
                            metadata={"description": "该指标在百分制中的分值；各指标合计 100"})


class TierArgs(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=16), metadata={"description": "如 优秀"})
    min = fields.Integer(required=True, validate=validate.Range(min=0, max=100), metadata={"description": "分数线"})


class SchemeArgs(Schema):
    community_id = fields.Integer(required=True)
    title = Text(load_default="", validate=validate.Length(max=100))
    items = fields.List(fields.Nested(ItemArgs), required=True, validate=validate.Length(min=1, max=points.MAX_ITEMS))
    indicators = fields.List(fields.Nested(IndicatorArgs), load_default=list, validate=validate.Length(max=20),
                             metadata={"description": "月度评议指标（百分制），不评议可省略"})
    tiers = fields.List(fields.Nested(TierArgs), load_default=list, validate=validate.Length(max=6),
                        metadata={"description": "档次，从高到低，最低一档为 0 分；省略为 优秀90/良好80/合格60/不合格0"})
    dividend_percent = fields.Integer(load_default=20, validate=validate.Range(min=0, max=100), metadata={
        "description": "年兑现：集体经济收益中用于积分分红的比例（%），“4321”机制为 20"})


class CommunityQuery(PageArgs):
    community_id = fields.Integer(required=True)


class ItemSchema(Schema):
    id = fields.Integer()
    code = Text()
    name = Text()
    points = fields.Integer()
    kind = Text()
    kind_label = fields.Function(lambda i: ITEM_KINDS[i.kind])
    source = Text(allow_none=True)
    monthly_cap = fields.Integer(allow_none=True)
    approver_role = Text()


class SchemeSchema(Schema):
    id = fields.Integer()
    community_id = fields.Integer()
    version = fields.Integer()
    title = Text()
    status = Text()
    status_label = fields.Function(lambda s: SCHEME_LABELS[s.status])
    effective_from = fields.Date(allow_none=True, metadata={"description": "生效日期（北京时间）；新版本从次月1日起生效"})
    published_at = LocalDateTime(allow_none=True)
    items = fields.List(fields.Nested(ItemSchema))
    indicators = fields.List(fields.Dict(), metadata={"description": "[{code, name, weight}]"})
    dividend_percent = fields.Integer(metadata={"description": "年兑现的分红比例（%）"})
    tiers = fields.List(fields.Dict(), metadata={"description": "[{name, min}]"})


class EntrySchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    household_id = fields.Integer(allow_none=True)
    points = fields.Integer(metadata={"description": "正数为增加，负数为扣减"})
    kind = Text()
    kind_label = fields.Function(lambda e: ENTRY_LABELS[e.kind])
    source_type = Text()
    source_id = fields.Integer()
    scheme_id = fields.Integer(allow_none=True)
    item_code = Text()
    item_name = Text()
    note = Text()
    period = Text(metadata={"description": "计入的月份 YYYY-MM"})
    created_at = LocalDateTime()


class MyPointsSchema(Schema):
    balance = fields.Integer(metadata={"description": "可用积分"})
    earned_total = fields.Integer(metadata={"description": "累计获得"})
    earned_this_month = fields.Integer()
    household_id = fields.Integer(allow_none=True)


class MemberSchema(Schema):
    user_id = fields.Integer()
    name = Text(metadata={"description": "成员姓名（脱敏），本人为“我”"})
    is_head = fields.Boolean()
    earned = fields.Integer()
    balance = fields.Integer()


class HouseholdSchema(Schema):
    id = fields.Integer()
    label = Text()
    place_id = fields.Integer()
    room = Text()
    community_id = fields.Integer()
    join_code = Text(allow_none=True, metadata={"description": "加入码，仅户主可见"})
    members = fields.List(fields.Nested(MemberSchema))
    earned = fields.Integer(metadata={"description": "全户累计获得"})
    balance = fields.Integer(metadata={"description": "全户可用积分合计"})


class NewHouseholdArgs(Schema):
    place_id = fields.Integer(required=True, metadata={"description": "所在楼栋/单元（场所）"})
    room = Text(required=True, validate=validate.Length(min=1, max=32), metadata={"description": "门牌号，如 2单元301"})


class JoinArgs(Schema):
    join_code = Text(required=True, validate=validate.Length(min=4, max=8))


class ApplicationArgs(Schema):
    item_id = fields.Integer(required=True)
    note = Text(multiline=True, required=True, validate=validate.Length(min=1, max=1000))
    photo_ids = fields.List(fields.Integer(), load_default=list, validate=validate.Length(max=9))


class ApplicationQuery(PageArgs):
    mine = fields.Boolean(load_default=True, metadata={"description": "false：审核人查看管辖范围内的申请"})
    status = Text(load_default=None, validate=validate.OneOf(list(APPLICATION_LABELS)))


class DecisionArgs(Schema):
    approve = fields.Boolean(required=True)
    reason = Text(load_default="", validate=validate.Length(max=200))


class ApplicationSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    item_id = fields.Integer()
    item_name = fields.Function(lambda a: a.item.name)
    item_points = fields.Function(lambda a: a.item.points)
    community_id = fields.Integer()
    note = Text()
    photos = fields.List(fields.Dict())
    status = Text()
    status_label = fields.Function(lambda a: APPLICATION_LABELS[a.status])
    reason = Text()
    created_at = LocalDateTime()
    decided_at = LocalDateTime(allow_none=True)


class ReverseArgs(Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=150))


class EntryQuery(PageArgs):
    community_id = fields.Integer(required=True)
    user_id = fields.Integer(load_default=None)


class RankingQuery(PageArgs):
    community_id = fields.Integer(required=True)
    grid_id = fields.Integer(load_default=None)
    period = Text(load_default="month", validate=validate.OneOf(list(points.PERIOD_KINDS)),
                  metadata={"description": "month 月排名 / quarter 季汇总 / year 年度"})
    at = Text(load_default=None, validate=validate.Length(max=7),
              metadata={"description": "月度 YYYY-MM，季度 YYYY-Qn，年度 YYYY；默认当前"})
    by = Text(load_default="person", validate=validate.OneOf(["person", "household"]))


class RankItemSchema(Schema):
    rank = fields.Integer()
    id = fields.Integer(metadata={"description": "用户 id 或家庭户 id"})
    name = Text(metadata={"description": "姓名脱敏（如 张*），家庭户为“张*户”"})
    points = fields.Integer()


class RankingSchema(Schema):
    period = Text()
    period_label = Text()
    by = Text()
    items = fields.List(fields.Nested(RankItemSchema))
    next_cursor = fields.String(allow_none=True)


class ShopItemArgs(Schema):
    community_id = fields.Integer(required=True)
    name = Text(required=True, validate=validate.Length(min=1, max=64))
    description = Text(load_default="", validate=validate.Length(max=200))
    price = fields.Integer(required=True, validate=validate.Range(min=1, max=1000000))
    stock = fields.Integer(required=True, validate=validate.Range(min=0, max=100000))


class RestockArgs(Schema):
    add = fields.Integer(required=True, validate=validate.Range(min=1, max=100000))


class ShopItemSchema(Schema):
    id = fields.Integer()
    community_id = fields.Integer()
    name = Text()
    description = Text()
    price = fields.Integer()
    stock = fields.Integer()


class RedemptionSchema(Schema):
    id = fields.Integer()
    shop_item_id = fields.Integer()
    item_name = fields.Function(lambda r: r.shop_item.name)
    price = fields.Integer()
    code = Text(metadata={"description": "领取码，凭码到社区领取"})
    status = Text()
    status_label = fields.Function(lambda r: REDEMPTION_LABELS[r.status])
    expires_at = LocalDateTime()
    picked_up_at = LocalDateTime(allow_none=True)
    created_at = LocalDateTime()


class RedemptionQuery(PageArgs):
    mine = fields.Boolean(load_default=True, metadata={"description": "false：工作人员查看管辖范围内的兑换"})
    status = Text(load_default=None, validate=validate.OneOf(list(REDEMPTION_LABELS)))


class PickupArgs(Schema):
    code = Text(required=True, validate=validate.Length(min=1, max=12))


class ScoreArgs(Schema):
    household_id = fields.Integer(required=True)
    scores = fields.Dict(keys=Text(validate=validate.Length(max=16)), values=fields.Integer(), required=True,
                         metadata={"description": "{指标编号: 得分}"})
    note = Text(load_default="", validate=validate.Length(max=200))


class EvaluationArgs(Schema):
    community_id = fields.Integer(required=True)
    period = Text(required=True, validate=validate.Regexp(r"^\d{4}-\d{2}$"), metadata={"description": "YYYY-MM"})
    scores = fields.List(fields.Nested(ScoreArgs), required=True, validate=validate.Length(min=1, max=2000))


class EvaluationSchema(Schema):
    id = fields.Integer()
    community_id = fields.Integer()
    period = Text()
    status = Text()
    status_label = fields.Function(lambda e: EVALUATION_LABELS[e["status"] if isinstance(e, dict) else e.status])
    notice_until = LocalDateTime(allow_none=True)
    published_at = LocalDateTime(allow_none=True)
    finalised_at = LocalDateTime(allow_none=True)


class ScoreSchema(Schema):
    id = fields.Integer()
    household_id = fields.Integer()
    household = Text(metadata={"description": "公开时为“张*户”；本社区工作人员可见门牌和户主"})
    total = fields.Integer()
    tier = Text()
    scores = fields.Dict()
    note = Text()
    mine = fields.Boolean(metadata={"description": "是否为我所在的家庭户"})


class ObjectionSchema(Schema):
    id = fields.Integer()
    score_id = fields.Integer()
    reason = Text()
    status = Text()
    status_label = fields.Function(lambda o: OBJECTION_LABELS[o.status])
    answer = Text()
    created_at = LocalDateTime()
    answered_at = LocalDateTime(allow_none=True)


class EvaluationDetailSchema(EvaluationSchema):
    indicators = fields.List(fields.Dict())
    tiers = fields.List(fields.Dict())
    scores = fields.List(fields.Nested(ScoreSchema))
    objections = fields.List(fields.Nested(ObjectionSchema))
    made_by_me = fields.Boolean()


class ObjectionArgs(Schema):
    reason = Text(multiline=True, required=True, validate=validate.Length(min=1, max=1000))


class AnswerArgs(Schema):
    uphold = fields.Boolean(required=True)
    answer = Text(required=True, validate=validate.Length(min=1, max=500))
    scores = fields.Dict(keys=Text(validate=validate.Length(max=16)), values=fields.Integer(), load_default=None,
                         metadata={"description": "采纳时重新评定的各指标得分"})


class CashoutArgs(Schema):
    community_id = fields.Integer(required=True)
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    income = fields.Decimal(required=True, places=2, as_string=True,
                            metadata={"description": "该年集体经济收益（元）；分红池 = 收益 × 方案的分红比例（默认 20%）"})


class CashoutSchema(Schema):
    id = fields.Integer()
    community_id = fields.Integer()
    year = fields.Integer()
    income = fields.Function(lambda c: str(c["income"] if isinstance(c, dict) else c.income))
    percent = fields.Integer()
    pool = fields.Function(lambda c: str(c["pool"] if isinstance(c, dict) else c.pool),
                           metadata={"description": "分红池（元）"})
    total_points = fields.Integer()
    notice_until = LocalDateTime()
    created_at = LocalDateTime()


class CashoutRowSchema(Schema):
    rank = fields.Integer()
    household_id = fields.Integer()
    household = Text(metadata={"description": "公开时为“张*户”；社区管理员可见门牌和户主"})
    points = fields.Integer(metadata={"description": "全年积分"})
    share = Text(metadata={"description": "分红金额（元）"})


class CashoutDetailSchema(CashoutSchema):
    rows = fields.List(fields.Nested(CashoutRowSchema))
    reproduced = fields.Boolean(metadata={"description": "按当前台账重算，结果是否与公示一致"})
    formula = Text()


SchemePage = page_schema(SchemeSchema, "SchemePage")
CashoutPage = page_schema(CashoutSchema, "CashoutPage")
EvaluationPage = page_schema(EvaluationSchema, "EvaluationPage")
EntryPage = page_schema(EntrySchema, "PointEntryPage")
ApplicationPage = page_schema(ApplicationSchema, "PointApplicationPage")
ShopItemPage = page_schema(ShopItemSchema, "ShopItemPage")
RedemptionPage = page_schema(RedemptionSchema, "RedemptionPage")


# -- schemes ------------------------------------------------------------------------------------

@blp.route("/schemes")
class Schemes(View):
    @blp.arguments(CommunityQuery, location="query")
    @blp.response(200, SchemePage)
    def get(self, args):
        """某社区的积分方案各版本（公开已发布版本；社区管理员另见草稿）"""
        return points.schemes_of(current_actor(required=False), **args)

    @blp.arguments(SchemeArgs)
    @blp.response(201, SchemeSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """新建积分方案草稿（社区及以上管理员）：积分项目、计分方式、每月上限、审核人"""
        return points.create_scheme(current_actor(), **args)


@blp.route("/schemes/current")
class CurrentScheme(View):
    @blp.arguments(Schema.from_dict({"community_id": fields.Integer(required=True)}, name="CurrentSchemeQuery"),
                   location="query")
    @blp.response(200, SchemeSchema)
    def get(self, args):
        """某社区现行的积分方案（向居民公开）"""
        return points.current_scheme(args["community_id"])


@blp.route("/schemes/<int:scheme_id>")
class SchemeDetail(View):
    @blp.response(200, SchemeSchema)
    def get(self, scheme_id):
        """积分方案详情（草稿仅社区管理员可见）"""
        return points.get_scheme(current_actor(required=False), scheme_id)


@blp.route("/schemes/<int:scheme_id>/publish")
class PublishScheme(View):
    @blp.response(200, SchemeSchema)
    @blp.doc(security=BEARER)
    def post(self, scheme_id):
        """发布积分方案：社区首个方案即日生效，之后的版本从次月1日起生效，已得积分按原规则不变"""
        return points.publish_scheme(current_actor(), scheme_id)


# -- my points and households -----------------------------------------------------------------------

@blp.route("/me")
class MyPoints(View):
    @blp.response(200, MyPointsSchema)
    @blp.doc(security=BEARER)
    def get(self):
        """我的积分：可用余额、累计获得、本月获得"""
        return points.my_points(current_actor())


@blp.route("/me/entries")
class MyEntries(View):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, EntryPage)
    @blp.doc(security=BEARER)
    def get(self, args):
        """我的积分明细（只增不改；冲正为一条反向记录）"""
        return points.my_entries(current_actor(), **args)


@blp.route("/household")
class MyHousehold(View):
    @blp.response(200, HouseholdSchema)
    @blp.doc(security=BEARER)
    def get(self):
        """我的家庭户积分账本（一户一账）：各成员积分与全户合计"""
        return points.household_book(current_actor())


@blp.route("/households")
class Households(View):
    @blp.arguments(NewHouseholdArgs)
    @blp.response(201, HouseholdSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """登记家庭户：在所住楼栋登记门牌，本人为户主，获得加入码"""
        actor = current_actor()
        points.create_household(actor, **args)
        return points.household_book(actor)


@blp.route("/households/join")
class JoinHousehold(View):
    @blp.arguments(JoinArgs)
    @blp.response(200, HouseholdSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """凭户主的加入码加入家庭户"""
        actor = current_actor()
        points.join_household(actor, **args)
        return points.household_book(actor)


@blp.route("/household/head")
class HouseholdHead(View):
    @blp.arguments(Schema.from_dict({"user_id": fields.Integer(required=True, metadata={
        "description": "本户另一位成员的用户 id"})}, name="HouseholdHeadArgs"))
    @blp.response(200, HouseholdSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """户主转给本户另一位成员"""
        actor = current_actor()
        points.transfer_head(actor, **args)
        return points.household_book(actor)


@blp.route("/household/leave")
class LeaveHousehold(View):
    @blp.response(204)
    @blp.doc(security=BEARER)
    def post(self):
        """退出家庭户（户主须先无其他成员）；已得积分仍计入原户"""
        points.leave_household(current_actor())


# -- the ledger for staff ------------------------------------------------------------------------------

@blp.route("/entries")
class Entries(View):
    @blp.arguments(EntryQuery, location="query")
    @blp.response(200, EntryPage)
    @blp.doc(security=BEARER)
    def get(self, args):
        """社区积分台账（社区及以上管理员）"""
        return points.community_entries(current_actor(), **args)


@blp.route("/entries/export.xlsx")
class EntriesExport(View):
    @blp.arguments(Schema.from_dict({
        "community_id": fields.Integer(required=True),
        "year": fields.Integer(required=True, validate=validate.Range(min=2000, max=2100)),
    }, name="PointBookQuery"), location="query")
    @blp.response(200, FILE_SCHEMA, content_type=XLSX_MIMETYPE)
    @blp.doc(security=BEARER)
    def get(self, args):
        """导出社区某年的积分台账（Excel，社区及以上管理员）：每条记录的人、户、项目、分值、来源和审核人"""
        data, filename = points_exports.book_xlsx(current_actor(), **args)
        return download(data, XLSX_MIMETYPE, filename)


@blp.route("/entries/<int:point_entry_id>/reverse")
class ReverseEntry(View):
    @blp.arguments(ReverseArgs)
    @blp.response(201, EntrySchema)
    @blp.doc(security=BEARER)
    def post(self, args, point_entry_id):
        """冲正一条获得积分的记录：追加一条反向记录，余额不会为负"""
        return points.reverse_entry(current_actor(), point_entry_id, **args)


# -- applications -----------------------------------------------------------------------------------

@blp.route("/applications")
class Applications(View):
    @blp.arguments(ApplicationQuery, location="query")
    @blp.response(200, ApplicationPage)
    @blp.doc(security=BEARER)
    def get(self, args):
        """我的积分申请；mine=false 为审核人管辖范围内的申请"""
        return points.list_applications(current_actor(), **args)

    @blp.arguments(ApplicationArgs)
    @blp.response(201, ApplicationSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """申请积分：选择现行方案中的申请类项目，说明事由并附照片"""
        return points.apply(current_actor(), **args)


@blp.route("/applications/<int:application_id>/decision")
class Decision(View):
    @blp.arguments(DecisionArgs)
    @blp.response(200, ApplicationSchema)
    @blp.doc(security=BEARER)
    def post(self, args, application_id):
        """审核积分申请（项目的审核人，不能审核本人的申请）；通过即记入积分，只记一次"""
        return points.decide_application(current_actor(), application_id, **args)


# -- rankings -----------------------------------------------------------------------------------------

@blp.route("/rankings")
class Rankings(View):
    @blp.arguments(RankingQuery, location="query")
    @blp.response(200, RankingSchema)
    def get(self, args):
        """积分排行（公开，姓名脱敏）：月排名、季汇总、年度；按人或按户；社区或网格"""
        return points.ranking(current_actor(required=False), **args)


# -- the points supermarket -------------------------------------------------------------------------

@blp.route("/shop/items")
class ShopItems(View):
    @blp.arguments(CommunityQuery, location="query")
    @blp.response(200, ShopItemPage)
    def get(self, args):
        """积分超市的商品（公开）"""
        return shop.list_items(**args)

    @blp.arguments(ShopItemArgs)
    @blp.response(201, ShopItemSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """上架商品（社区及以上管理员）"""
        return shop.create_item(current_actor(), **args)


@blp.route("/shop/items/<int:shop_item_id>/restock")
class Restock(View):
    @blp.arguments(RestockArgs)
    @blp.response(200, ShopItemSchema)
    @blp.doc(security=BEARER)
    def post(self, args, shop_item_id):
        """补货（社区及以上管理员）"""
        return shop.restock(current_actor(), shop_item_id, **args)


@blp.route("/shop/items/<int:shop_item_id>/redemptions")
class Redeem(View):
    @blp.response(201, RedemptionSchema)
    @blp.doc(security=BEARER)
    def post(self, shop_item_id):
        """兑换：预留积分与库存并给出领取码；兑完或余额不足返回 409；逾期未领取自动退回。带 Idempotency-Key 可安全重试"""
        return shop.redeem(current_actor(), shop_item_id)


@blp.route("/redemptions")
class Redemptions(View):
    @blp.arguments(RedemptionQuery, location="query")
    @blp.response(200, RedemptionPage)
    @blp.doc(security=BEARER)
    def get(self, args):
        """我的兑换；mine=false 为工作人员管辖范围内的兑换"""
        actor = current_actor()
        if args.pop("mine"):
            args.pop("status")
            return shop.my_redemptions(actor, **args)
        return shop.staff_redemptions(actor, **args)


@blp.route("/redemptions/pickup")
class Pickup(View):
    @blp.arguments(PickupArgs)
    @blp.response(200, RedemptionSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """确认领取（社区工作人员凭领取码核销）"""
        return shop.confirm_pickup(current_actor(), **args)


# -- monthly evaluation (月度评议) ---------------------------------------------------------------------

@blp.route("/evaluations")
class Evaluations(View):
    @blp.arguments(CommunityQuery, location="query")
    @blp.response(200, EvaluationPage)
    def get(self, args):
        """某社区的月度评议（公开公示中和已确认的；本社区工作人员另见评议中的）"""
        return evaluations.list_evaluations(current_actor(required=False), **args)

    @blp.arguments(EvaluationArgs)
    @blp.response(201, EvaluationDetailSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """评议小组为各户按指标打分（社区管理员或本社区网格员），得出总分和档次"""
        actor = current_actor()
        evaluation = evaluations.create_evaluation(actor, **args)
        return evaluations.view(actor, evaluation.id)


@blp.route("/evaluations/<int:evaluation_id>")
class EvaluationDetail(View):
    @blp.response(200, EvaluationDetailSchema)
    def get(self, evaluation_id):
        """评议结果（公开时户名脱敏）；居民可见自己提出的异议及答复"""
        return evaluations.view(current_actor(required=False), evaluation_id)


@blp.route("/evaluations/<int:evaluation_id>/publish")
class PublishEvaluation(View):
    @blp.response(200, EvaluationDetailSchema)
    @blp.doc(security=BEARER)
    def post(self, evaluation_id):
        """审核并公示（须由评分人以外的社区管理员操作），公示 5 天"""
        actor = current_actor()
        evaluations.publish(actor, evaluation_id)
        return evaluations.view(actor, evaluation_id)


@blp.route("/evaluations/<int:evaluation_id>/objections")
class Objections(View):
    @blp.arguments(ObjectionArgs)
    @blp.response(201, ObjectionSchema)
    @blp.doc(security=BEARER)
    def post(self, args, evaluation_id):
        """对本户的评议结果提出异议（仅公示期内）"""
        return evaluations.object_to(current_actor(), evaluation_id, **args)


@blp.route("/objections/<int:objection_id>/answer")
class AnswerObjection(View):
    @blp.arguments(AnswerArgs)
    @blp.response(200, ObjectionSchema)
    @blp.doc(security=BEARER)
    def post(self, args, objection_id):
        """答复异议（社区管理员）；采纳时按重新评定的得分更正"""
        return evaluations.answer_objection(current_actor(), objection_id, **args)


@blp.route("/evaluations/<int:evaluation_id>/finalise")
class FinaliseEvaluation(View):
    @blp.response(200, EvaluationDetailSchema)
    @blp.doc(security=BEARER)
    def post(self, evaluation_id):
        """公示期满且异议均已答复后确认（须由评分人以外的管理员操作）；各户按得分计入积分，只记一次"""
        actor = current_actor()
        evaluations.finalise(actor, evaluation_id)
        return evaluations.view(actor, evaluation_id)


# -- the yearly cash-out (年兑现) ---------------------------------------------------------------------

@blp.route("/cashouts")
class Cashouts(View):
    @blp.arguments(CommunityQuery, location="query")
    @blp.response(200, CashoutPage)
    def get(self, args):
        """某社区的积分年兑现（公开公示）"""
        return cashouts.list_cashouts(**args)

    @blp.arguments(CashoutArgs)
    @blp.response(201, CashoutDetailSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """计算年兑现（社区及以上管理员）：按各户全年积分分配分红池，公示 7 天"""
        actor = current_actor()
        made = cashouts.compute(actor, **args)
        return cashouts.view(actor, made.id)


@blp.route("/cashouts/<int:cashout_id>")
class CashoutDetail(View):
    @blp.response(200, CashoutDetailSchema)
    def get(self, cashout_id):
        """年兑现结果（公开时户主姓名脱敏），并按当前台账重算核对"""
        return cashouts.view(current_actor(required=False), cashout_id)


@blp.route("/cashouts/<int:cashout_id>/export.xlsx")
class CashoutExport(View):
    @blp.response(200, FILE_SCHEMA, content_type=XLSX_MIMETYPE)
    @blp.doc(security=BEARER)
    def get(self, cashout_id):
        """导出年兑现发放表（Excel，社区及以上管理员）"""
        data, filename = cashouts.to_xlsx(current_actor(), cashout_id)
        return download(data, XLSX_MIMETYPE, filename)
