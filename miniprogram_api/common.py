"""What every API module shares: the view class inside the request edge, and page schemas."""
from __future__ import annotations

import json

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from app import edge
from app.core import exports
from app.core.inputs import Text
from app.core.time import to_local

BEARER = [{"bearerAuth": []}]


# Who is calling and the unit of work are the one edge every door shares (app/edge.py).
current_user = edge.current_user
current_actor = edge.current_actor


class View(MethodView):
    decorators = [edge.unit_of_work]


# -- schemas ----------------------------------------------------------------------------------

class LocalDateTime(fields.DateTime):
    """Serialised in Asia/Shanghai with its offset, e.g. 2026-11-21T23:50:00+08:00."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else to_local(value).isoformat()


class PageArgs(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100),
                           metadata={"description": "每页条数，最多 100"})
    cursor = Text(load_default=None, metadata={"description": "上一页返回的 next_cursor"})


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item_schema), required=True),
        "next_cursor": fields.String(allow_none=True, required=True),
    }, name=name)


def json_dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)


def download(data: bytes, mimetype: str, filename: str):
    """A file download, named safely (app.core.exports.attachment)."""
    return exports.attachment(data, mimetype, filename)
