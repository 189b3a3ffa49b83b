"""The public wish board: the pool in figures and the wishes waiting, never a person."""
from __future__ import annotations

from sqlalchemy import func, select

from app.areas.models import Area
from app.areas.service import get_community
from app.core.crypto import mask_personal
from app.core.pagination import Page, paginate
from app.extensions import db
from app.moderation import service as moderation
from app.volunteering import ledger
from app.wishes.models import APPROVED, CATEGORIES, CLAIMED, CONFIRMED, DISPUTED, FULFILLED, OFFERED, Wish

SERVING = (OFFERED, CLAIMED, DISPUTED)  # a member has it in hand (or is asked to), or the community reviews it


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
    community = get_community(community_id)
    hours = ledger.approved_hours(source_type="wish", area_path=community.path if community else None)
    categories = [(CATEGORIES[c][0] if c in CATEGORIES else c, n)
                  for c, n in sorted(by_category.items(), key=lambda item: -item[1])]
    return {**totals, "hours": round(float(hours), 1), "categories": categories}


def waiting_wishes(community_id: int | None = None, *, limit: int | None = None,
                   cursor: str | None = None) -> Page:
    """Wishes waiting in the pool: the public title the community approved, its kind and community only."""
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
