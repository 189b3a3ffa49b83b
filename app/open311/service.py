"""Open311 GeoReport v2 in our terms: services are the active report categories, service requests are cases.

Coordinates cross this edge in WGS-84 (the standard's datum) and are kept in GCJ-02 (app/geo/datum.py).
Statuses are grouped: our open group is "open", our closed group "closed", and our own status goes in
`status_notes`. A client (the 12345 hotline, say) holds an API key scoped to one area: it creates requests
only there and reads them in full only there; without a key, requests show what the public may see.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from app.accounts.models import User
from app.accounts.service import actor_for
from app.areas.service import get_area
from app.cases import service as cases
from app.cases.models import MODERATION_PASS, Case, Category
from app.cases.states import GROUPS, STATE_LABELS
from app.core import audit
from app.core.errors import Forbidden, Invalid, NotFound, Unauthorized
from app.core.scoping import ADMIN_ROLES, Actor, require_scope, scope_filter
from app.core.time import utcnow
from app.extensions import db
from app.geo import datum
from app.open311.models import Open311Client

MAX_RESULTS = 1000          # the standard's suggested ceiling on one list
DEFAULT_WINDOW = timedelta(days=90)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_client(actor: Actor, *, name: str, area_id: int) -> tuple[Open311Client, str]:
    """A new client over an area, with the account its requests are filed under; the key is returned once."""
    area = get_area(area_id)
    require_scope(actor, area.path, ADMIN_ROLES)
    name = (name or "").strip()[:64]
    if not name:
        raise Invalid("请填写接入平台的名称。", errors={"name": ["不能为空"]})
    # Upper-case base32: easy to read out over the phone, and nothing in it looks like a word.
    key = base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")
    account = User(username=f"open311-{secrets.token_hex(6)}", display_name=name[:64])
    db.session.add(account)
    db.session.flush()
    client = Open311Client(name=name, key_hash=_hash(key), key_hint=key[:6], area_id=area.id, area_path=area.path,
                           user_id=account.id, issued_by=actor.user_id)
    db.session.add(client)
    db.session.flush()
    audit.act("open311.client_issued", client_id=client.id, area_id=area.id)
    return client, key


def revoke_client(actor: Actor, client_id: int) -> Open311Client:
    client = db.session.get(Open311Client, client_id)
    if client is None:
        raise NotFound("接入平台不存在。")
    require_scope(actor, client.area_path, ADMIN_ROLES)
    client.active, client.revoked_at = False, utcnow()
    audit.act("open311.client_revoked", client_id=client.id)
    return client


def client_for_key(key: str | None) -> Open311Client | None:
    if not key:
        return None
    client = db.session.scalar(select(Open311Client).where(Open311Client.key_hash == _hash(key)))
    if client is None or not client.active:
        raise Unauthorized("api_key 无效或已停用。")
    return client


# -- services ---------------------------------------------------------------------------------------

def services() -> list[dict]:
    rows = db.session.scalars(select(Category).where(Category.active.is_(True)).order_by(Category.id))
    return [_service(c) for c in rows]


def _service(category: Category) -> dict:
    return {"service_code": str(category.id), "service_name": category.name,
            "description": f"受理时限 {category.accept_hours} 小时，办理时限 {category.handle_hours} 小时",
            "metadata": False, "type": "realtime", "keywords": "", "group": "事件上报"}


def service_definition(code: str) -> dict:
    category = _category(code)
    return {"service_code": str(category.id), "attributes": []}


def _category(code: str) -> Category:
    category = db.session.get(Category, int(code)) if str(code).isdigit() else None
    if category is None or not category.active:
        raise NotFound("service_code 不存在。")
    return category


# -- requests -----------------------------------------------------------------------------------------

def create_request(client: Open311Client | None, form: dict) -> dict:
    """POST requests: a case at a WGS-84 point (or a coded place: address_id), filed under the client."""
    if client is None:
        raise Unauthorized("创建服务请求须提供 api_key。")
    category = _category(form.get("service_code") or "")
    description = (form.get("description") or "").strip()
    if not description:
        raise Invalid("description 不能为空。", errors={"description": ["不能为空"]})
    actor = actor_for(db.session.get(User, client.user_id))
    place_id = form.get("address_id")
    location = None
    if form.get("lat") not in (None, "") and form.get("long") not in (None, ""):
        try:
            lat, lng = float(form["lat"]), float(form["long"])
        except ValueError:
            raise Invalid("lat/long 须为数字。", errors={"lat": ["无效"]}) from None
        glat, glng = datum.wgs84_to_gcj02(lat, lng)
        location = {"latitude": glat, "longitude": glng, "address": (form.get("address_string") or "")[:200]}
    elif not place_id:
        raise Invalid("须提供 lat/long 或 address_id。", errors={"lat": ["必填"]})
    filed = cases.report_case(actor, category_id=category.id, description=description[:500],
                              place_id=int(place_id) if place_id and str(place_id).isdigit() else None,
                              location=location)
    if not filed.case.area_path.startswith(client.area_path):
        raise Forbidden("该位置不在本接入平台的辖区内。")
    audit.act("open311.request_created", client_id=client.id, case_id=filed.case.id)
    return {"service_request_id": str(filed.case.id), "service_notice": "", "account_id": None}


def list_requests(client: Open311Client | None, args: dict) -> list[dict]:
    stmt = select(Case).options(*cases.LOAD).order_by(Case.id.desc()).limit(MAX_RESULTS)
    stmt = stmt.where(*_visible(client))
    ids = [int(i) for i in (args.get("service_request_id") or "").split(",") if i.strip().isdigit()]
    if ids:
        stmt = stmt.where(Case.id.in_(ids))
    else:
        codes = [int(c) for c in (args.get("service_code") or "").split(",") if c.strip().isdigit()]
        if codes:
            stmt = stmt.where(Case.category_id.in_(codes))
        end = _when(args.get("end_date")) or utcnow()
        start = _when(args.get("start_date")) or end - DEFAULT_WINDOW
        stmt = stmt.where(Case.created_at >= start, Case.created_at <= end)
        wanted = [s.strip() for s in (args.get("status") or "").split(",") if s.strip()]
        if wanted:
            states = [state for group in wanted if group in GROUPS for state in GROUPS[group]]
            stmt = stmt.where(Case.status.in_(states))
    return [_request(c, full=client is not None) for c in db.session.scalars(stmt)]


def get_request(client: Open311Client | None, request_id: str) -> list[dict]:
    case = db.session.scalar(select(Case).options(*cases.LOAD).where(
        Case.id == (int(request_id) if request_id.isdigit() else -1), *_visible(client)))
    if case is None:
        raise NotFound("service_request_id 不存在。")
    return [_request(case, full=client is not None)]


def _visible(client: Open311Client | None) -> tuple:
    if client is not None:
        return (Case.area_path.startswith(client.area_path, autoescape=True),)
    return (Case.moderation == MODERATION_PASS,)


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid("日期须为 W3C 格式，例如 2026-12-01T00:00:00Z。", errors={"start_date": ["格式错误"]}) from None


def _w3c(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


PUBLIC_DECIMALS = 3     # about 100 m: enough to see where problems cluster, not whose door it is


def _request(case: Case, *, full: bool) -> dict:
    """One case as a GeoReport service request. The public view (no key) leaves out what our own pages keep
    private: the description, the place and address (a reporter's own building, often), and the exact point."""
    lat = lng = None
    if case.location_lat is not None:
        lat, lng = datum.gcj02_to_wgs84(case.location_lat, case.location_lng)
        if not full:
            lat, lng = round(lat, PUBLIC_DECIMALS), round(lng, PUBLIC_DECIMALS)
    return {
        "service_request_id": str(case.id), "status": "closed" if case.status in GROUPS["closed"] else "open",
        "status_notes": STATE_LABELS[case.status], "service_name": case.category.name,
        "service_code": str(case.category_id), "description": case.description if full else "",
        "agency_responsible": case.department.name if case.department else "", "service_notice": "",
        "requested_datetime": _w3c(case.created_at), "updated_datetime": _w3c(case.closed_at or case.accepted_at
                                                                           or case.created_at),
        "expected_datetime": _w3c(case.due_at), "address": case.where if full else "",
        "address_id": case.place_id if full else None,
        "zipcode": "", "lat": lat, "long": lng, "media_url": "",
    }


def list_clients(actor: Actor) -> list[Open311Client]:
    """The clients over areas the actor administers, newest first (at most 200: there are a handful)."""
    return list(db.session.scalars(select(Open311Client).where(scope_filter(actor, Open311Client.area_path,
                                                                            ADMIN_ROLES))
                                   .order_by(Open311Client.id.desc()).limit(200)))
