"""Users and roles within an admin's scope: who may see, create and grant what, on top of the accounts verbs.

An admin sees the staff holding a role in their subtree, and grants only roles below their own,
over areas they cover. The accounts service does the writing (create_user, grant_role)."""
from __future__ import annotations

from sqlalchemy import select

from app.accounts import service as accounts
from app.accounts.models import (
    ADMIN_ROLES,
    COMMUNITY_ADMIN,
    DEPARTMENT,
    GRID_WORKER,
    REPRESENTATIVE,
    STREET_ADMIN,
    SYSTEM_ADMIN,
    RoleGrant,
    User,
)
from app.areas.models import COMMUNITY, GRID, STREET, Area, Department
from app.core.crypto import mask_phone
from app.core.errors import Forbidden, Invalid, NotFound
from app.core.pagination import Page, paginate
from app.core.scoping import Actor, require_scope, scope_filter
from app.extensions import db

# Roles each admin may grant, and the area levels each role is granted on.
GRANTABLE = {
    SYSTEM_ADMIN: (STREET_ADMIN, COMMUNITY_ADMIN, GRID_WORKER, DEPARTMENT, REPRESENTATIVE),
    STREET_ADMIN: (COMMUNITY_ADMIN, GRID_WORKER, DEPARTMENT, REPRESENTATIVE),
    COMMUNITY_ADMIN: (GRID_WORKER,),
}
ROLE_LEVELS = {STREET_ADMIN: (STREET,), COMMUNITY_ADMIN: (COMMUNITY,), GRID_WORKER: (GRID,),
               REPRESENTATIVE: (STREET, COMMUNITY), DEPARTMENT: ()}


def grantable_roles(actor: Actor) -> list[str]:
    roles: list[str] = []
    for admin_role, grantable in GRANTABLE.items():
        if (admin_role == SYSTEM_ADMIN and actor.is_system_admin) or actor.paths([admin_role]):
            roles.extend(r for r in grantable if r not in roles)
    return roles


def list_staff(actor: Actor, *, limit: int | None = None, cursor: str | None = None) -> Page:
    """Staff with at least one role inside the admin's subtree, with all their grants."""
    if not actor.has_role(*ADMIN_ROLES):
        raise Forbidden("只有管理员可以管理人员。")
    in_scope = select(RoleGrant.user_id).where(scope_filter(actor, RoleGrant.area_path, ADMIN_ROLES),
                                               RoleGrant.role != SYSTEM_ADMIN)
    stmt = select(User).where(User.username.is_not(None), User.id.in_(in_scope))
    return paginate(stmt, User.id, limit=limit, cursor=cursor)


def grant_places(users: list[User]) -> dict[int, str]:
    """grant id → the area (and department) it is held over, for a page of users: two queries."""
    grants = [g for u in users for g in u.grants]
    area_ids = {g.area_id for g in grants if g.area_id}
    dept_ids = {g.department_id for g in grants if g.department_id}
    areas = dict(db.session.execute(select(Area.id, Area.name).where(Area.id.in_(area_ids))).all()) if area_ids else {}
    depts = dict(db.session.execute(select(Department.id, Department.name)
                                    .where(Department.id.in_(dept_ids))).all()) if dept_ids else {}
    return {g.id: depts.get(g.department_id) or areas.get(g.area_id) or "全域" for g in grants}


def masked_phones(users: list[User]) -> dict[int, str]:
    return {u.id: mask_phone(accounts.phone_of(u)) for u in users if u.phone_encrypted}


def areas_for(actor: Actor) -> list[Area]:
    """The streets, communities and grids an admin may grant roles over."""
    stmt = (select(Area).where(scope_filter(actor, Area.path, ADMIN_ROLES), Area.level.in_((STREET, COMMUNITY, GRID)))
            .order_by(Area.path))
    return list(db.session.scalars(stmt))


