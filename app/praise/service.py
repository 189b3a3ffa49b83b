"""Verbs of 我要点赞: praise someone or something at a scanned place, the praise wall, the monthly ranking."""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import GRID_WORKER, PARTY_MEMBER, RoleGrant, User
from app.areas.models import COMMUNITY, Area, Place
from app.codes.scenes import place_for_scene
from app.content_safety import policy
from app.core import crypto
from app.core.errors import Conflict, Invalid, NotFound, Unauthorized
from app.core.pagination import Page, paginate
from app.core.replica import from_replica
from app.core.scoping import Actor
from app.core.time import to_local, utcnow
from app.extensions import db
from app.moderation import service as moderation
from app.notifications.service import notify
from app.points import sources as points
from app.praise.models import TARGET_TYPES, USER_TARGETS, Praise

MAX_MESSAGE = 200
ALREADY = "今天已经为TA点过赞了，明天再来吧。"


def local_today() -> date:
    return to_local(utcnow()).date()


def _grant_holders(role: str, place: Place) -> set[int]:
    """Users holding `role` over the place (a grant on its grid or any ancestor)."""
    ids = [int(part) for part in place.area_path.strip("/").split("/") if part]
    return set(db.session.scalars(select(RoleGrant.user_id).where(RoleGrant.role == role,
                                                                  RoleGrant.area_id.in_(ids))))


def _check_target(place: Place, target_type: str, target_id: int | None) -> int:
    if target_type not in TARGET_TYPES:
        raise Invalid("点赞对象类型无效。", errors={"target_type": [f"应为以下之一：{'、'.join(TARGET_TYPES)}"]})
    if target_type in ("place", "merchant"):
        if target_id not in (None, place.id):
            raise Invalid("只能为扫码所在的场所点赞。", errors={"target_id": ["应为扫码场所"]})
        if target_type == "merchant" and place.kind != "shop":
            raise Invalid("这里不是商户，请选择为场所点赞。", errors={"target_type": ["该场所不是商户"]})
        return place.id
    if target_id is None:
        raise Invalid("请选择要点赞的人。", errors={"target_id": ["必填"]})
    role = GRID_WORKER if target_type == "grid_worker" else PARTY_MEMBER
    if target_id not in _grant_holders(role, place):
        who = "该网格的网格员" if role == GRID_WORKER else "在本社区报到的党员"
        raise Invalid(f"只能为{who}点赞。", errors={"target_id": [f"不是{who}"]})
    return target_id


def praise(actor: Actor, *, scene: str, target_type: str, target_id: int | None = None,
           message: str = "") -> Praise:
    message = (message or "").strip()
    if not message:
        raise Invalid("请写一句点赞的话。", errors={"message": ["必填"]})
    if len(message) > MAX_MESSAGE:
        raise Invalid(f"点赞留言不能超过 {MAX_MESSAGE} 字。", errors={"message": [f"最多 {MAX_MESSAGE} 字"]})
    place = place_for_scene(scene)
    target_id = _check_target(place, target_type, target_id)
    if target_type in USER_TARGETS and target_id == actor.user_id:
        raise Invalid("不能给自己点赞。", errors={"target_id": ["不能是自己"]})
    day = local_today()
    duplicate = select(Praise.id).where(Praise.user_id == actor.user_id, Praise.target_type == target_type,
                                        Praise.target_id == target_id, Praise.day == day)
    if db.session.scalar(duplicate) is not None:
        raise Conflict(ALREADY)
    verdict = policy.screen("praise", db.session.get(User, actor.user_id), message, "message")
    row = Praise(user_id=actor.user_id, target_type=target_type, target_id=target_id, place_id=place.id,
                 message=message, area_path=place.area_path, day=day)
    try:
        with db.session.begin_nested():  # a concurrent twin loses on the unique key, cleanly
            db.session.add(row)
    except IntegrityError as exc:
        raise Conflict(ALREADY) from exc
    # Held praise reaches the wall, and the person praised, once staff release it.
    held = moderation.hold(verdict, row.id, area_path=row.area_path, author_id=actor.user_id, text=message)
    if held is None:
        _tell_target(row, place.name)
    row.review_notice = moderation.HELD_NOTICE if held else None  # for its author's answer only
    return row


def _tell_target(row: Praise, place_name: str) -> None:
    """The person praised hears of it, and earns its points, once it is public: at once, or on its release."""
    if row.target_type in USER_TARGETS:
        points.praise_received(row)
        notify([row.target_id], "praise_received", title="您收到一个点赞", body=row.message,
               page=f"pages/praise/wall?place_id={row.place_id}",
               data={"thing1": place_name[:20], "thing2": row.message[:20]}, subject=("praise", row.id))


def _held_subject(praise_id: int) -> moderation.Subject | None:
    row = db.session.get(Praise, praise_id)
    if row is None:
        return None
    return moderation.Subject(area_path=row.area_path, author_id=row.user_id, text=row.message,
                              page=f"pages/praise/wall?place_id={row.place_id}")


def _released(praise_id: int, _actor: Actor) -> None:
    row = db.session.get(Praise, praise_id)
    place = db.session.get(Place, row.place_id)
    _tell_target(row, place.name if place else "")


moderation.register("praise", _held_subject, on_release=_released)


# -- reading --------------------------------------------------------------------------------

