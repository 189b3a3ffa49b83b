"""Representatives (人大代表, 政协委员, 党代表): the public list, a profile with figures, and their QR scene."""
import io

from flask import send_file
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.codes.images import code_image
from app.core.inputs import Text
from app.suggestions import service as suggestions
from app.suggestions.models import KIND_LABELS
from miniprogram_api.common import PageArgs, View, page_schema

blp = Blueprint("representatives", __name__, description="代表委员（码上见代表）")
PREFIX = "/representatives"


class RepresentativeQuery(PageArgs):
    area_id = fields.Integer(load_default=None, metadata={"description": "该区域及其下级区域的代表"})
    kind = Text(load_default=None, validate=validate.OneOf(list(KIND_LABELS)),
                metadata={"description": "npc 人大代表 / cppcc 政协委员 / party 党代表"})


class RepresentativeSchema(Schema):
    id = fields.Integer()
    name = Text()
    kind = Text()
    kind_label = Text()
    level = Text()
    level_label = Text()
    area_id = fields.Integer()
    area_name = fields.Function(lambda r: r.area.name)
    bio = Text()
    scene = Text(metadata={"description": "其小程序码的 scene，扫码即向其提建议"})
    online = fields.Function(lambda r: r.user_id is not None,
                             metadata={"description": "是否本人在线接收；否则由所在联络站转达"})


class RepresentativeFiguresSchema(Schema):
    received = fields.Integer(metadata={"description": "收到建议数"})
    answered = fields.Integer(metadata={"description": "已答复数（直接答复或部门回复）"})
    closed = fields.Integer(metadata={"description": "已办结数"})
    median_response_hours = fields.Float(allow_none=True, metadata={"description": "响应时间中位数（小时）"})
    rated = fields.Integer(metadata={"description": "评价数"})
    mean_rating = fields.Float(allow_none=True, metadata={"description": "平均评分"})
    satisfied_share = fields.Float(allow_none=True, metadata={"description": "满意率（4 分及以上的比例）"})


class RepresentativeDetailSchema(RepresentativeSchema):
    figures = fields.Function(lambda r: RepresentativeFiguresSchema().dump(suggestions.representative_figures(r.id)))


class RepresentativeScanSchema(Schema):
    representative = fields.Nested(RepresentativeSchema)
    actions = fields.List(Text(), metadata={"description": "扫码后可执行的操作：suggest 向其提建议"})


RepresentativePage = page_schema(RepresentativeSchema, "RepresentativePage")


@blp.route("")
class Representatives(View):
    @blp.arguments(RepresentativeQuery, location="query")
    @blp.response(200, RepresentativePage)
    def get(self, args):
        """代表委员列表（公开，无需登录），可按区域、类别筛选"""
        return suggestions.list_representatives(**args)


@blp.route("/<int:rep_id>")
class RepresentativeDetail(View):
    @blp.response(200, RepresentativeDetailSchema)
    def get(self, rep_id):
        """代表委员详情：简介与履职数据（收到、答复、响应时间中位数、满意度）"""
        return suggestions.get_representative(rep_id)


@blp.route("/scan/<string:scene>")
class RepresentativeScan(View):
    @blp.response(200, RepresentativeScanSchema)
    def get(self, scene):
        """扫代表的小程序码：返回该代表，前端据此打开“向TA提建议”"""
        return {"representative": suggestions.representative_by_scene(scene), "actions": ["suggest"]}


@blp.route("/<int:rep_id>/code")
class RepresentativeCode(View):
    @blp.doc(responses={"200": {"description": "小程序码（图片）", "content": {"image/jpeg": {}, "image/png": {}}}})
    def get(self, rep_id):
        """代表的“码上见代表”小程序码：扫码即向该代表提建议（未配置微信时返回普通二维码，并在响应头说明）"""
        image = code_image(suggestions.get_representative(rep_id).scene)
        response = send_file(io.BytesIO(image.data), mimetype=image.mimetype, max_age=3600)
        response.headers["X-Code-Kind"] = image.kind
        if image.fallback:
            response.headers["X-Code-Fallback"] = image.fallback
        return response
