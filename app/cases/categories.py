"""Report categories with their time limits, and the canned replies staff keep for each."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.models import ADMIN_ROLES, STREET_ADMIN, SYSTEM_ADMIN
from app.cases.models import CannedReply, Category
from app.core.errors import Forbidden, Invalid, NotFound
from app.core.pagination import Page, paginate
from app.core.scoping import Actor
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
    return category


def add_canned_reply(actor: Actor, category_id: int, *, title: str, body: str) -> CannedReply:
    _require(actor, *ADMIN_ROLES)
    category = get_category(category_id)
    reply = CannedReply(category_id=category.id, title=title.strip(), body=body.strip())
    db.session.add(reply)
    db.session.flush()
    return reply


def delete_canned_reply(actor: Actor, reply_id: int) -> None:
    _require(actor, *ADMIN_ROLES)
    reply = db.session.get(CannedReply, reply_id)
    if reply is None:
        raise NotFound("回复模板不存在。")
    db.session.delete(reply)
    db.session.flush()
