"""Verbs for the area tree, places and departments. Every read and write is scoped."""
from __future__ import annotations

from sqlalchemy import select

from app.areas.models import (
    CHILD_LEVEL,
    COMMUNITY,
    DISTRICT,
    GRID,
    LEVEL_LABELS,
    PLACE_KINDS,
    Area,
    Department,
    Place,
)
from app.core.errors import Invalid, NotFound
from app.core.pagination import Page, paginate
from app.core.scoping import ADMIN_ROLES, STAFF_ROLES, Actor, require_scope, scope_filter
from app.extensions import db


def get_area(area_id: int) -> Area:
    area = db.session.get(Area, area_id)
    if area is None:
        raise NotFound("区域不存在。")
    return area


def create_area(actor: Actor, *, name: str, level: str, parent_id: int | None) -> Area:
    if parent_id is None:
        if level != DISTRICT:
            raise Invalid("只有区县可以没有上级区域。", errors={"parent_id": ["必填"]})
        if not actor.is_system_admin:
            require_scope(actor, None, ADMIN_ROLES)
        parent = None
    else:
        parent = get_area(parent_id)
        require_scope(actor, parent.path, ADMIN_ROLES)
        expected = CHILD_LEVEL.get(parent.level)
        if expected != level:
            want = LEVEL_LABELS.get(expected, "无") if expected else "无（网格下不能再建区域）"
            raise Invalid(f"{parent.level_label}的下级应为{want}。", errors={"level": [f"应为 {expected}"]})
    area = Area(name=name.strip(), level=level, parent_id=parent_id)
    db.session.add(area)
    db.session.flush()
    area.path = f"{parent.path if parent else '/'}{area.id}/"
    return area


def list_areas(actor: Actor, *, parent_id: int | None = None, level: str | None = None,
               limit: int | None = None, cursor: str | None = None) -> Page:
    stmt = select(Area).where(scope_filter(actor, Area.path, STAFF_ROLES))
    if parent_id is not None:
        stmt = stmt.where(Area.parent_id == parent_id)
    if level:
        stmt = stmt.where(Area.level == level)
    return paginate(stmt, Area.id, limit=limit, cursor=cursor)


def scoped_area(actor: Actor, area_id: int, roles=STAFF_ROLES) -> Area:
    area = get_area(area_id)
    require_scope(actor, area.path, roles)
    return area


def areas_in_scope(actor: Actor, roles=STAFF_ROLES, *, levels: tuple[str, ...] | None = None,
                   limit: int | None = None) -> list[Area]:
    """The areas `actor` covers under `roles` (optionally of some levels), in tree order: the console's filters."""
    stmt = select(Area).where(scope_filter(actor, Area.path, roles))
    if levels is not None:
        stmt = stmt.where(Area.level.in_(levels))
    return list(db.session.scalars(stmt.order_by(Area.path).limit(limit)))


def communities() -> list[Area]:
    """Every community (社区/村), in tree order: the public pages' choice of community."""
    return list(db.session.scalars(select(Area).where(Area.level == COMMUNITY).order_by(Area.path)))


def get_community(community_id: int | None) -> Area | None:
    """The community with this id, or None (no id, no such area, or not a community)."""
    if community_id is None:
        return None
    area = db.session.get(Area, community_id)
    return area if area is not None and area.level == COMMUNITY else None


def create_place(actor: Actor, *, grid_id: int, name: str, kind: str, address: str = "") -> Place:
    grid = get_area(grid_id)
    require_scope(actor, grid.path, ADMIN_ROLES)
    if grid.level != GRID:
        raise Invalid("场所只能挂在网格下。", errors={"grid_id": ["应为网格"]})
    if kind not in PLACE_KINDS:
        raise Invalid("场所类型无效。", errors={"kind": [f"应为以下之一：{'、'.join(PLACE_KINDS)}"]})
    place = Place(grid_id=grid.id, grid=grid, name=name.strip(), kind=kind, address=address.strip(),
                  area_path=grid.path)
    db.session.add(place)
    db.session.flush()
    return place


def list_places(actor: Actor, *, area_id: int | None = None, limit: int | None = None,
                cursor: str | None = None) -> Page:
    stmt = select(Place).where(scope_filter(actor, Place.area_path, STAFF_ROLES))
    if area_id is not None:
        stmt = stmt.where(Place.area_path.startswith(get_area(area_id).path, autoescape=True))
    return paginate(stmt, Place.id, limit=limit, cursor=cursor)


def get_place(place_id: int) -> Place:
    place = db.session.get(Place, place_id)
    if place is None:
        raise NotFound("场所不存在。")
    return place


def update_place(actor: Actor, place_id: int, **changes) -> Place:
    place = get_place(place_id)
    require_scope(actor, place.area_path, ADMIN_ROLES)
    for key in ("name", "address", "kind", "active"):
        if changes.get(key) is not None:
            setattr(place, key, changes[key])
    return place


def create_department(actor: Actor, *, name: str, area_id: int) -> Department:
    area = get_area(area_id)
    require_scope(actor, area.path, ADMIN_ROLES)
    department = Department(name=name.strip(), area_id=area.id, area=area, area_path=area.path)
    db.session.add(department)
    db.session.flush()
    return department


def departments_in_scope(actor: Actor, roles=ADMIN_ROLES) -> list[Department]:
    """Departments an admin may dispatch to: those at or above (or under) their areas."""
    paths = [] if actor.is_system_admin else actor.paths(roles)
    stmt = select(Department).order_by(Department.name)
    if not actor.is_system_admin:
        if not paths:
            return []
        rows = db.session.scalars(stmt).all()
        return [d for d in rows if any(p.startswith(d.area_path) or d.area_path.startswith(p) for p in paths)]
    return list(db.session.scalars(stmt))


def area_chain(area_path: str) -> dict[str, Area]:
    """The ancestors of a path, keyed by level: one query."""
    ids = [int(x) for x in area_path.strip("/").split("/") if x]
    rows = db.session.scalars(select(Area).where(Area.id.in_(ids))).all()
    return {a.level: a for a in rows}
