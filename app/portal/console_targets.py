"""Console: the yearly service target of a community's party members, and who is behind it."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for

from app.accounts.models import ADMIN_ROLES
from app.areas.models import COMMUNITY
from app.areas.service import areas_in_scope
from app.core.pagination import Page
from app.portal import web
from app.portal.auth import staff_actor
from app.portal.console import NAV, bp, roles_required
from app.records import targets as target_service

NAV.append({"endpoint": "console.targets", "label": "服务目标", "roles": ADMIN_ROLES})


@bp.get("/targets")
@roles_required(*ADMIN_ROLES)
def targets():
    actor = staff_actor()
    communities = areas_in_scope(actor, ADMIN_ROLES, levels=(COMMUNITY,), limit=200)
    community_id = web.query_int("community_id") or (communities[0].id if communities else None)
    year = web.query_int("year") or target_service.this_year()
    behind = request.args.get("behind") == "1"
    progress = None
    if community_id is not None:
        ok, progress = web.attempt(target_service.progress, actor, community_id, year=year, behind_only=behind,
                                   **web.page_args())
        progress = progress if ok else None
    page = Page(items=progress["items"], next_cursor=progress["next_cursor"]) if progress else None
    return render_template("console/targets.html", communities=communities, community_id=community_id, year=year,
                           behind=behind, progress=progress, page=page)


@bp.post("/targets")
@roles_required(*ADMIN_ROLES)
def targets_set():
    community_id = web.number("community_id")
    year = web.number("year") or target_service.this_year()
    web.attempt(lambda: target_service.set_target(staff_actor(), community_id, year=year,
                                           services=web.number("services") or 0),
                success="年度服务目标已保存。")
    return redirect(url_for("console.targets", community_id=community_id, year=year))
