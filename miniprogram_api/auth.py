"""Login: WeChat code for residents, username and password for staff; phone binding; logout."""
from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.accounts import service as accounts
from app.core.inputs import Text
from app.edge import bearer_token
from miniprogram_api.common import BEARER, View, current_user
from miniprogram_api.schemas_common import UserSchema

blp = Blueprint("auth", __name__, description="登录与认证")
PREFIX = "/auth"


class CodeArgs(Schema):
    code = Text(required=True, validate=validate.Length(min=1, max=128),
                metadata={"description": "wx.login() 或 getPhoneNumber 返回的 code"})


class PasswordArgs(Schema):
    username = Text(required=True, validate=validate.Length(min=1, max=64))
    password = Text(required=True, validate=validate.Length(min=1, max=128), load_only=True)


class TokenSchema(Schema):
    access_token = Text(required=True)
    token_type = Text(dump_default="Bearer")
    expires_in = fields.Integer(required=True, metadata={"description": "有效期（秒）"})
    user = fields.Nested(UserSchema)


class PhoneSchema(Schema):
    phone = Text(metadata={"description": "脱敏手机号"})


def _token_response(user, client="mp"):
    token, ttl = accounts.issue_token(user, client)
    return {"access_token": token, "token_type": "Bearer", "expires_in": ttl, "user": user}


@blp.route("/login")
class WeChatLogin(View):
    @blp.arguments(CodeArgs)
    @blp.response(200, TokenSchema)
    def post(self, args):
        """微信登录：用 wx.login() 的 code 换取访问令牌（session_key 不保存、不返回）"""
        return _token_response(accounts.login_with_wechat(args["code"]))


@blp.route("/password")
class PasswordLogin(View):
    @blp.arguments(PasswordArgs)
    @blp.response(200, TokenSchema)
    def post(self, args):
        """工作人员账号密码登录；同一账号在同一设备连续输错后，每次重试需等待的时间逐步加长（不会锁死账号）"""
        return _token_response(accounts.login_with_password(args["username"], args["password"], request.remote_addr))


@blp.route("/phone")
class BindPhone(View):
    @blp.arguments(CodeArgs)
    @blp.response(200, PhoneSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """绑定微信手机号（getPhoneNumber 的 code），返回脱敏号码"""
        return {"phone": accounts.bind_phone(current_user(), args["code"])}


@blp.route("/logout")
class Logout(View):
    @blp.response(204)
    @blp.doc(security=BEARER)
    def post(self):
        """退出登录：当前令牌立即失效"""
        current_user()
        accounts.revoke_token(bearer_token())
