"""Report categories with their time limits, and the canned replies staff keep for each.

A canned reply belongs to an area: county-wide ones (kept by system admins), a street's, a
community's. Staff see the replies of their own area chain; admins add replies for their area
and delete only the replies inside their scope."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.models import ADMIN_ROLES, STAFF_ROLES, STREET_ADMIN, SYSTEM_ADMIN
from app.areas.models import Area
from app.cases.models import CannedReply, Category
from app.core import audit
from app.core.errors import Forbidden, Invalid, NotFound
from app.core.pagination import Page, paginate
from app.core.scoping import Actor, require_scope
from app.extensions import db

MAX_LIMIT_HOURS = 24 * 90


def _require(actor: Actor, *roles: str) -> None:
    if not actor.has_role(*roles):
        raise Forbidden("只有管理员可以维护问题类别和回复模板。")


def list_categories(actor: Actor, *, include_inactive: bool = False, limit: int | None = None,
                    cursor: str | None = None) -> Page:
    stmt = select(Category).options(selectinload(Category.canned_replies))
    if not (include_inactive and actor.has_role(*ADMIN_ROLES)):
        stmt = stmt.where(Category.active.is_(True))
    return paginate(stmt, Category.id, limit=limit, cursor=cursor)


def get_category(category_id: int) -> Category:
    category = db.session.scalar(select(Category).options(selectinload(Category.canned_replies))
                                 .where(Category.id == category_id))
    if category is None:
        raise NotFound("问题类别不存在。")
    return category


def _check_limits(accept_hours: int | None, handle_hours: int | None) -> None:
    for key, value in (("accept_hours", accept_hours), ("handle_hours", handle_hours)):
        if value is not None and not 1 <= value <= MAX_LIMIT_HOURS:
            raise Invalid(f"时限应在 1 到 {MAX_LIMIT_HOURS} 小时之间。", errors={key: ["超出范围"]})


def create_category(actor: Actor, *, name: str, accept_hours: int, handle_hours: int,
                    working_days: bool = False) -> Category:
    _require(actor, SYSTEM_ADMIN, STREET_ADMIN)
    name = name.strip()
    if db.session.scalar(select(Category.id).where(Category.name == name)):
        raise Invalid("已有同名的问题类别。", errors={"name": ["重名"]})
    _check_limits(accept_hours, handle_hours)
    category = Category(name=name, accept_hours=accept_hours, handle_hours=handle_hours,
                        working_days=working_days, active=True)
    db.session.add(category)
    db.session.flush()
    audit.act("category.create", id=category.id, category=name)
    return get_category(category.id)


def update_category(actor: Actor, category_id: int, **changes) -> Category:
    """Changed limits apply to deadlines set from now on; running deadlines keep theirs."""
    _require(actor, SYSTEM_ADMIN, STREET_ADMIN)
    category = get_category(category_id)
    _check_limits(changes.get("accept_hours"), changes.get("handle_hours"))
    if changes.get("name"):
        name = changes["name"].strip()
        if db.session.scalar(select(Category.id).where(Category.name == name, Category.id != category.id)):
            raise Invalid("已有同名的问题类别。", errors={"name": ["重名"]})
        category.name = name
    for key in ("accept_hours", "handle_hours", "working_days", "active"):
        if changes.get(key) is not None:
            setattr(category, key, changes[key])
    db.session.flush()
    audit.act("category.update", id=category.id, changes={k: v for k, v in changes.items() if v is not None})
    return category


def sees_reply(actor: Actor, reply: CannedReply) -> bool:
    """A reply of the actor's area chain (above or at one of their areas), or one an admin manages."""
    if actor.is_system_admin:
        return True
    return (any(path.startswith(reply.area_path) for path in actor.paths(STAFF_ROLES))
            or actor.covers(reply.area_path, ADMIN_ROLES))


def visible_replies(actor: Actor, replies: list[CannedReply]) -> list[CannedReply]:
    return [r for r in replies if sees_reply(actor, r)]


def replies_for_case(case) -> list[CannedReply]:
    """The replies offered on a case: its category's, from the areas above (or at) the case's place."""
    return [r for r in get_category(case.category_id).canned_replies if case.area_path.startswith(r.area_path)]


def _reply_area(actor: Actor, area_id: int | None) -> Area | None:
    """The area a new reply belongs to: the one chosen inside the admin's scope, else the admin's own."""
    if area_id is not None:
        area = db.session.get(Area, area_id)
        if area is None:
            raise NotFound("区域不存在。")
        require_scope(actor, area.path, ADMIN_ROLES)
        return area
    if actor.is_system_admin:
        return None
    own = {g.area_id for g in actor.grants if g.role in ADMIN_ROLES and g.area_id is not None}
    if len(own) != 1:
        raise Invalid("请选择回复模板适用的区域。", errors={"area_id": ["必填"]})
    return db.session.get(Area, own.pop())


def add_canned_reply(actor: Actor, category_id: int, *, title: str, body: str,
                     area_id: int | None = None) -> CannedReply:
    _require(actor, *ADMIN_ROLES)
    area = _reply_area(actor, area_id)
    category = get_category(category_id)
    reply = CannedReply(category_id=category.id, title=title.strip(), body=body.strip(),
                        area_id=area.id if area else None, area_path=area.path if area else "/")
    db.session.add(reply)
    db.session.flush()
    audit.act("canned_reply.create", id=reply.id, category_id=category.id, area_id=reply.area_id)
    return reply


def delete_canned_reply(actor: Actor, reply_id: int) -> None:
    _require(actor, *ADMIN_ROLES)
    reply = db.session.get(CannedReply, reply_id)
    if reply is None or not sees_reply(actor, reply):
        raise NotFound("回复模板不存在。")
    require_scope(actor, reply.area_path, ADMIN_ROLES)
    audit.act("canned_reply.delete", id=reply.id, title=reply.title)
    db.session.delete(reply)
    db.session.flush()
