"""The in-app inbox: every notification lands here, whether or not WeChat delivered it."""
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.core.inputs import Text
from app.notifications import service as notifications
from miniprogram_api.common import BEARER, LocalDateTime, PageArgs, View, current_user

blp = Blueprint("inbox", __name__, description="站内消息")
PREFIX = "/inbox"


class InboxQuery(PageArgs):
    unread = fields.Boolean(load_default=False, metadata={"description": "只看未读"})


class InboxItemSchema(Schema):
    id = fields.Integer()
    kind = Text(metadata={"description": "消息类型，如 case.accepted"})
    title = Text()
    body = Text()
    page = Text(metadata={"description": "小程序页面路径（无前导 /），点击后跳转"})
    subject_type = Text(allow_none=True)
    subject_id = fields.Integer(allow_none=True)
    created_at = LocalDateTime()
    read_at = LocalDateTime(allow_none=True)
    read = fields.Function(lambda n: n.read_at is not None)


class InboxPageSchema(Schema):
    items = fields.List(fields.Nested(InboxItemSchema), required=True)
    next_cursor = Text(allow_none=True, required=True)
    unread_count = fields.Integer(required=True, metadata={"description": "未读消息总数"})


class ReadAllSchema(Schema):
    updated = fields.Integer(metadata={"description": "本次标为已读的条数"})
    unread_count = fields.Integer()


@blp.route("")
class Inbox(View):
    @blp.arguments(InboxQuery, location="query")
    @blp.response(200, InboxPageSchema)
    @blp.doc(security=BEARER)
    def get(self, args):
        """我的消息（新到旧，分页），附未读总数"""
        user = current_user()
        page = notifications.list_inbox(user, **args)
        return {"items": page.items, "next_cursor": page.next_cursor,
                "unread_count": notifications.unread_count(user)}


@blp.route("/<int:notification_id>/read")
class ReadOne(View):
    @blp.response(200, InboxItemSchema)
    @blp.doc(security=BEARER)
    def post(self, notification_id):
        """把一条消息标为已读"""
        return notifications.mark_read(current_user(), notification_id)


@blp.route("/read-all")
class ReadAll(View):
    @blp.response(200, ReadAllSchema)
    @blp.doc(security=BEARER)
    def post(self):
        """全部标为已读"""
        user = current_user()
        return {"updated": notifications.mark_all_read(user), "unread_count": 0}
