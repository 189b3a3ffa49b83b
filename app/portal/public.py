"""Read-only facts for the public pages: community names and the wish pool in figures, never a person."""
from __future__ import annotations

from sqlalchemy import func, select

from app.areas.models import COMMUNITY, Area
from app.core.pagination import Page, paginate
from app.extensions import db
from app.suggestions.board import mask_personal
from app.volunteering import ledger
from app.wishes.models import APPROVED, CATEGORIES, CLAIMED, CONFIRMED, DISPUTED, FULFILLED, OFFERED, Wish

SERVING = (OFFERED, CLAIMED, DISPUTED)  # a member has it in hand (or is asked to), or the community reviews it


def communities() -> list[Area]:
    return list(db.session.scalars(select(Area).where(Area.level == COMMUNITY).order_by(Area.path)))


def community_or_none(community_id: int | None) -> Area | None:
    if community_id is None:
        return None
    area = db.session.get(Area, community_id)
    return area if area is not None and area.level == COMMUNITY else None


def wish_figures(community_id: int | None = None) -> dict:
    """How many wishes wait, are being served and came true, overall and by category, and the approved hours."""
    where = [Wish.status.in_((APPROVED, *SERVING, FULFILLED, CONFIRMED))]
    if community_id is not None:
        where.append(Wish.community_id == community_id)
    rows = db.session.execute(select(Wish.status, Wish.category, func.count(Wish.id))
                              .where(*where).group_by(Wish.status, Wish.category)).all()
    totals = {"waiting": 0, "serving": 0, "done": 0}
    by_category: dict[str, int] = {}
    for status, category, count in rows:
        key = "waiting" if status == APPROVED else "serving" if status in SERVING else "done"
        totals[key] += count
        by_category[category] = by_category.get(category, 0) + count
    # Hours are a figure about service: the ledger's approved entries for wishes, never Wish.hours.
    community = community_or_none(community_id)
    hours = ledger.approved_hours(source_type="wish", area_path=community.path if community else None)
    categories = [(CATEGORIES[c][0] if c in CATEGORIES else c, n)
                  for c, n in sorted(by_category.items(), key=lambda item: -item[1])]
    return {**totals, "hours": round(float(hours), 1), "categories": categories}


def waiting_wishes(community_id: int | None = None, *, limit: int | None = None,
                   cursor: str | None = None) -> Page:
    """Wishes waiting in the pool: the public title the community approved, its kind and community only."""
    stmt = select(Wish).where(Wish.status == APPROVED)
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
