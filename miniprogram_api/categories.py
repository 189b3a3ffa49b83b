"""Report categories with their time limits; canned replies for staff; admin maintenance."""
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.cases import categories
from app.cases.service import is_staff
from app.core.inputs import Text
from miniprogram_api.common import BEARER, PageArgs, View, current_actor, page_schema

blp = Blueprint("categories", __name__, description="问题类别、办理时限与回复模板")
PREFIX = "/categories"

HOURS = validate.Range(min=1, max=categories.MAX_LIMIT_HOURS)


class CaseCategoryQuery(PageArgs):
    include_inactive = fields.Boolean(load_default=False, metadata={"description": "管理员：包含已停用的"})


class CaseCategoryArgs(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=32))
    accept_hours = fields.Integer(required=True, validate=HOURS, metadata={"description": "受理时限（小时）"})
    handle_hours = fields.Integer(required=True, validate=HOURS, metadata={"description": "办理时限（小时）"})
    working_days = fields.Boolean(load_default=False, metadata={"description": "只计工作日（扣除节假日，含调休）"})


class CaseCategoryUpdateArgs(Schema):
    name = Text(validate=validate.Length(min=1, max=32))
    accept_hours = fields.Integer(validate=HOURS)
    handle_hours = fields.Integer(validate=HOURS)
    working_days = fields.Boolean()
    active = fields.Boolean()


class CannedReplyArgs(Schema):
    title = Text(required=True, validate=validate.Length(min=1, max=32))
    body = Text(multiline=True, required=True, validate=validate.Length(min=1, max=500))
    area_id = fields.Integer(load_default=None, metadata={
        "description": "模板所属区域（须在您的管辖范围内）；不填则为您管辖的区域，系统管理员不填为全域"})


class CannedReplySchema(Schema):
    id = fields.Integer()
    title = Text()
    body = Text()
    area_id = fields.Integer(allow_none=True, metadata={"description": "所属区域；为空表示全域"})


class CaseCategorySchema(Schema):
    id = fields.Integer()
    name = Text()
    accept_hours = fields.Integer()
    handle_hours = fields.Integer()
    working_days = fields.Boolean()
    active = fields.Boolean()
    canned_replies = fields.Method("replies", allow_none=True,
                                   metadata={"description": "回复模板，仅工作人员可见：本人所在区域及其上级区域的模板，"
                                                            "管理员另见其管辖范围内的"})

    def replies(self, category):
        actor = current_actor(required=False)
        if not is_staff(actor):
            return None
        return CannedReplySchema(many=True).dump(categories.visible_replies(actor, category.canned_replies))


CaseCategoryPage = page_schema(CaseCategorySchema, "CaseCategoryPage")


@blp.route("")
class Categories(View):
    @blp.arguments(CaseCategoryQuery, location="query")
    @blp.response(200, CaseCategoryPage)
    @blp.doc(security=BEARER)
    def get(self, args):
        """问题类别及其受理、办理时限（工作人员另见回复模板）"""
        return categories.list_categories(current_actor(required=False), **args)

    @blp.arguments(CaseCategoryArgs)
    @blp.response(201, CaseCategorySchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """新建问题类别（系统或街道管理员）"""
        return categories.create_category(current_actor(), **args)


@blp.route("/<int:category_id>")
class CategoryResource(View):
    @blp.arguments(CaseCategoryUpdateArgs)
    @blp.response(200, CaseCategorySchema)
    @blp.doc(security=BEARER)
    def patch(self, args, category_id):
        """修改类别名称、时限，或停用类别（系统或街道管理员）"""
        return categories.update_category(current_actor(), category_id, **args)


@blp.route("/<int:category_id>/replies")
class Replies(View):
    @blp.arguments(CannedReplyArgs)
    @blp.response(201, CannedReplySchema)
    @blp.doc(security=BEARER)
    def post(self, args, category_id):
        """为类别添加回复模板（管理员，模板属于其管辖的区域）"""
        return categories.add_canned_reply(current_actor(), category_id, **args)


@blp.route("/replies/<int:reply_id>")
class Reply(View):
    @blp.response(204)
    @blp.doc(security=BEARER)
    def delete(self, reply_id):
        """删除回复模板（管理员，仅限其管辖范围内的模板）"""
        categories.delete_canned_reply(current_actor(), reply_id)
