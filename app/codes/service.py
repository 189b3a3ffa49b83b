"""Verbs for codes: resolve a scene, issue in bulk, disable, rotate. Images live in images.py."""
from __future__ import annotations

from sqlalchemy import select

from app.areas.models import Place
from app.codes.models import Code
from app.core.errors import NotFound
from app.extensions import db

INVALID_SCENE = "二维码无效或已停用。"


def place_for_scene(scene: str) -> Place:
    """The place a scanned scene points at; unknown, disabled or inactive-place scenes are 404."""
    if not scene or len(scene) > 32:
        raise NotFound(INVALID_SCENE)
    place = db.session.scalar(
        select(Place).join(Code, Code.place_id == Place.id)
        .where(Code.scene == scene, Code.active.is_(True), Place.active.is_(True))
    )
    if place is None:
        raise NotFound(INVALID_SCENE)
    return place
