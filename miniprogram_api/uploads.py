"""POST /uploads: images only, size-checked, EXIF stripped."""
from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.core.inputs import Text
from app.media import service as media
from miniprogram_api.common import BEARER, View, current_actor

blp = Blueprint("uploads", __name__, description="图片上传")
PREFIX = "/uploads"


class UploadForm(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class UploadSchema(Schema):
    id = fields.Integer()
    url = Text()
    thumb_url = Text()
    width = fields.Integer()
    height = fields.Integer()
    size = fields.Integer()
    location = fields.Dict(attribute="photo_location", allow_none=True, metadata={
        "description": "照片自带的拍摄位置（GCJ-02：latitude、longitude），可作为上报位置提供给用户确认；"
                       "没有时为空。位置不随图片保存"})


@blp.route("")
class Uploads(View):
    @blp.arguments(UploadForm, location="files")
    @blp.response(201, UploadSchema)
    @blp.doc(security=BEARER)
    def post(self, files):
        """上传一张图片（multipart 字段名 file）。只收图片，≤10 MB，会去除 EXIF（含定位）并生成缩略图；照片自带的拍摄位置
        在答复中返回一次（location），供上报时确认使用"""
        actor = current_actor()
        storage = files["file"]
        limit = current_app.config["UPLOAD_MAX_BYTES"]
        return media.save_upload(actor, storage.read(limit + 1), storage.filename or "")
