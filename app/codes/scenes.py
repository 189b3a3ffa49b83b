"""Which place a scanned scene names: the one home of that rule.

A scene names the place of the active code that carries it, while that place is active; a scene
that is empty, too long, unknown, disabled or on a closed place names nothing (404, INVALID_SCENE).
The hot paths (the scan, filing a report) put `scene_names_place` into their single statements.
"""
from __future__ import annotations

from sqlalchemy import bindparam, select

from app.areas.models import Place
from app.codes.models import INVALID_SCENE, Code
from app.core.errors import NotFound
from app.extensions import db

MAX_SCENE = 32  # WeChat's limit for the scene of an unlimited mini-program code


def scene_names_place(codes=Code.__table__, places=Place.__table__, scene=None) -> tuple:
    """WHERE clauses over a join of `codes` to `places` (on the code's place): the active code with
    `scene` (by default the bound parameter "scene"), on an active place."""
    return (codes.c.scene == (bindparam("scene") if scene is None else scene),
            codes.c.active.is_(True), places.c.active.is_(True))


def check_scene(scene: str | None) -> str:
    """The scene, or 404 before any query when it cannot name a place."""
    if not scene or len(scene) > MAX_SCENE:
        raise NotFound(INVALID_SCENE)
    return scene


def place_for_scene(scene: str | None) -> Place:
    """The place a scanned scene names; 404 (INVALID_SCENE) when it names none."""
    place = db.session.scalar(select(Place).join(Code, Code.place_id == Place.id)
                              .where(*scene_names_place(scene=check_scene(scene))))
    if place is None:
        raise NotFound(INVALID_SCENE)
    return place