def departments_for(actor: Actor) -> list[Department]:
    """The departments an admin may grant the department role over: those whose own area lies in their
    scope. A department above the admin's area (one they may dispatch to) is not theirs to staff."""
    stmt = select(Department).where(scope_filter(actor, Department.area_path, ADMIN_ROLES)).order_by(Department.name)
    return list(db.session.scalars(stmt))


def require_manageable(actor: Actor, user: User) -> None:
    """An admin changes the roles of staff wholly inside their scope, and never their own.

    Every grant the user holds must lie in the admin's subtree: a grant elsewhere means someone
    else manages that person (a system admin manages everyone but themselves)."""
    if user.id == actor.user_id:
        raise Forbidden("不能更改自己的角色。")
    if actor.is_system_admin:
        return
    grants = list(user.grants)
    if not grants or any(g.role == SYSTEM_ADMIN or not actor.covers(g.area_path, ADMIN_ROLES) for g in grants):
        raise Forbidden("该人员不在您的管辖范围内。")


def _check_grant(actor: Actor, role: str, area_id: int | None, department_id: int | None) -> tuple[int | None, int | None]:
    if role not in grantable_roles(actor):
        raise Forbidden("您不能授予该角色。")
    if role == DEPARTMENT:
        if department_id is None:
            raise Invalid("请选择职能部门。", errors={"department_id": ["必填"]})
        department = db.session.get(Department, department_id)
        if department is None:
            raise NotFound("部门不存在。")
        # The department's own area, not the areas it may be dispatched to.
        if not actor.covers(department.area_path, ADMIN_ROLES):
            raise Forbidden("该部门不在您的管辖范围内。")
        return department.area_id, department_id
    if area_id is None:
        raise Invalid("请选择管辖区域。", errors={"area_id": ["必填"]})
    area = db.session.get(Area, area_id)
    if area is None:
        raise NotFound("区域不存在。")
    require_scope(actor, area.path, ADMIN_ROLES)
    if area.level not in ROLE_LEVELS[role]:
        raise Invalid(f"该角色应授予在{'、'.join({STREET: '街道', COMMUNITY: '社区', GRID: '网格'}[lv] for lv in ROLE_LEVELS[role])}一级。",
                      errors={"area_id": ["层级不符"]})
    return area.id, None


def create_staff(actor: Actor, *, username: str, password: str, display_name: str, role: str,
                 area_id: int | None = None, department_id: int | None = None, phone: str | None = None) -> User:
    username = (username or "").strip()
    if not username or len(username) > 64 or not username.replace("_", "").isalnum() or not username.isascii():
        raise Invalid("用户名只能由字母、数字和下划线组成。", errors={"username": ["格式不正确"]})
    area_id, department_id = _check_grant(actor, role, area_id, department_id)
    phone = accounts.normalise_phone(phone) if phone else None
    return accounts.create_user(username, password, role=role, area_id=area_id, department_id=department_id,
                                display_name=(display_name or "").strip()[:64], phone=phone)


def grant(actor: Actor, user_id: int, *, role: str, area_id: int | None = None,
          department_id: int | None = None) -> RoleGrant:
    user = db.session.get(User, user_id)
    if user is None or user.username is None:
        raise NotFound("人员不存在。")
    require_manageable(actor, user)
    area_id, department_id = _check_grant(actor, role, area_id, department_id)
    return accounts.grant_role(user, role, area_id=area_id, department_id=department_id)


def revoke(actor: Actor, grant_id: int) -> None:
    row = db.session.get(RoleGrant, grant_id)
    if row is None:
        raise NotFound("角色不存在。")
    user = db.session.get(User, row.user_id)
    require_manageable(actor, user)
    if row.role not in grantable_roles(actor):
        raise Forbidden("您不能撤销该角色。")
    require_scope(actor, row.area_path, ADMIN_ROLES)
    user.grants.remove(row)
    db.session.flush()
