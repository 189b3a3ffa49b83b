"""Subscribe-message quota: what the user accepted in wx.requestSubscribeMessage."""
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.core.inputs import Text
from app.notifications import subscriptions
from miniprogram_api.common import BEARER, View, current_user

blp = Blueprint("subscriptions", __name__, description="订阅消息额度")
PREFIX = "/subscriptions"


class AcceptedArgs(Schema):
    accepted = fields.List(Text(validate=validate.Length(min=1, max=48)), required=True,
                  validate=validate.Length(min=1, max=20),
                  metadata={"description": "用户在 wx.requestSubscribeMessage 中同意的模板 key，每个 key 记一条额度"})


class QuotaSchema(Schema):
    template_key = Text()
    template_id = Text(metadata={"description": "传给 wx.requestSubscribeMessage 的 tmplIds"})
    title = Text()
    remaining = fields.Integer(metadata={"description": "还可发送的条数"})


class QuotaListSchema(Schema):
    items = fields.List(fields.Nested(QuotaSchema), required=True)


@blp.route("")
class Subscriptions(View):
    @blp.response(200, QuotaListSchema)
    @blp.doc(security=BEARER)
    def get(self):
        """全部消息模板及我的剩余额度"""
        return {"items": subscriptions.quotas(current_user())}

    @blp.arguments(AcceptedArgs)
    @blp.response(200, QuotaListSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """记录订阅结果：每个同意的模板增加一条额度"""
        return {"items": subscriptions.add_quota(current_user(), args["accepted"])}
