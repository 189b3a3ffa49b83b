"""The Open311 GeoReport v2 door (`/open311/v2/`): JSON or XML by the path's extension, the standard's error
list on failure, `jurisdiction_id` checked, one commit per request through the shared edge."""
from __future__ import annotations

import functools

import xmltodict
from flask import Blueprint, Response, current_app, json, request

from app import edge
from app.core.errors import DomainError, NotFound
from app.open311 import service

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
FORMAT = "<any(json, xml):fmt>"
# The element names the standard gives each list in XML.
XML_NAMES = {"services": ("services", "service"), "service_requests": ("service_requests", "request"),
             "errors": ("errors", "error")}


def _jurisdiction() -> str:
    return current_app.config.get("OPEN311_JURISDICTION", "gongzhi")


def _render(fmt: str, kind: str, body, status: int = 200) -> Response:
    if fmt == "xml":
        if isinstance(body, list):
            outer, inner = XML_NAMES[kind]
            document = {outer: {inner: body} if body else None}
        else:
            document = {kind: body}
        text = xmltodict.unparse(document, pretty=False)
        return Response(text, status=status, mimetype="text/xml")
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


def open311(kind: str):
    """Render what the view returns in the requested format; a domain error as the standard's error list."""
    def wrap(view):
        @functools.wraps(view)
        def wrapper(fmt, *args, **kwargs):
            try:
                jurisdiction = request.values.get("jurisdiction_id")
                if jurisdiction and jurisdiction != _jurisdiction():
                    raise NotFound("jurisdiction_id 不存在。")
                return _render(fmt, kind, view(*args, **kwargs))
            except DomainError as exc:
                edge.mark_failed()
                return _render(fmt, "errors", [{"code": exc.status_code, "description": exc.args[0] if exc.args
                                                else exc.message}], exc.status_code)
        return wrapper
    return wrap


@bp.get(f"/discovery.{FORMAT}")
@edge.unit_of_work
@open311("discovery")
def discovery():
    base = request.host_url.rstrip("/") + bp.url_prefix + "/"
    return {"changeset": "2026-12-01T00:00:00Z", "contact": "共治平台", "key_service": "向辖区管理员申请 api_key",
            "endpoints": {"endpoint": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": base,
                                        "changeset": "2026-12-01T00:00:00Z", "type": "production",
                                        "formats": {"format": ["text/xml", "application/json"]}}]}}


@bp.get(f"/services.{FORMAT}")
@edge.unit_of_work
@open311("services")
def services():
    return service.services()


@bp.get(f"/services/<code>.{FORMAT}")
@edge.unit_of_work
@open311("service_definition")
def service_definition(code):
    return service.service_definition(code)


@bp.get(f"/requests.{FORMAT}")
@edge.unit_of_work
@open311("service_requests")
def requests_list():
    return service.list_requests(service.client_for_key(request.values.get("api_key")), request.args)


@bp.post(f"/requests.{FORMAT}")
@edge.unit_of_work
@open311("service_requests")
def requests_create():
    return [service.create_request(service.client_for_key(request.values.get("api_key")), request.form)]


@bp.get(f"/requests/<request_id>.{FORMAT}")
@edge.unit_of_work
@open311("service_requests")
def request_one(request_id):
    return service.get_request(service.client_for_key(request.values.get("api_key")), request_id)


@bp.get(f"/tokens/<token>.{FORMAT}")
@edge.unit_of_work
@open311("service_requests")
def token(token):
    """Requests are created at once, so a token is the request's own id."""
    found = service.get_request(service.client_for_key(request.values.get("api_key")), token)
    return [{"token": token, "service_request_id": found[0]["service_request_id"]}]
