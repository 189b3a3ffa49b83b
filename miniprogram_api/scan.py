"""GET /scan/{scene}: where the resident is, who is responsible there, and what they can do."""
import json

from flask import Response
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app import scan as scanning
from app.areas.models import PLACE_KINDS
from app.core import uow
from app.core.inputs import Text

blp = Blueprint("scan", __name__, description="扫码：场所、网格、联系人与可用操作")
PREFIX = "/scan"


class ScanPlaceSchema(Schema):
    id = fields.Integer()
    name = Text()
    kind = Text()
    kind_label = fields.Function(lambda p: PLACE_KINDS.get(p.kind, p.kind))
    address = Text()


class ScanAreaSchema(Schema):
    id = fields.Integer()
    name = Text()


class ScanContactSchema(Schema):
    role = Text(metadata={"description": "grid_worker / police / property"})
    role_label = Text(metadata={"description": "网格员 / 网格民警 / 物业"})
    name = Text()
    phone = Text(allow_none=True, metadata={"description": "脱敏手机号，如 138****1234"})
    dial_phone = Text(attribute="dial", allow_none=True, metadata={
        "description": "可直接拨打的公开服务电话（社区为本网格设置的网格民警、物业），用于 wx.makePhoneCall；网格员等个人号码为 null"})
    user_id = fields.Integer(allow_none=True, metadata={"description": "有账号的联系人（网格员）的用户 id，可用于点赞"})


class PraiseTargetSchema(Schema):
    target_type = Text()
    target_id = fields.Integer()
    name = Text()


class ScanSchema(Schema):
    scene = Text()
    place = fields.Nested(ScanPlaceSchema)
    grid = fields.Nested(ScanAreaSchema)
    community = fields.Nested(ScanAreaSchema)
    contacts = fields.List(fields.Nested(ScanContactSchema))
    praise_targets = fields.List(fields.Nested(PraiseTargetSchema),
                                 metadata={"description": "在此处可点赞的对象"})
    actions = fields.List(Text(), metadata={"description": '["report","praise","contact"]'})


@blp.route("/<string:scene>")
@blp.response(200, ScanSchema)
def scan(scene):
    """扫码进入：返回场所、所属网格与社区、联系人（手机号脱敏）和可用操作；无效或已停用的码返回 404"""
    # A plain function view, not a View: a scan writes nothing, so it needs no unit of work
    # beyond handing over a due scan-count flush (without Redis), which uow.commit() does.
    body = _render(scanning.scan(scene))
    uow.commit()
    return Response(body, mimetype="application/json")


def _render(result) -> bytes:
    """The body ScanSchema documents, built by hand: the scan is the hottest path, and a nested
    marshmallow dump cost more than the queries (tests/api/test_scan.py checks the two agree)."""
    place = result.place
    body = {
        "scene": result.scene,
        "place": {"id": place.id, "name": place.name, "kind": place.kind, "kind_label": place.kind_label,
                  "address": place.address},
        "grid": {"id": result.grid.id, "name": result.grid.name},
        "community": {"id": result.community.id, "name": result.community.name},
        "contacts": [{"role": c.role, "role_label": c.role_label, "name": c.name, "phone": c.phone,
                      "dial_phone": c.dial, "user_id": c.user_id} for c in result.contacts],
        "praise_targets": result.praise_targets,
        "actions": list(result.actions),
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
