"""GET/PATCH /me: who I am, my names and volunteer profile, my roles with their areas, my party-member status."""
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.accounts import profile
from app.members.service import registration_status
from miniprogram_api.common import BEARER, View, current_user
from miniprogram_api.schemas_common import UserSchema

blp = Blueprint("me", __name__, description="当前用户")
PREFIX = "/me"


class VolunteerProfileSchema(Schema):
    skills = fields.List(fields.String(validate=validate.Length(max=16)), validate=validate.Length(max=10),
                         metadata={"description": "技能标签，最多 10 个，每个不超过 16 字；派单匹配依据"})
    availability = fields.String(validate=validate.Length(max=200), metadata={
        "description": "可服务时间，如“周末全天、工作日晚上”"})
    community_ids = fields.List(fields.Integer(), validate=validate.Length(max=5), metadata={
        "description": "服务社区（社区/村的 id），最多 5 个"})


class MeSchema(UserSchema):
    real_name = fields.String(metadata={"description": "姓名（本人可见全名）"})
    id_number = fields.Function(lambda u: profile.masked_id_number(u), allow_none=True, metadata={
        "description": "居民身份证号（脱敏：前 3 位与后 4 位）；仅在申请志愿服务证明时填写"})
    volunteer_profile = fields.Function(
        lambda u: VolunteerProfileSchema().dump(profile.volunteer_profile(u.id)) if profile.volunteer_profile(u.id)
        else None, allow_none=True, metadata={"description": "志愿者资料：技能、可服务时间、服务社区"})
    party_member = fields.Method("get_party_member", metadata={"description": "在职党员报到状态"})

    def get_party_member(self, user):
        return registration_status(user)


class MeUpdateArgs(Schema):
    display_name = fields.String(validate=validate.Length(min=1, max=32), metadata={"description": "昵称"})
    real_name = fields.String(validate=validate.Length(max=40), metadata={
        "description": "姓名：2–20 个汉字，少数民族姓名可用“·”分隔"})
    volunteer_profile = fields.Nested(VolunteerProfileSchema, metadata={
        "description": "只更新提交的字段"})


@blp.route("")
class Me(View):
    @blp.response(200, MeSchema)
    @blp.doc(security=BEARER)
    def get(self):
        """当前登录用户：昵称、姓名、志愿者资料、角色（含管辖区域）与党员报到状态"""
        return current_user()

    @blp.arguments(MeUpdateArgs)
    @blp.response(200, MeSchema)
    @blp.doc(security=BEARER)
    def patch(self, args):
        """修改我的昵称、姓名（实名）与志愿者资料（技能、可服务时间、服务社区）"""
        return profile.update_profile(current_user(), display_name=args.get("display_name"),
                                      real_name=args.get("real_name"), volunteer=args.get("volunteer_profile"))
