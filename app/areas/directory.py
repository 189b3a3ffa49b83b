"""The public directory of places: a resident without a QR code picks the community, then finds the place
(building, shop, outdoor spot) by a word of its name or address, grouped by grid."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from app.areas.models import COMMUNITY, Area, Place
from app.areas.service import area_chain, get_community
from app.core.errors import NotFound
from app.extensions import db

MAX_RESULTS = 60


def find_places(community_id: int | None, q: str = "") -> list[Place]:
    """Active places of a community, by name then grid; `q` narrows them to a word of the name or address."""
    community = get_community(community_id)
    if community is None:
        return []
    stmt = (select(Place).join(Area, Area.id == Place.grid_id)
            .where(Place.active.is_(True), Place.area_path.startswith(community.path, autoescape=True)))
    q = (q or "").strip()[:50]
    if q:
        pattern = f"%{q.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(Place.name.like(pattern), Place.address.like(pattern)))
    return list(db.session.scalars(stmt.order_by(Area.name, Place.name).limit(MAX_RESULTS)))


@dataclass(frozen=True)
class PlaceCard:
    """What a page shows of a place reached without a code (the shape of a scan's place, grid, community)."""

    place: Place
    grid: Area
    community: Area


def public_place(place_id: int) -> PlaceCard:
    """An active place with its grid and community, for a report filed without a code."""
    place = db.session.get(Place, place_id)
    if place is None or not place.active:
        raise NotFound("场所不存在或已停用。")
    return PlaceCard(place, place.grid, area_chain(place.area_path)[COMMUNITY])
