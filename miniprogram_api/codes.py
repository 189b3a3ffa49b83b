"""Admin: QR codes on places — bulk issue, list, disable, rotate, code image and the A4 print sheet."""
from flask import Response
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate

from app.codes import images
from app.codes import service as codes
from app.core.inputs import Text
from miniprogram_api.common import BEARER, LocalDateTime, PageArgs, View, current_actor, page_schema

blp = Blueprint("codes", __name__, description="管理：场所二维码")
PREFIX = "/admin/codes"

KINDS = [images.WECHAT, images.QRCODE]


class IssueArgs(Schema):
    place_ids = fields.List(fields.Integer(), load_default=None,
                            validate=validate.Length(min=1, max=codes.MAX_BATCH),
                            metadata={"description": "要生成二维码的场所 id"})
    area_id = fields.Integer(load_default=None, metadata={"description": "或：为该区域下所有场所生成"})


class CodeQuery(PageArgs):
    place_id = fields.Integer(load_default=None)
    area_id = fields.Integer(load_default=None)
    active = fields.Boolean(load_default=None)


class ImageQuery(Schema):
    kind = Text(load_default=images.WECHAT, validate=validate.OneOf(KINDS),
                metadata={"description": "wechat：小程序码（默认）；qrcode：普通二维码（相机扫码打开门户）"})


class IdList(fields.Field):
    """`ids=1,2,3` (or the parameter repeated)."""

    def _deserialize(self, value, attr, data, **kwargs):
        parts = value if isinstance(value, list) else [value]
        try:
            return [int(x) for part in parts for x in str(part).split(",") if x.strip()]
        except ValueError as exc:
            raise ValidationError("应为以逗号分隔的二维码 id。") from exc


class SheetQuery(ImageQuery):
    ids = IdList(required=True, metadata={"type": "string", "description": "二维码 id，逗号分隔，如 1,2,3"})


class CodeSchema(Schema):
    id = fields.Integer()
    scene = Text()
    place_id = fields.Integer()
    place_name = fields.Function(lambda c: c.place.name)
    grid_id = fields.Function(lambda c: c.place.grid_id)
    grid_name = fields.Function(lambda c: c.place.grid.name)
    active = fields.Boolean()
    rotated_from = fields.Integer(allow_none=True)
    scan_count = fields.Integer()
    last_scanned_at = LocalDateTime(allow_none=True)
    disabled_at = LocalDateTime(allow_none=True)
    created_at = LocalDateTime()
    image_url = fields.Function(lambda c: f"/mp/v1/admin/codes/{c.id}/image")
    portal_url = fields.Function(lambda c: images.portal_url(c.scene),
                                 metadata={"description": "普通二维码指向的门户地址"})


CodePage = page_schema(CodeSchema, "CodePage")
IMAGE_DOC = {"200": {"description": "图片", "content": {"image/jpeg": {}, "image/png": {}}}}
PDF_DOC = {"200": {"description": "A4 PDF", "content": {"application/pdf": {}}}}


@blp.route("")
class Codes(View):
    @blp.arguments(CodeQuery, location="query")
    @blp.response(200, CodePage)
    @blp.doc(security=BEARER)
    def get(self, args):
        """二维码列表（管辖范围内），含扫码次数"""
        return codes.list_codes(current_actor(), **args)

    @blp.arguments(IssueArgs)
    @blp.response(201, CodeSchema(many=True))
    @blp.doc(security=BEARER)
    def post(self, args):
        """批量生成二维码（社区管理员及以上）：每个场所一个有效码，已有的直接返回"""
        return codes.issue_codes(current_actor(), **args)


@blp.route("/<int:code_id>/disable")
class DisableCode(View):
    @blp.response(200, CodeSchema)
    @blp.doc(security=BEARER)
    def post(self, code_id):
        """停用二维码：停用后扫码提示无效"""
        return codes.disable_code(current_actor(), code_id)


@blp.route("/<int:code_id>/rotate")
class RotateCode(View):
    @blp.response(201, CodeSchema)
    @blp.doc(security=BEARER)
    def post(self, code_id):
        """轮换二维码：旧码立即失效，返回为同一场所新生成的码"""
        return codes.rotate_code(current_actor(), code_id)


@blp.route("/<int:code_id>/image")
class CodeImage(View):
    @blp.arguments(ImageQuery, location="query")
    @blp.doc(security=BEARER, responses=IMAGE_DOC)
    def get(self, args, code_id):
        """下载码图：默认为小程序码；未配置微信时退回普通二维码，并在响应头 X-Code-Kind / X-Code-Fallback 中说明"""
        image = codes.code_image(current_actor(), code_id, args["kind"])
        response = Response(image.data, mimetype=image.mimetype)
        response.headers["X-Code-Kind"] = image.kind
        if image.fallback:
            response.headers["X-Code-Fallback"] = image.fallback
        response.headers["Cache-Control"] = "private, max-age=3600"
        return response


@blp.route("/sheet")
class CodeSheet(View):
    @blp.arguments(SheetQuery, location="query")
    @blp.doc(security=BEARER, responses=PDF_DOC)
    def get(self, args):
        """打印用 A4 PDF：每页 12 个码，标注社区、网格与场所名称"""
        data = codes.code_sheet(current_actor(), args["ids"], args["kind"])
        response = Response(data, mimetype="application/pdf")
        response.headers["Content-Disposition"] = 'attachment; filename="codes.pdf"'
        return response
