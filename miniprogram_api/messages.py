"""我要联系: a resident writes to the grid worker, grid police officer or property manager of a place."""
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.contact import desk
from app.contact import service as contact
from app.contact.models import CONTACT_ROLES
from app.core.crypto import mask_name
from app.core.inputs import Text
from miniprogram_api.common import BEARER, LocalDateTime, PageArgs, View, current_actor, page_schema

blp = Blueprint("messages", __name__, description="我要联系：居民与网格员、网格民警、物业的留言")
PREFIX = "/messages"


def _person(user, resident: bool) -> str:
    return mask_name(user.label) if resident else user.label


class StartArgs(Schema):
    scene = Text(required=True, validate=validate.Length(min=1, max=32))
    to_role = Text(required=True, validate=validate.OneOf(list(CONTACT_ROLES)),
                   metadata={"description": "grid_worker / police / property"})
    body = Text(multiline=True, required=True, validate=validate.Length(min=1, max=contact.MAX_BODY))


class ReplyArgs(Schema):
    body = Text(multiline=True, required=True, validate=validate.Length(min=1, max=contact.MAX_BODY))


class ThreadQuery(PageArgs):
    mine = fields.Boolean(load_default=False, metadata={"description": "只看我发起的留言"})
    place_id = fields.Integer(load_default=None)


class ThreadPlaceSchema(Schema):
    id = fields.Integer()
    name = Text()


class ChatMessageSchema(Schema):
    id = fields.Integer()
    from_resident = fields.Boolean()
    author_name = fields.Function(lambda m: _person(m.author, m.from_resident),
                                  metadata={"description": "居民姓名脱敏"})
    body = Text()
    created_at = LocalDateTime()


class ThreadSummarySchema(Schema):
    id = fields.Integer()
    tracking_no = Text(allow_none=True, metadata={"description": "留言编号：网页居民凭它和手机号后四位查看回复"})
    callback_phone = fields.Function(desk.masked_callback, allow_none=True,
                                     metadata={"description": "居民留下的回电号码（脱敏）；完整号码见 callback-phone"})
    awaiting_reply = fields.Boolean(metadata={"description": "居民最后发言、尚未回复"})
    place = fields.Nested(ThreadPlaceSchema)
    to_role = Text()
    to_role_label = Text()
    contact_name = Text()
    resident_name = fields.Function(lambda t: _person(t.resident, True), metadata={"description": "脱敏"})
    message_count = fields.Integer()
    last_message_at = LocalDateTime()
    created_at = LocalDateTime()


class ThreadSchema(ThreadSummarySchema):
    messages = fields.List(fields.Nested(ChatMessageSchema))


ThreadPage = page_schema(ThreadSummarySchema, "MessageThreadPage")


@blp.route("")
class Threads(View):
    @blp.arguments(ThreadQuery, location="query")
    @blp.response(200, ThreadPage)
    @blp.doc(security=BEARER)
    def get(self, args):
        """留言列表：居民看自己发起的；工作人员还能看到发给自己的和管辖范围内的"""
        return contact.list_threads(current_actor(), **args)

    @blp.arguments(StartArgs)
    @blp.response(201, ThreadSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """扫码联系：给该场所的网格员、网格民警或物业留言（内容经微信安全检测）"""
        return contact.start_thread(current_actor(), **args)


@blp.route("/<int:thread_id>")
class ThreadDetail(View):
    @blp.response(200, ThreadSchema)
    @blp.doc(security=BEARER)
    def get(self, thread_id):
        """留言详情，含全部往来消息"""
        return contact.thread_detail(current_actor(), thread_id)


class CallbackPhoneSchema(Schema):
    phone = Text(allow_none=True, metadata={"description": "完整号码；居民未留电话时为空"})


@blp.route("/<int:thread_id>/callback-phone")
class CallbackPhone(View):
    @blp.response(200, CallbackPhoneSchema)
    @blp.doc(security=BEARER)
    def post(self, thread_id):
        """读取居民留下的完整回电号码，用于回电（记入操作日志）"""
        return {"phone": desk.callback_phone(current_actor(), thread_id)}


@blp.route("/<int:thread_id>/replies")
class Replies(View):
    @blp.arguments(ReplyArgs)
    @blp.response(201, ThreadSchema)
    @blp.doc(security=BEARER)
    def post(self, args, thread_id):
        """回复留言（居民本人或负责的工作人员），并通知对方"""
        return contact.reply(current_actor(), thread_id, args["body"])
