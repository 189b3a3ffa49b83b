"""Helpers for the wish and party-member tests: a registered member, a posted wish, a proof photo, an inbox."""
from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from app.core.time import to_local, utcnow
from app.extensions import db
from app.notifications.models import Notification

ADMINS = {"东城社区": "east_admin", "西园社区": "west_admin"}


def me(api) -> dict:
    res = api.get("/me")
    assert res.status_code == 200, res.get_json()
    return res.get_json()


def photo(api) -> int:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(buffer, "JPEG")
    res = api.client.post("/mp/v1/uploads", data={"file": (io.BytesIO(buffer.getvalue()), "proof.jpg")},
                          headers=api.headers(), content_type="multipart/form-data")
    assert res.status_code == 201, res.get_json()
    return res.get_json()["id"]


def new_member(login, areas, *, name="张卫东", community="东城社区", grid=None, skills=(), org="县财政局机关党支部",
               admin=None):
    """A resident who registered at `community` and was approved by its admin: (api, registration)."""
    api = login.resident()
    body = {"name": name, "org_name": org, "community_id": areas[community].id, "skills": list(skills),
            "availability": "周末"}
    if grid:
        body["grid_id"] = areas[grid].id
    res = api.post("/party-members", json=body)
    assert res.status_code == 201, res.get_json()
    res = (admin or login(ADMINS[community])).post(f"/party-members/{res.get_json()['id']}/transitions",
                                        json={"action": "approve"})
    assert res.status_code == 200, res.get_json()
    return api, res.get_json()


def post_wish(api, areas, **overrides) -> dict:
    body = {
        "title": "家里水管漏水想请人修", "detail": "厨房水管接头一直滴水。", "category": "repair",
        "desired_date": (to_local(utcnow()).date() + timedelta(days=3)).isoformat(),
        "community_id": areas["东城社区"].id, "grid_id": areas["东城社区第一网格"].id,
        "address": "东城小区2号楼1单元301", "contact_phone": "13912345678", "contact_name": "孙桂芳",
    } | overrides
    res = api.post("/wishes", json=body)
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def act(api, wish_id: int, action: str, status: int = 200, **data) -> dict:
    res = api.post(f"/wishes/{wish_id}/transitions", json={"action": action, **data})
    assert res.status_code == status, res.get_json()
    return res.get_json()


def inbox(user_id: int, kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(
        Notification.user_id == user_id, Notification.kind == kind)))
