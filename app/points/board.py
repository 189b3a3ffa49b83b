"""The public 积分 board of a community (公开公示): its scheme, this month's boards, the latest evaluation and
cash-out in notice, and its points supermarket; every name masked."""
from __future__ import annotations

from sqlalchemy import select

from app.core.scoping import Actor
from app.extensions import db
from app.points import cashout as cashouts
from app.points import evaluation as evaluations
from app.points import ledger, shop
from app.points import service as points
from app.points.models import EVAL_DRAFT, Cashout, Evaluation

TOP = 10


def public_board(community_id: int) -> dict:
    community = points.get_community(community_id)
    anonymous = Actor.anonymous()
    scheme = ledger.scheme_in_effect(community.id, points.local_today())
    latest_evaluation = db.session.scalar(
        select(Evaluation.id).where(Evaluation.community_id == community.id, Evaluation.status != EVAL_DRAFT)
        .order_by(Evaluation.period.desc()).limit(1))
    latest_cashout = db.session.scalar(select(Cashout.id).where(Cashout.community_id == community.id)
                                       .order_by(Cashout.year.desc()).limit(1))
    return {
        "community": community, "scheme": scheme,
        "people": points.ranking(anonymous, community_id=community.id, limit=TOP),
        "households": points.ranking(anonymous, community_id=community.id, by="household", period="quarter",
                                     limit=TOP),
        "evaluation": evaluations.view(anonymous, latest_evaluation) if latest_evaluation else None,
        "cashout": cashouts.view(anonymous, latest_cashout) if latest_cashout else None,
        "goods": shop.list_items(community_id=community.id, limit=50).items,
    }
