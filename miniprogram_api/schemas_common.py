"""Schemas for users and areas, used by several API modules."""
from marshmallow import Schema, fields

from app.accounts.models import ROLE_LABELS
from app.areas.models import LEVEL_LABELS, PLACE_KINDS
from app.core import crypto
from miniprogram_api.common import LocalDateTime


class GrantSchema(Schema):
    role = fields.String()
    role_label = fields.Function(lambda g: ROLE_LABELS.get(g.role, g.role))
    area_id = fields.Integer(allow_none=True)
    department_id = fields.Integer(allow_none=True)


class UserSchema(Schema):
    id = fields.Integer()
    display_name = fields.Function(lambda u: u.label)
    username = fields.String(allow_none=True)
    phone = fields.Function(lambda u: crypto.mask_phone(crypto.decrypt(u.phone_encrypted)),
                            metadata={"description": "脱敏手机号，如 138****1234"})
    roles = fields.List(fields.Nested(GrantSchema), attribute="grants")
    created_at = LocalDateTime()


class AreaSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    level = fields.String(metadata={"description": "district / street / community / grid"})
    level_label = fields.Function(lambda a: LEVEL_LABELS.get(a.level, a.level))
    parent_id = fields.Integer(allow_none=True)
    path = fields.String()


class PlaceSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    kind_label = fields.Function(lambda p: PLACE_KINDS.get(p.kind, p.kind))
    address = fields.String()
    grid_id = fields.Integer()
    active = fields.Boolean()