@dataclass
class PraiseView:
    id: int
    target_type: str
    target_id: int
    target_name: str
    place_id: int
    place_name: str
    message: str
    praiser: str
    created_at: datetime
    review_notice: str | None = None

    @property
    def target_type_label(self) -> str:
        return TARGET_TYPES[self.target_type]


def _community_path(community_id: int) -> str:
    area = db.session.get(Area, community_id)
    if area is None or area.level != COMMUNITY:
        raise NotFound("社区不存在。")
    return area.path


def _names(targets, user_ids=(), place_ids=()) -> tuple[dict[int, str], dict[int, str]]:
    """User and place names for a batch of (target_type, target_id): two queries whatever the size."""
    user_ids = set(user_ids) | {tid for ttype, tid in targets if ttype in USER_TARGETS}
    place_ids = set(place_ids) | {tid for ttype, tid in targets if ttype not in USER_TARGETS}
    users = {u.id: u.display_name or u.username or f"居民{u.id}" for u in db.session.execute(
        select(User.id, User.display_name, User.username).where(User.id.in_(user_ids)))} if user_ids else {}
    places = dict(db.session.execute(select(Place.id, Place.name).where(Place.id.in_(place_ids))).all()) \
        if place_ids else {}
    return users, places


def _target_name(target_type: str, target_id: int, users: dict, places: dict) -> str:
    return (users if target_type in USER_TARGETS else places).get(target_id, "")


def list_praises(actor: Actor, *, community_id: int | None = None, mine: bool = False,
                 target_type: str | None = None, target_id: int | None = None,
                 limit: int | None = None, cursor: str | None = None) -> Page:
    """The praise wall: public, newest first; praisers' names are masked. The public wall reads the
    replica; a resident's own praise (`mine`) is read where it was written."""
    with nullcontext() if mine else from_replica():
        return _praise_page(actor, community_id=community_id, mine=mine, target_type=target_type,
                            target_id=target_id, limit=limit, cursor=cursor)


def _praise_page(actor: Actor, *, community_id: int | None, mine: bool, target_type: str | None,
                 target_id: int | None, limit: int | None, cursor: str | None) -> Page:
    stmt = select(Praise)
    if mine:
        if not actor.is_authenticated:
            raise Unauthorized("请先登录。")
        stmt = stmt.where(Praise.user_id == actor.user_id)
    else:  # the public wall: nothing held or hidden
        stmt = stmt.where(moderation.shown("praise", Praise.id))
    if community_id is not None:
        stmt = stmt.where(Praise.area_path.startswith(_community_path(community_id), autoescape=True))
    if target_type is not None:
        stmt = stmt.where(Praise.target_type == target_type)
    if target_id is not None:
        stmt = stmt.where(Praise.target_id == target_id)
    page = paginate(stmt, Praise.id, limit=limit, cursor=cursor)
    users, places = _names([(p.target_type, p.target_id) for p in page.items],
                           user_ids={p.user_id for p in page.items}, place_ids={p.place_id for p in page.items})
    page.items = [PraiseView(
        id=p.id, target_type=p.target_type, target_id=p.target_id,
        target_name=_target_name(p.target_type, p.target_id, users, places),
        place_id=p.place_id, place_name=places.get(p.place_id, ""), message=p.message,
        praiser="我" if p.user_id == actor.user_id else crypto.mask_name(users.get(p.user_id, "")),
        created_at=p.created_at,
        review_notice=moderation.notice_for_author("praise", p.id) if mine else None) for p in page.items]
    return page


def _month_bounds(month: str | None) -> tuple[date, date, str]:
    if month:
        try:
            year, mon = (int(x) for x in month.split("-"))
            start = date(year, mon, 1)
        except ValueError as exc:
            raise Invalid("月份格式应为 YYYY-MM。", errors={"month": ["格式应为 YYYY-MM"]}) from exc
    else:
        start = local_today().replace(day=1)
    end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start, end, start.strftime("%Y-%m")


@from_replica()
def ranking(*, community_id: int | None = None, month: str | None = None, target_type: str | None = None,
            limit: int = 20) -> dict:
    """Who was praised most in a (local) month: 1, 1, 3 ranking on ties."""
    start, end, label = _month_bounds(month)
    count = func.count(Praise.id).label("count")
    stmt = (select(Praise.target_type, Praise.target_id, count)
            .where(Praise.day >= start, Praise.day < end, moderation.shown("praise", Praise.id))
            .group_by(Praise.target_type, Praise.target_id)
            .order_by(count.desc(), Praise.target_type, Praise.target_id).limit(limit))
    if community_id is not None:
        stmt = stmt.where(Praise.area_path.startswith(_community_path(community_id), autoescape=True))
    if target_type is not None:
        stmt = stmt.where(Praise.target_type == target_type)
    rows = db.session.execute(stmt).all()
    users, places = _names([(r.target_type, r.target_id) for r in rows])
    items, rank, previous = [], 0, None
    for position, r in enumerate(rows, start=1):
        if r.count != previous:
            rank, previous = position, r.count
        items.append({"rank": rank, "target_type": r.target_type, "target_type_label": TARGET_TYPES[r.target_type],
                      "target_id": r.target_id, "name": _target_name(r.target_type, r.target_id, users, places),
                      "count": r.count})
    return {"month": label, "items": items}
