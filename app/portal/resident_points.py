"""The resident portal's 积分 page: a community's public board (names masked) and its points supermarket.
A resident's own points, household book and redemptions are in the mini-program."""
from __future__ import annotations

from flask import render_template

from app.areas import service as areas
from app.points.board import public_board
from app.portal import web
from app.portal.resident import bp


@bp.get("/points")
def points_board():
    communities = areas.communities()
    wanted = web.query_int("community_id")
    community = next((c for c in communities if c.id == wanted), communities[0] if communities else None)
    board = public_board(community.id) if community else None
    return render_template("portal/points.html", board=board, communities=communities, community=community)
