"""Admin: the area tree, places and departments, all scoped to the caller's grants."""
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.areas import service as areas
from app.areas.models import LEVELS, PLACE_KINDS
from app.core.inputs import Text
from miniprogram_api.common import BEARER, PageArgs, View, current_actor, page_schema
from miniprogram_api.schemas_common import AreaSchema, PlaceSchema

blp = Blueprint("admin_areas", __name__, description="管理：区域、场所与部门")
PREFIX = "/admin"


class AreaArgs(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=64))
    level = Text(required=True, validate=validate.OneOf(LEVELS))
    parent_id = fields.Integer(load_default=None, allow_none=True)


class AreaQuery(PageArgs):
    parent_id = fields.Integer(load_default=None)
    level = Text(load_default=None, validate=validate.OneOf(LEVELS))


class PlaceArgs(Schema):
    grid_id = fields.Integer(required=True)
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    kind = Text(load_default="building", validate=validate.OneOf(list(PLACE_KINDS)))
    address = Text(load_default="", validate=validate.Length(max=200))


class PlaceUpdateArgs(Schema):
    name = Text(validate=validate.Length(min=1, max=100))
    kind = Text(validate=validate.OneOf(list(PLACE_KINDS)))
    address = Text(validate=validate.Length(max=200))
    active = fields.Boolean()


class PlaceQuery(PageArgs):
    area_id = fields.Integer(load_default=None)


class DepartmentArgs(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=64))
    area_id = fields.Integer(required=True)


class DepartmentSchema(Schema):
    id = fields.Integer()
    name = Text()
    area_id = fields.Integer()


AreaPage = page_schema(AreaSchema, "AreaPage")
PlacePage = page_schema(PlaceSchema, "PlacePage")


@blp.route("/areas")
class Areas(View):
    @blp.arguments(AreaQuery, location="query")
    @blp.response(200, AreaPage)
    @blp.doc(security=BEARER)
    def get(self, args):
        """区域列表（仅限管辖范围）"""
        return areas.list_areas(current_actor(), **args)

    @blp.arguments(AreaArgs)
    @blp.response(201, AreaSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """新建区域：区县 → 街道/乡镇 → 社区/村 → 网格"""
        return areas.create_area(current_actor(), **args)


@blp.route("/areas/<int:area_id>")
class AreaDetail(View):
    @blp.response(200, AreaSchema)
    @blp.doc(security=BEARER)
    def get(self, area_id):
        """区域详情"""
        return areas.scoped_area(current_actor(), area_id)


@blp.route("/places")
class Places(View):
    @blp.arguments(PlaceQuery, location="query")
    @blp.response(200, PlacePage)
    @blp.doc(security=BEARER)
    def get(self, args):
        """场所列表（楼栋、单元、商户、室外点位），仅限管辖范围"""
        return areas.list_places(current_actor(), **args)

    @blp.arguments(PlaceArgs)
    @blp.response(201, PlaceSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """在网格下新建场所"""
        return areas.create_place(current_actor(), **args)


@blp.route("/places/<int:place_id>")
class PlaceDetail(View):
    @blp.arguments(PlaceUpdateArgs)
    @blp.response(200, PlaceSchema)
    @blp.doc(security=BEARER)
    def patch(self, args, place_id):
        """修改场所信息或停用场所"""
        return areas.update_place(current_actor(), place_id, **args)


@blp.route("/departments")
class Departments(View):
    @blp.response(200, DepartmentSchema(many=True))
    @blp.doc(security=BEARER)
    def get(self):
        """可派单的职能部门（管辖范围内）"""
        return areas.departments_in_scope(current_actor())

    @blp.arguments(DepartmentArgs)
    @blp.response(201, DepartmentSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """新建职能部门"""
        return areas.create_department(current_actor(), **args)
