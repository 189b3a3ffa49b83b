"""Read-only facts for the public pages: community names and the wish pool in figures, never a person."""
from __future__ import annotations

from sqlalchemy import func, select

from app.areas.models import COMMUNITY, Area
from app.core.pagination import Page, paginate
from app.extensions import db
from app.moderation import service as moderation


def communities() -> list[Area]:
    return list(db.session.scalars(select(Area).where(Area.level == COMMUNITY).order_by(Area.path)))


def community_or_none(community_id: int | None) -> Area | None:
    if community_id is None:
        return None
    area = db.session.get(Area, community_id)
    return area if area is not None and area.level == COMMUNITY else None


def wish_figures(community_id: int | None = None) -> dict:
    """How many wishes wait, are being served and came true, overall and by category."""
    from app.wishes.models import APPROVED, CATEGORIES, CLAIMED, CONFIRMED, FULFILLED, Wish

    where = [Wish.status.in_((APPROVED, CLAIMED, FULFILLED, CONFIRMED))]
    if community_id is not None:
        where.append(Wish.community_id == community_id)
    rows = db.session.execute(select(Wish.status, Wish.category, func.count(Wish.id), func.sum(Wish.hours))
                              .where(*where).group_by(Wish.status, Wish.category)).all()
    totals = {"waiting": 0, "serving": 0, "done": 0, "hours": 0.0}
    by_category: dict[str, int] = {}
    for status, category, count, hours in rows:
        key = "waiting" if status == APPROVED else "serving" if status == CLAIMED else "done"
        totals[key] += count
        totals["hours"] += float(hours or 0)
        by_category[category] = by_category.get(category, 0) + count
    categories = [(CATEGORIES[c][0] if c in CATEGORIES else c, n)
                  for c, n in sorted(by_category.items(), key=lambda item: -item[1])]
    return {**totals, "hours": round(totals["hours"], 1), "categories": categories}


def waiting_wishes(community_id: int | None = None, *, limit: int | None = None,
                   cursor: str | None = None) -> Page:
    """Wishes waiting in the pool: the public title the community approved, its kind and community only."""
    from app.suggestions.board import mask_personal
    from app.wishes.models import APPROVED, CATEGORIES, Wish

    stmt = select(Wish).where(Wish.status == APPROVED, moderation.shown("wish", Wish.id))
    if community_id is not None:
        stmt = stmt.where(Wish.community_id == community_id)
    page = paginate(stmt, Wish.id, limit=limit, cursor=cursor)
    names = dict(db.session.execute(select(Area.id, Area.name).where(
        Area.id.in_({w.community_id for w in page.items}))).all()) if page.items else {}
    page.items = [{"title": mask_personal(w.public_title),
                   "category": CATEGORIES.get(w.category, (w.category,))[0],
                   "community": names.get(w.community_id, ""), "desired_date": w.desired_date}
                  for w in page.items]
    return page
