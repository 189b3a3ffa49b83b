"""Hand-over of a case to an external platform (the 12345 hotline) configured for its area."""
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.core.inputs import Text
from app.hotline import service as hotline
from miniprogram_api.common import BEARER, View, current_actor

blp = Blueprint("case_handover", __name__, description="对接 12345 热线：案件移交")
PREFIX = "/cases"


class HandoverArgs(Schema):
    platform_id = fields.Integer(required=True, metadata={"description": "对接平台 id（社区或街道配置的 12345 热线）"})
    note = Text(multiline=True, load_default="", validate=validate.Length(max=500), metadata={"description": "移交说明"})


class HandoverSchema(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    platform_id = fields.Integer()
    status = Text(metadata={"description": "pending（待发送或重试中）/ sent / failed"})
    attempts = fields.Integer()
    external_id = Text(metadata={"description": "热线平台的工单号（接收后）"})


@blp.route("/<int:case_id>/hotline")
class CaseHandover(View):
    @blp.arguments(HandoverArgs)
    @blp.response(201, HandoverSchema)
    @blp.doc(security=BEARER)
    def post(self, args, case_id):
        """把案件移交给 12345 热线（管辖该案件的管理员）：签名消息由后台任务发送，失败自动重试，结果记入时间线"""
        return hotline.hand_over(current_actor(), case_id, args["platform_id"], args["note"])
