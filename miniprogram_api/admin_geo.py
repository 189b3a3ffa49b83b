"""Admin: boundaries of grids and communities (GeoJSON, WGS-84) and where coded places stand (GCJ-02)."""
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.geo import service as geo
from miniprogram_api.common import BEARER, View, current_actor

blp = Blueprint("admin_geo", __name__, description="管理：网格与社区边界、场所位置")
PREFIX = "/admin"


class BoundaryArgs(Schema):
    geojson = fields.Dict(required=True, metadata={
        "description": "GeoJSON（RFC 7946，WGS-84）：一个 Polygon，或只含一个 Polygon 的 Feature / FeatureCollection。"
                       "环须闭合、不得自相交；网格边界须在所属社区边界之内"})


class BoundarySchema(Schema):
    type = fields.String()
    properties = fields.Dict()
    geometry = fields.Dict(allow_none=True, metadata={"description": "Polygon，WGS-84 坐标 [经度, 纬度]；尚未设置边界时为空"})


class PlacePointArgs(Schema):
    latitude = fields.Float(required=True, validate=validate.Range(min=-90, max=90),
                            metadata={"description": "纬度（GCJ-02，wx.chooseLocation 所得）"})
    longitude = fields.Float(required=True, validate=validate.Range(min=-180, max=180),
                             metadata={"description": "经度（GCJ-02）"})


class PlacePointSchema(Schema):
    place_id = fields.Integer()
    latitude = fields.Float(attribute="lat")
    longitude = fields.Float(attribute="lng")


@blp.route("/areas/<int:area_id>/boundary")
class AreaBoundary(View):
    @blp.response(200, BoundarySchema)
    @blp.doc(security=BEARER)
    def get(self, area_id):
        """网格或社区的边界（GeoJSON Feature，WGS-84；未设置时 geometry 为空）"""
        return geo.scoped_boundary(current_actor(), area_id)

    @blp.arguments(BoundaryArgs)
    @blp.response(200, BoundarySchema)
    @blp.doc(security=BEARER)
    def put(self, args, area_id):
        """上传网格或社区的边界（管理员；校验闭合、自相交与包含关系）"""
        return geo.as_geojson(geo.set_boundary(current_actor(), area_id, args["geojson"]))


@blp.route("/places/<int:place_id>/point")
class PlacePointResource(View):
    @blp.arguments(PlacePointArgs)
    @blp.response(200, PlacePointSchema)
    @blp.doc(security=BEARER)
    def put(self, args, place_id):
        """设置赋码场所的位置（GCJ-02），用于按位置上报时推荐最近的场所"""
        return geo.set_place_point(current_actor(), place_id, args["latitude"], args["longitude"])
