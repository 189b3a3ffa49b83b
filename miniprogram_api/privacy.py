"""The privacy notice (隐私保护指引), consents to it, and a person's rights: export and cancellation (注销)."""
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.core.inputs import Text
from app.core.time import to_local, utcnow
from app.privacy import notice, rights
from miniprogram_api.common import BEARER, LocalDateTime, PageArgs, View, current_user, download

blp = Blueprint("privacy", __name__, description="隐私保护指引与个人信息权利")
ZIP_MIMETYPE = "application/zip"


class ControllerSchema(Schema):
    name = Text(metadata={"description": "个人信息处理者"})
    contact = Text(metadata={"description": "联系方式（个人信息保护负责人或受理渠道）"})


class ItemSchema(Schema):
    item = Text(metadata={"description": "收集的个人信息"})
    why = Text(metadata={"description": "为什么需要、谁能看到"})
    required = fields.Boolean(metadata={"description": "是否为使用该功能所必需"})


class RetentionSchema(Schema):
    kind = Text(metadata={"description": "记录种类（英文标识）"})
    label = Text(metadata={"description": "记录种类"})
    months = fields.Integer(metadata={"description": "保存期限（月）"})
    starts = Text(metadata={"description": "期限从何时起算"})
    then = Text(metadata={"description": "期满后如何处理"})


class RightSchema(Schema):
    right = Text(metadata={"description": "权利"})
    how = Text(metadata={"description": "如何行使"})


class ProcessorSchema(Schema):
    name = Text(metadata={"description": "受托处理者或第三方"})
    what = Text(metadata={"description": "处理的内容"})
    link = Text(metadata={"description": "网址"})


class NoticeSchema(Schema):
    version = Text(required=True, metadata={"description": "指引版本；同意时提交此版本号"})
    effective = Text(metadata={"description": "生效日期"})
    controller = fields.Nested(ControllerSchema)
    purposes = fields.List(Text(), metadata={"description": "处理目的"})
    items = fields.List(fields.Nested(ItemSchema), metadata={"description": "收集的信息及用途"})
    visibility = fields.List(Text(), metadata={"description": "谁能看到"})
    retention = fields.List(fields.Nested(RetentionSchema), metadata={"description": "各类记录的保存期限"})
    idempotency = Text(metadata={"description": "防重复提交记录的保存方式"})
    rights = fields.List(fields.Nested(RightSchema), metadata={"description": "您的权利及行使方式"})
    cancellation = fields.List(Text(), metadata={"description": "注销账号后删除什么、匿名保留什么"})
    processors = fields.List(fields.Nested(ProcessorSchema), metadata={"description": "委托处理与第三方"})
    security = Text(metadata={"description": "安全措施"})


class ConsentArgs(Schema):
    version = Text(required=True, validate=validate.Length(min=1, max=16),
                   metadata={"description": "所同意的隐私保护指引版本（GET /privacy 的 version）"})


class ConsentSchema(Schema):
    version = fields.String(attribute="notice_version", metadata={"description": "所同意的指引版本"})
    channel = fields.String(metadata={"description": "mp（小程序）或 portal（网页）"})
    accepted_at = LocalDateTime(attribute="created_at", metadata={"description": "同意时间"})


class ConsentPageSchema(Schema):
    items = fields.List(fields.Nested(ConsentSchema), required=True)
    next_cursor = Text(allow_none=True, required=True)
    current_version = Text(required=True, metadata={"description": "当前指引版本"})
    accepted_current = fields.Boolean(required=True, metadata={"description": "是否已同意当前版本"})


class CancellationArgs(Schema):
    confirm = fields.Boolean(required=True, validate=validate.Equal(True, error="请确认注销：注销后无法恢复。"),
                             metadata={"description": "须为 true：确认注销，注销后无法恢复"})


class CancellationSchema(Schema):
    cancelled_at = LocalDateTime(metadata={"description": "注销时间"})
    remains = fields.List(Text(), metadata={"description": "注销后删除了什么、匿名保留了什么"})


@blp.route("/privacy")
class PrivacyNotice(View):
    @blp.response(200, NoticeSchema)
    def get(self):
        """隐私保护指引（当前版本）：处理者与联系方式、目的、收集的信息、保存期限、权利、委托处理者；无需登录"""
        return notice.notice()


@blp.route("/me/consents")
class Consents(View):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, ConsentPageSchema)
    @blp.doc(security=BEARER)
    def get(self, args):
        """我同意过的隐私保护指引版本及时间（新到旧，分页），以及是否已同意当前版本"""
        user = current_user()
        page = rights.consents_of(user, **args)
        return {"items": page.items, "next_cursor": page.next_cursor, "current_version": notice.VERSION,
                "accepted_current": rights.accepted_current(user)}

    @blp.arguments(ConsentArgs)
    @blp.response(201, ConsentSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """记录我同意了当前版本的隐私保护指引（版本不是当前版本时返回 422）"""
        return rights.record_consent(current_user(), args["version"], "mp")


@blp.route("/me/export")
class Export(View):
    @blp.doc(security=BEARER, responses={"200": {"description": "ZIP：data.json（全部个人信息）与 photos/（上传的照片）",
                                                 "content": {ZIP_MIMETYPE: {"schema": {"type": "string",
                                                                                        "format": "binary"}}}}})
    def get(self):
        """导出我的全部个人信息（JSON）和我上传的照片，打包为 ZIP"""
        return download(rights.export_data(current_user()), ZIP_MIMETYPE,
                        f"我的数据-{to_local(utcnow()):%Y%m%d}.zip")


@blp.route("/me/cancellation")
class Cancellation(View):
    @blp.arguments(CancellationArgs)
    @blp.response(200, CancellationSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """注销账号：令牌立即失效，个人信息删除或匿名化，事件、建议、心愿的办理记录和服务时长台账以“已注销用户”保留"""
        return rights.cancel_account(current_user())
