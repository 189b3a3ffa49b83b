"""Reports on duty (流动前哨、移动探头): a 民情收集员 or 流动网格员 reports at any place of the communities they
serve, by a scanned code or by naming the place; the case is marked as theirs and enters the ledger as service."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import or_, select

from app.areas.models import Area, Place
from app.cases import service as cases
from app.cases.models import Category
from app.codes.scenes import place_for_scene
from app.core.errors import Forbidden, NotFound, Unauthorized
from app.core.pagination import Page, paginate
from app.core.scoping import Actor
from app.core.time import to_local, utcnow
from app.extensions import db
from app.newgroups.models import APPROVED, POST_KINDS, REPORTING_POSTS, PostClaim, PostReport, ServicePost
from app.volunteering.ledger import credit_hours


def _duty_claims(user_id: int | None) -> list[tuple[PostClaim, ServicePost]]:
    """The actor's approved claims of reporting posts, with their posts."""
    if user_id is None:
        return []
    return list(db.session.execute(
        select(PostClaim, ServicePost).join(ServicePost, ServicePost.id == PostClaim.post_id)
        .where(PostClaim.user_id == user_id, PostClaim.status == APPROVED, ServicePost.kind.in_(REPORTING_POSTS))
        .order_by(PostClaim.id)).all())


def duty_for_place(user_id: int | None, place: Place) -> tuple[PostClaim, ServicePost] | None:
    """The reporting post under which this user may report at this place, if any (the community's post covers it)."""
    for claim, post in _duty_claims(user_id):
        if place.area_path.startswith(post.area_path):
            return claim, post
    return None


def report_on_duty(actor: Actor, *, category_id: int, description: str, photo_ids: list[int] | None = None,
                   place_id: int | None = None, scene: str | None = None) -> tuple[cases.Filed, dict]:
    if not actor.is_authenticated:
        raise Unauthorized()
    duties = _duty_claims(actor.user_id)
    if not duties:
        raise Forbidden("只有在岗的民情收集员、流动网格员可以不扫码、在服务社区内任意地点上报；请扫描现场二维码上报。")
    place = place_for_scene(scene) if scene else (db.session.get(Place, place_id) if place_id is not None else None)
    if place is None:
        raise NotFound("场所不存在。")
    duty = duty_for_place(actor.user_id, place)
    if duty is None:
        raise Forbidden("该地点不在您服务的社区内。")
    claim, post = duty
    filed = cases.report_case(actor, category_id=category_id, description=description, photo_ids=photo_ids,
                              place_id=place.id, on_duty_role=post.kind)
    db.session.add(PostReport(case_id=filed.case.id, claim_id=claim.id, user_id=actor.user_id, post_kind=post.kind,
                              area_path=post.area_path, by_code=bool(scene)))
    category = db.session.get(Category, category_id)
    now = utcnow()
    # The report is service (谁记录谁证明): the community the post belongs to records it and decides it.
    entry = credit_hours(user_id=actor.user_id, source_type="report", source_id=filed.case.id,
                         hours=current_app.config["NEW_GROUP_REPORT_HOURS"], area_path=post.area_path,
                         description=f"{post.kind_label}上报：{category.name if category else '事件'}",
                         organiser_area_id=post.community_id, served_on=to_local(now).date(), place=place.name,
                         started_at=now, ended_at=now)
    db.session.flush()
    return filed, {"post_id": post.id, "post_kind": post.kind, "post_kind_label": POST_KINDS[post.kind],
                   "by_code": bool(scene), "ledger_entry_id": entry.id, "hours": float(entry.hours)}


def places_on_duty(actor: Actor, *, community_id: int | None = None, limit: int | None = None,
                   cursor: str | None = None) -> Page:
    """The places a post holder may report at without a code: those of the communities they serve."""
    paths = [post.area_path for _claim, post in _duty_claims(actor.user_id)
             if community_id is None or post.community_id == community_id]
    if not paths:
        raise Forbidden("只有在岗的民情收集员、流动网格员可以选择地点上报。")
    stmt = select(Place).where(Place.active.is_(True))
    stmt = stmt.where(or_(*[Place.area_path.startswith(p, autoescape=True) for p in set(paths)]))
    page = paginate(stmt, Place.id, limit=limit, cursor=cursor)
    grids = {a.id: a.name for a in db.session.scalars(select(Area).where(Area.id.in_({p.grid_id for p in page.items})))} \
        if page.items else {}
    page.items = [{"id": p.id, "name": p.name, "kind": p.kind, "kind_label": p.kind_label, "address": p.address,
                   "grid_id": p.grid_id, "grid_name": grids.get(p.grid_id, "")} for p in page.items]
    return page


def reported_on_duty(case_id: int) -> PostReport | None:
    return db.session.scalar(select(PostReport).where(PostReport.case_id == case_id))
