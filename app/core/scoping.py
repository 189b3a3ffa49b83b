"""The one place that turns a user's role grants into query filters and checks, and names the roles.

Every staff query goes through `scope_filter` or `require_scope`, so an unscoped query
cannot be written by accident: there is no other way to learn which areas a user covers.
"Which role does this actor act under over this area" is `role_over` (any roles) and
`admin_role` (the admins of an area), and nowhere else.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, false, or_, true

from app.core.errors import OutOfScope

SYSTEM_ADMIN = "system_admin"
STREET_ADMIN = "street_admin"
COMMUNITY_ADMIN = "community_admin"
GRID_WORKER = "grid_worker"
DEPARTMENT = "department"
REPRESENTATIVE = "representative"
PARTY_MEMBER = "party_member"

ROLES = (SYSTEM_ADMIN, STREET_ADMIN, COMMUNITY_ADMIN, GRID_WORKER, DEPARTMENT, REPRESENTATIVE, PARTY_MEMBER)
STAFF_ROLES = (SYSTEM_ADMIN, STREET_ADMIN, COMMUNITY_ADMIN, GRID_WORKER, DEPARTMENT, REPRESENTATIVE)
# The roles that administer an area (scope filters: a system admin passes every filter anyway).
ADMIN_ROLES = (SYSTEM_ADMIN, STREET_ADMIN, COMMUNITY_ADMIN)
# The admins of an area by grant, the nearest first: an actor who is both acts as the community's admin.
AREA_ADMIN_ROLES = (COMMUNITY_ADMIN, STREET_ADMIN)


@dataclass(frozen=True)
class Grant:
    role: str
    area_path: str
    area_id: int | None = None
    department_id: int | None = None


@dataclass
class Actor:
    """Who is acting: the user (None for anonymous) and their grants."""

    user_id: int | None
    grants: tuple[Grant, ...] = field(default_factory=tuple)

    @classmethod
    def anonymous(cls) -> Actor:
        return cls(user_id=None)

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def is_system_admin(self) -> bool:
        return any(g.role == SYSTEM_ADMIN for g in self.grants)

    @property
    def roles(self) -> set[str]:
        return {g.role for g in self.grants}

    def has_role(self, *roles: str) -> bool:
        return self.is_system_admin or any(g.role in roles for g in self.grants)

    def paths(self, roles: Iterable[str]) -> list[str]:
        wanted = set(roles)
        return sorted({g.area_path for g in self.grants if g.role in wanted})

    def covers(self, area_path: str | None, roles: Iterable[str]) -> bool:
        """True when one of `roles` is granted over an ancestor of (or at) `area_path`."""
        if self.is_system_admin:
            return True
        if not area_path:
            return False
        return any(area_path.startswith(p) for p in self.paths(roles))

    def department_ids(self) -> set[int]:
        return {g.department_id for g in self.grants if g.department_id is not None}


def role_over(actor: Actor, area_path: str | None, roles: Iterable[str]) -> str | None:
    """The first of `roles` the actor holds over `area_path`; a system admin acts as themselves."""
    if actor.is_system_admin:
        return SYSTEM_ADMIN
    if not area_path:
        return None
    for role in roles:
        if any(g.role == role and area_path.startswith(g.area_path) for g in actor.grants):
            return role
    return None


def admin_role(actor: Actor, area_path: str | None) -> str | None:
    """The role under which `actor` administers `area_path` (system, community or street admin), if any."""
    return role_over(actor, area_path, AREA_ADMIN_ROLES)


def scope_filter(actor: Actor, path_column, roles: Iterable[str]) -> ColumnElement[bool]:
    """A WHERE clause limiting `path_column` to the subtrees `actor` holds `roles` over."""
    if actor.is_system_admin:
        return true()
    paths = _minimal(actor.paths(roles))
    if not paths:
        return false()
    return or_(*(path_column.startswith(p, autoescape=True) for p in paths))


def require_scope(actor: Actor, area_path: str | None, roles: Iterable[str]) -> None:
    if not actor.covers(area_path, roles):
        raise OutOfScope()


def _minimal(paths: list[str]) -> list[str]:
    """Drop paths already covered by an ancestor, so the OR stays short."""
    kept: list[str] = []
    for p in sorted(paths, key=len):
        if not any(p.startswith(k) for k in kept):
            kept.append(p)
    return kept
