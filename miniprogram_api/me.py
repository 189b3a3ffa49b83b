"""GET /me: who I am, my roles with their areas, and my party-member status."""
from flask_smorest import Blueprint
from marshmallow import fields

from app.members.service import registration_status
from miniprogram_api.common import BEARER, View, current_user
from miniprogram_api.schemas_common import UserSchema

blp = Blueprint("me", __name__, description="当前用户")
PREFIX = "/me"


class MeSchema(UserSchema):
    party_member = fields.Method("get_party_member", metadata={"description": "在职党员报到状态"})

    def get_party_member(self, user):
        return registration_status(user)


@blp.route("")
class Me(View):
    @blp.response(200, MeSchema)
    @blp.doc(security=BEARER)
    def get(self):
        """当前登录用户、角色（含管辖区域）与党员报到状态"""
        return current_user()
