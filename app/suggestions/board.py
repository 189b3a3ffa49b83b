"""The public side: published closed suggestions with personal data removed, and each representative's figures."""
from __future__ import annotations

from statistics import median

from sqlalchemy import select

from app.core.crypto import mask_personal
from app.core.pagination import Page, paginate
from app.core.replica import from_replica
from app.extensions import db
from app.moderation import service as moderation
from app.suggestions import states
from app.suggestions.models import Suggestion


@from_replica()
def public_board(limit: int | None = None, cursor: str | None = None) -> Page:
    """Closed suggestions whose submitter allowed publication, newest first.

    Items are plain dicts holding only what may be shown: no submitter, no photos, and
    phone and ID numbers in the text masked.
    """
    stmt = select(Suggestion).where(Suggestion.status == states.CLOSED, Suggestion.allow_publication.is_(True),
                                    moderation.shown("suggestion", Suggestion.id))
    page = paginate(stmt, Suggestion.id, limit=limit, cursor=cursor)
    return Page(items=[_board_item(s) for s in page.items], next_cursor=page.next_cursor)


def _board_item(s: Suggestion) -> dict:
    rep = s.representative
    return {
        "id": s.id,
        "title": mask_personal(s.title),
        "body": mask_personal(s.body),
        "answer": mask_personal(s.answer),
        "department_reply": mask_personal(s.department_reply),
        "closing_note": mask_personal(s.closing_note),
        "representative": None if rep is None else {
            "id": rep.id, "name": rep.name, "kind": rep.kind, "kind_label": rep.kind_label},
        "office_name": s.office.name if s.office else None,
        "department_name": s.department.name if s.department else None,
        "area_name": s.area.name,
        "submitted_at": s.created_at,
        "closed_at": s.closed_at,
        "rating": s.rating,
    }


@from_replica()
def representative_figures(rep_id: int) -> dict:
    """received, answered, median response time (submitted → first answer or referral), satisfaction."""
    rows = db.session.execute(
        select(Suggestion.created_at, Suggestion.first_response_at, Suggestion.answered_at, Suggestion.status,
               Suggestion.rating)
        .where(Suggestion.representative_id == rep_id)
    ).all()
    waits = [(r.first_response_at - r.created_at).total_seconds() / 3600 for r in rows if r.first_response_at]
    ratings = [r.rating for r in rows if r.rating is not None]
    return {
        "received": len(rows),
        "answered": sum(1 for r in rows if r.answered_at is not None),
        "closed": sum(1 for r in rows if r.status == states.CLOSED),
        "median_response_hours": round(median(waits), 1) if waits else None,
        "rated": len(ratings),
        "mean_rating": round(sum(ratings) / len(ratings), 2) if ratings else None,
        "satisfied_share": round(sum(1 for x in ratings if x >= 4) / len(ratings), 3) if ratings else None,
    }
