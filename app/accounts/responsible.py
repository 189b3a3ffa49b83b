"""Who answers for a place: the active users who hold a role over its grid or over an area above it.

The one home of that rule. The hot paths (filing a report, scanning a code) compose `holders_of`
into their single statements; everything else asks `holders` or `grid_workers_of`.
"""
from __future__ import annotations

from sqlalchemy import Select, func, select

from app.accounts.models import RoleGrant, User
from app.core.scoping import GRID_WORKER
from app.extensions import db

_users, _grants = User.__table__, RoleGrant.__table__


def ancestor_ids(area_path: str) -> list[int]:
    """The ids of the areas on a materialised path, from the district down to the area itself."""
    return [int(part) for part in area_path.strip("/").split("/") if part]


def holders_of(role: str, area_ids) -> Select:
    """A SELECT of the active users holding `role` on one of `area_ids` (a list, or a subquery of ids).

    Columns: user_id, name (display name, else username), phone_encrypted, depth (the length of the
    grant's area path: the deeper, the nearer the place)."""
    return (
        select(_users.c.id.label("user_id"),
               func.coalesce(func.nullif(_users.c.display_name, ""), _users.c.username).label("name"),
               _users.c.phone_encrypted, func.length(_grants.c.area_path).label("depth"))
        .select_from(_users.join(_grants, _grants.c.user_id == _users.c.id))
        .where(_grants.c.role == role, _grants.c.area_id.in_(area_ids), _users.c.is_active.is_(True))
    )


def holders(role: str, area_path: str) -> list[int]:
    """The ids of the active users holding `role` over `area_path`, in id order, each once."""
    rows = db.session.scalars(holders_of(role, ancestor_ids(area_path)).with_only_columns(_users.c.id)
                              .distinct().order_by(_users.c.id))
    return list(rows)


def grid_workers_of(area_path: str) -> list[int]:
    """The grid workers who answer for a place (on its grid, or on an area above it)."""
    return holders(GRID_WORKER, area_path)
