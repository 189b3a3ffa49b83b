"""Verbs of 积分制: schemes and items, households, applications, corrections, balances and rankings."""
from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import func, select

from app.accounts.models import ADMIN_ROLES, GRID_WORKER, User
from app.areas.models import COMMUNITY, GRID, Area, Place
from app.areas.service import get_area
from app.content_safety import policy
from app.core import audit, crypto
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from app.core.pagination import Page, decode_cursor, encode_cursor, paginate
from app.core.scoping import Actor, require_scope, scope_filter
from app.core.time import to_local, utcnow
from app.extensions import db
from app.media.service import photo_refs, resolve_photos
from app.notifications.service import notify
from app.points import ledger
from app.points.models import (
    APPLIED,
    APPROVED,
    APPROVER_ROLES,
    AUTO,
    DRAFT,
    EARN,
    ITEM_KINDS,
    PENDING,
    PUBLISHED,
    RANKED_KINDS,
    REJECTED,
    REVERSE,
    SOURCES,
    Household,
    HouseholdMember,
    PointApplication,
    PointEntry,
    PointItem,
    PointScheme,
)

MAX_ITEMS = 60
_JOIN_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def local_today() -> date:
    return to_local(utcnow()).date()


def get_community(community_id: int) -> Area:
    area = get_area(community_id)
    if area.level != COMMUNITY:
        raise NotFound("社区不存在。")
    return area


def require_admin(actor: Actor, area_path: str) -> None:
    if not actor.is_authenticated:
        raise Unauthorized()
    if not actor.has_role(*ADMIN_ROLES):
        raise Forbidden("只有社区及以上管理员可以管理积分。")
    require_scope(actor, area_path, ADMIN_ROLES)


def grid_communities(actor: Actor) -> set[str]:
    """The paths of the communities the actor's grids lie in ("/1/2/3/4/" → "/1/2/3/"): a grid worker works
    on their community's points (the supermarket's pick-ups, the evaluation group's scoring)."""
    return {"/".join(p.split("/")[:-2]) + "/" for p in actor.paths((GRID_WORKER,))}


def works_in(actor: Actor, community_path: str) -> bool:
    """A grid worker of one of the community's grids."""
    return community_path in grid_communities(actor)


def communities_for(actor: Actor) -> list[Area]:
    """The communities whose points the actor works on: those under their admin grants, and the community
    of each grid they work in."""
    stmt = select(Area).where(Area.level == COMMUNITY,
                              scope_filter(actor, Area.path, ADMIN_ROLES) | Area.path.in_(grid_communities(actor)))
    return list(db.session.scalars(stmt.order_by(Area.path)))


def scheme_versions(actor: Actor, community_id: int) -> list[PointScheme]:
    """Every version of a community's scheme, newest first, for its admins (a handful a year)."""
    community = get_community(community_id)
    require_admin(actor, community.path)
    return list(db.session.scalars(select(PointScheme).where(PointScheme.community_id == community.id)
                                   .order_by(PointScheme.version.desc()).limit(50)))


# -- schemes ----------------------------------------------------------------------------------

def _check_items(items: list[dict]) -> list[PointItem]:
    if not items:
        raise Invalid("积分方案至少要有一个积分项目。", errors={"items": ["至少一项"]})
    if len(items) > MAX_ITEMS:
        raise Invalid(f"积分项目不能超过 {MAX_ITEMS} 项。", errors={"items": [f"最多 {MAX_ITEMS} 项"]})
    codes, built = set(), []
    for n, raw in enumerate(items):
        code = (raw.get("code") or "").strip()
        where = {"items": {str(n): ["有误"]}}
        if not code or code in codes:
            raise Invalid(f"第 {n + 1} 项的编号为空或重复。", errors=where)
        codes.add(code)
        kind, source = raw.get("kind"), raw.get("source")
        if kind not in ITEM_KINDS:
            raise Invalid(f"第 {n + 1} 项的计分方式无效。", errors=where)
        if kind == AUTO and source not in SOURCES:
            raise Invalid(f"第 {n + 1} 项是自动计分，须选择来源（{'、'.join(SOURCES.values())}）。", errors=where)
        if kind != AUTO:
            source = None
        if not raw.get("name", "").strip():
            raise Invalid(f"第 {n + 1} 项缺少名称。", errors=where)
        approver = raw.get("approver_role") or "community_admin"
        if approver not in APPROVER_ROLES:
            raise Invalid(f"第 {n + 1} 项的审核人无效。", errors=where)
        cap = raw.get("monthly_cap")
        if cap is not None and cap < 0:
            raise Invalid(f"第 {n + 1} 项的每月上限不能为负。", errors=where)
        built.append(PointItem(code=code, name=raw["name"].strip()[:64], points=int(raw["points"]), kind=kind,
                               source=source, monthly_cap=cap, approver_role=approver))
    return built


DEFAULT_TIERS = [{"name": "优秀", "min": 90}, {"name": "良好", "min": 80}, {"name": "合格", "min": 60},
                 {"name": "不合格", "min": 0}]


def _check_indicators(indicators: list[dict] | None, tiers: list[dict] | None) -> tuple[list, list]:
    """The monthly indicators add up to 100; tiers run from the highest bar down to 0."""
    if not indicators:
        return [], []
    codes = [str(i.get("code") or "").strip() for i in indicators]
    if any(not c for c in codes) or len(set(codes)) != len(codes):
        raise Invalid("评议指标的编号为空或重复。", errors={"indicators": ["编号为空或重复"]})
    weights = [int(i.get("weight") or 0) for i in indicators]
    if any(w <= 0 for w in weights) or sum(weights) != 100:
        raise Invalid(f"评议指标的分值须为正数且合计 100 分（现为 {sum(weights)} 分）。",
                      errors={"indicators": ["分值合计须为 100"]})
    checked = [{"code": c, "name": str(i.get("name") or c).strip()[:32], "weight": w}
               for c, i, w in zip(codes, indicators, weights, strict=True)]
    tiers = tiers or DEFAULT_TIERS
    bars = [int(t.get("min", -1)) for t in tiers]
    if bars != sorted(set(bars), reverse=True) or bars[-1] != 0 or bars[0] > 100 or \
            any(not str(t.get("name") or "").strip() for t in tiers):
        raise Invalid("档次须有名称，分数线从高到低排列且最低一档为 0 分。", errors={"tiers": ["档次设置有误"]})
    return checked, [{"name": str(t["name"]).strip()[:16], "min": b} for t, b in zip(tiers, bars, strict=True)]


def tier_of(scheme: PointScheme, total: int) -> str:
    return next((t["name"] for t in scheme.tiers if total >= t["min"]), "")


def create_scheme(actor: Actor, *, community_id: int, title: str, items: list[dict],
                  indicators: list[dict] | None = None, tiers: list[dict] | None = None,
                  dividend_percent: int = 20) -> PointScheme:
    """A new draft version of a community's scheme; published, it applies from the next month."""
    community = get_community(community_id)
    require_admin(actor, community.path)
    indicators, tiers = _check_indicators(indicators, tiers)
    if not 0 <= dividend_percent <= 100:
        raise Invalid("积分分红比例应在 0 到 100 之间。", errors={"dividend_percent": ["0 到 100"]})
    version = (db.session.scalar(select(func.max(PointScheme.version))
                                 .where(PointScheme.community_id == community.id)) or 0) + 1
    scheme = PointScheme(community_id=community.id, area_path=community.path, version=version,
                         title=(title or "").strip()[:100] or f"{community.name}积分方案", status=DRAFT,
                         created_by=actor.user_id, items=_check_items(items), indicators=indicators, tiers=tiers,
                         dividend_percent=dividend_percent)
    db.session.add(scheme)
    db.session.flush()
    audit.act("points.create_scheme", scheme_id=scheme.id, version=version)
    return scheme


def _first_of_next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def publish_scheme(actor: Actor, scheme_id: int) -> PointScheme:
    """Publish to residents. The community's first scheme applies at once; a later version from the first of
    next month, so that the month under way is scored by the rules it began with."""
    scheme = db.session.scalar(select(PointScheme).where(PointScheme.id == scheme_id).with_for_update())
    if scheme is None:
        raise NotFound("积分方案不存在。")
    require_admin(actor, scheme.area_path)
    if scheme.status != DRAFT:
        raise Conflict("该方案已发布；如需调整，请新建一个版本。")
    today = local_today()
    earlier = db.session.scalar(select(func.count(PointScheme.id)).where(
        PointScheme.community_id == scheme.community_id, PointScheme.status == PUBLISHED))
    scheme.status, scheme.published_at, scheme.published_by = PUBLISHED, utcnow(), actor.user_id
    scheme.effective_from = _first_of_next_month(today) if earlier else today
    db.session.flush()
    audit.act("points.publish_scheme", scheme_id=scheme.id, effective_from=scheme.effective_from.isoformat())
    return scheme


def get_scheme(actor: Actor, scheme_id: int) -> PointScheme:
    scheme = db.session.get(PointScheme, scheme_id)
    if scheme is None or (scheme.status != PUBLISHED and not actor.covers(scheme.area_path, ADMIN_ROLES)):
        raise NotFound("积分方案不存在。")
    return scheme


def schemes_of(actor: Actor, community_id: int, *, limit: int | None = None, cursor: str | None = None) -> Page:
    """Published versions for everyone; drafts too for the community's admins."""
    community = get_community(community_id)
    stmt = select(PointScheme).where(PointScheme.community_id == community.id)
    if not actor.covers(community.path, ADMIN_ROLES):
        stmt = stmt.where(PointScheme.status == PUBLISHED)
    return paginate(stmt, PointScheme.id, limit=limit, cursor=cursor)


def current_scheme(community_id: int) -> PointScheme:
    community = get_community(community_id)
    scheme = ledger.scheme_in_effect(community.id, local_today())
    if scheme is None:
        raise NotFound("该社区尚未发布积分方案。")
    return scheme


# -- households (一户一账) --------------------------------------------------------------------------

def _new_join_code() -> str:
    return "".join(secrets.choice(_JOIN_ALPHABET) for _ in range(6))


def create_household(actor: Actor, *, place_id: int, room: str) -> Household:
    """A resident registers their home at a place (楼栋/单元) and becomes its head."""
    if not actor.is_authenticated:
        raise Unauthorized()
    place = db.session.get(Place, place_id)
    if place is None or not place.active:
        raise NotFound("地点不存在。")
    room = (room or "").strip()
    if not room:
        raise Invalid("请填写门牌号。", errors={"room": ["必填"]})
    if ledger.household_of(actor.user_id) is not None:
        raise Conflict("您已加入一个家庭户，请先退出再新建。")
    if db.session.scalar(select(Household.id).where(Household.place_id == place.id, Household.room == room)):
        raise Conflict("该门牌已登记为家庭户，请向户主索取加入码。")
    community = ledger.community_of(place.area_path)
    household = Household(place_id=place.id, community_id=community.id, area_path=place.area_path, room=room[:32],
                          head_id=actor.user_id, join_code=_new_join_code())
    db.session.add(household)
    db.session.flush()
    db.session.add(HouseholdMember(household_id=household.id, user_id=actor.user_id))
    db.session.flush()
    return household


def join_household(actor: Actor, *, join_code: str) -> Household:
    if not actor.is_authenticated:
        raise Unauthorized()
    household = db.session.scalar(select(Household).where(Household.join_code == (join_code or "").strip().upper()))
    if household is None:
        raise NotFound("加入码无效，请向户主核对。")
    mine = ledger.household_of(actor.user_id)
    if mine is not None:
        raise Conflict("您已在本户。" if mine.id == household.id else "您已加入另一个家庭户，请先退出。")
    db.session.add(HouseholdMember(household_id=household.id, user_id=actor.user_id))
    db.session.flush()
    notify([household.head_id], "points.household_joined", title="有家庭成员加入了您的家庭户",
           body=f"{_name(actor.user_id)}已加入本户。", page="pages/points/household",
           data={"subject": "家庭户成员", "status": "已加入"}, subject=("household", household.id))
    return household


def transfer_head(actor: Actor, *, user_id: int) -> Household:
    """The head hands the household over to another of its members."""
    if not actor.is_authenticated:
        raise Unauthorized()
    household = ledger.household_of(actor.user_id)
    if household is None:
        raise NotFound("您还没有加入家庭户。")
    if household.head_id != actor.user_id:
        raise Forbidden("只有户主可以变更户主。")
    member = db.session.scalar(select(HouseholdMember.id).where(HouseholdMember.household_id == household.id,
                                                                HouseholdMember.user_id == user_id))
    if member is None or user_id == actor.user_id:
        raise Invalid("新户主须是本户的其他成员。", errors={"user_id": ["不是本户其他成员"]})
    household.head_id = user_id
    db.session.flush()
    notify([user_id], "points.household_head", title="您已成为家庭户户主", body="原户主已将户主转给您。",
           page="pages/points/household", data={"subject": "家庭户户主", "status": "已变更"},
           subject=("household", household.id))
    return household


def leave_household(actor: Actor) -> None:
    if not actor.is_authenticated:
        raise Unauthorized()
    member = db.session.scalar(select(HouseholdMember).where(HouseholdMember.user_id == actor.user_id))
    if member is None:
        raise NotFound("您还没有加入家庭户。")
    household = db.session.get(Household, member.household_id)
    others = db.session.scalar(select(func.count(HouseholdMember.id)).where(
        HouseholdMember.household_id == household.id, HouseholdMember.user_id != actor.user_id))
    if household.head_id == actor.user_id and others:
        raise Conflict("户主须先将户主转给本户其他成员，才能退出。")
    db.session.delete(member)
    db.session.flush()


def _name(user_id: int) -> str:
    user = db.session.get(User, user_id)
    return user.person_name if user else ""


def households_in(actor: Actor, community_id: int, *, limit: int = 500) -> list[dict]:
    """The community's households for its staff (the evaluation group's scoring sheet), by place and door."""
    community = get_community(community_id)
    if not (actor.covers(community.path, ADMIN_ROLES)
            or works_in(actor, community.path)):
        raise Forbidden("只有本社区的工作人员可以查看家庭户。")
    rows = db.session.execute(
        select(Household.id, Household.room, Place.name, User.real_name, User.display_name)
        .join(Place, Place.id == Household.place_id).join(User, User.id == Household.head_id)
        .where(Household.community_id == community.id).order_by(Place.name, Household.room).limit(limit)).all()
    return [{"id": r.id, "label": f"{r.name}{r.room}", "head": r.real_name or r.display_name or "居民"} for r in rows]


def _household_label(household: Household, place_name: str) -> str:
    return f"{place_name}{household.room}"


def household_book(actor: Actor) -> dict:
    """My household's book: each member's earned points and balance, and the household's sum."""
    if not actor.is_authenticated:
        raise Unauthorized()
    household = ledger.household_of(actor.user_id)
    if household is None:
        raise NotFound("您还没有加入家庭户。")
    place = db.session.get(Place, household.place_id)
    member_ids = list(db.session.scalars(select(HouseholdMember.user_id)
                                         .where(HouseholdMember.household_id == household.id)))
    earned = dict(db.session.execute(
        select(PointEntry.user_id, func.sum(PointEntry.points)).where(
            PointEntry.household_id == household.id, PointEntry.kind.in_(RANKED_KINDS))
        .group_by(PointEntry.user_id)).all())
    balances = {u: ledger.balance_of(u) for u in member_ids}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(member_ids)))}
    members = [{"user_id": u, "name": "我" if u == actor.user_id else crypto.mask_name(users[u].person_name),
                "is_head": u == household.head_id, "earned": int(earned.get(u) or 0), "balance": balances[u]}
               for u in member_ids]
    return {"id": household.id, "label": _household_label(household, place.name), "place_id": place.id,
            "room": household.room, "community_id": household.community_id,
            "join_code": household.join_code if household.head_id == actor.user_id else None,
            "members": members, "earned": int(sum(earned.values()) or 0), "balance": sum(balances.values())}


# -- my points ----------------------------------------------------------------------------------

def my_points(actor: Actor) -> dict:
    if not actor.is_authenticated:
        raise Unauthorized()
    this_month = ledger.period_of(utcnow())
    earned = select(func.coalesce(func.sum(PointEntry.points), 0)).where(
        PointEntry.user_id == actor.user_id, PointEntry.kind.in_(RANKED_KINDS))
    household = ledger.household_of(actor.user_id)
    return {"balance": ledger.balance_of(actor.user_id),
            "earned_total": int(db.session.scalar(earned) or 0),
            "earned_this_month": int(db.session.scalar(earned.where(PointEntry.period == this_month)) or 0),
            "household_id": household.id if household else None}


def my_entries(actor: Actor, *, limit: int | None = None, cursor: str | None = None) -> Page:
    if not actor.is_authenticated:
        raise Unauthorized()
    return paginate(select(PointEntry).where(PointEntry.user_id == actor.user_id), PointEntry.id,
                    limit=limit, cursor=cursor)


def community_entries(actor: Actor, *, community_id: int, user_id: int | None = None,
                      limit: int | None = None, cursor: str | None = None) -> Page:
    """The ledger of a community, for its staff."""
    community = get_community(community_id)
    require_admin(actor, community.path)
    stmt = select(PointEntry).where(PointEntry.community_id == community.id)
    if user_id is not None:
        stmt = stmt.where(PointEntry.user_id == user_id)
    return paginate(stmt, PointEntry.id, limit=limit, cursor=cursor)


def reverse_entry(actor: Actor, entry_id: int, *, reason: str) -> PointEntry:
    """冲正: a staff correction is a reversing entry of an earning, never an edit."""
    entry = db.session.get(PointEntry, entry_id)
    if entry is None:
        raise NotFound("积分记录不存在。")
    community = db.session.get(Area, entry.community_id)
    require_admin(actor, community.path)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("请填写冲正原因。", errors={"reason": ["必填"]})
    if entry.kind != EARN:
        raise Conflict("只能冲正获得积分的记录。")
    held = sum(line.points for line in ledger.entries_of_source(entry.user_id, entry.source_type, entry.source_id))
    amount = min(held, entry.points, ledger.balance_of(entry.user_id))
    if amount <= 0:
        raise Conflict("该记录已冲正，或余额已用完，无可冲正的积分。")
    reversal = ledger.post(user_id=entry.user_id, points=-amount, kind=REVERSE, source_type=entry.source_type,
                           source_id=entry.source_id, community_id=entry.community_id, area_path=entry.area_path,
                           rule=ledger.Rule(entry.scheme_id, entry.item_code, entry.item_name),
                           note=f"冲正：{reason}", approved_by=actor.user_id, period=entry.period)
    if reversal is None:
        raise Conflict("该记录刚被其他人处理过，请刷新后重试。")
    audit.act("points.reverse", entry_id=entry.id, points=-amount)
    ledger.tell(reversal)
    return reversal


# -- applications (申请积分) ----------------------------------------------------------------------

def apply(actor: Actor, *, item_id: int, note: str, photo_ids: list[int] | None = None) -> PointApplication:
    if not actor.is_authenticated:
        raise Unauthorized()
    item = db.session.get(PointItem, item_id)
    if item is None or item.scheme.status != PUBLISHED:
        raise NotFound("积分项目不存在。")
    current = ledger.scheme_in_effect(item.scheme.community_id, local_today())
    if current is None or current.id != item.scheme_id:
        raise Conflict("该积分项目不在现行方案中。")
    if item.kind != APPLIED:
        raise Conflict("该项目不需要申请：它由系统自动计分或由月度评议给分。")
    note = (note or "").strip()
    if not note:
        raise Invalid("请说明事由。", errors={"note": ["必填"]})
    policy.screen("point_application", db.session.get(User, actor.user_id), note, "note")
    household = ledger.household_of(actor.user_id)
    path = household.area_path if household is not None and household.community_id == current.community_id \
        else current.area_path
    photos = photo_refs(resolve_photos(actor, photo_ids, area_path=path))
    application = PointApplication(user_id=actor.user_id, item_id=item.id, item=item,
                                   community_id=current.community_id, area_path=path, note=note[:1000],
                                   photos=photos, status=PENDING)
    db.session.add(application)
    db.session.flush()
    return application


def _may_decide(actor: Actor, application: PointApplication) -> bool:
    roles = (*ADMIN_ROLES, application.item.approver_role)
    return actor.covers(application.area_path, roles)


def list_applications(actor: Actor, *, mine: bool = False, status: str | None = None,
                      limit: int | None = None, cursor: str | None = None) -> Page:
    if not actor.is_authenticated:
        raise Unauthorized()
    stmt = select(PointApplication)
    if mine:
        stmt = stmt.where(PointApplication.user_id == actor.user_id)
    else:
        if not actor.has_role(*ADMIN_ROLES, *APPROVER_ROLES):
            raise Forbidden("只有审核人可以查看积分申请。")
        stmt = stmt.where(scope_filter(actor, PointApplication.area_path, (*ADMIN_ROLES, *APPROVER_ROLES)))
    if status is not None:
        stmt = stmt.where(PointApplication.status == status)
    return paginate(stmt, PointApplication.id, limit=limit, cursor=cursor)


def decide_application(actor: Actor, application_id: int, *, approve: bool, reason: str = "") -> PointApplication:
    """The item's approver decides; never the applicant. Approval pays once (source: the application)."""
    application = db.session.scalar(select(PointApplication).where(PointApplication.id == application_id)
                                    .with_for_update().execution_options(populate_existing=True))
    if application is None:
        raise NotFound("积分申请不存在。")
    if not _may_decide(actor, application):
        raise Forbidden("您不是该积分项目的审核人。")
    if application.user_id == actor.user_id:
        raise Forbidden("不能审核自己的积分申请。")
    if application.status != PENDING:
        raise Conflict("该申请已审核。")
    reason = (reason or "").strip()
    if not approve and not reason:
        raise Invalid("请填写不通过的原因。", errors={"reason": ["必填"]})
    application.status = APPROVED if approve else REJECTED
    application.decided_by, application.decided_at, application.reason = actor.user_id, utcnow(), reason[:200]
    db.session.flush()
    if approve:
        ledger.settle("application", application.id, user_id=application.user_id, area_path=application.area_path,
                      occurred_at=application.created_at, item=application.item, approved_by=actor.user_id,
                      note=application.item.name)
    else:
        notify([application.user_id], "points.application_rejected", title="积分申请未通过",
               body=f"“{application.item.name}”的申请未通过：{reason}", page="pages/points/index",
               data={"subject": application.item.name, "status": "未通过", "note": reason},
               subject=("point_application", application.id))
    audit.act("points.decide_application", application_id=application.id, approve=approve)
    return application


# -- rankings (月排名、季汇总、年兑现) ---------------------------------------------------------------

PERIOD_KINDS = {"month": "月度", "quarter": "季度", "year": "年度"}


def months_of(period: str, at: str | None) -> tuple[str, list[str]]:
    """The months a ranking covers: month "2026-11", quarter "2026-Q4", year "2026"; default: now."""
    today = local_today()
    try:
        if period == "month":
            label = at or today.strftime("%Y-%m")
            year, month = (int(x) for x in label.split("-"))
            if not (1 <= month <= 12 and 1 <= year <= 9999):
                raise ValueError
            return f"{year:04d}-{month:02d}", [f"{year:04d}-{month:02d}"]
        if period == "quarter":
            label = at or f"{today.year}-Q{(today.month - 1) // 3 + 1}"
            year, quarter = label.split("-Q")
            q = int(quarter)
            if not (1 <= q <= 4 and 1 <= int(year) <= 9999):
                raise ValueError
            return label, [f"{int(year):04d}-{m:02d}" for m in range(3 * q - 2, 3 * q + 1)]
        if period == "year":
            year = int(at or today.year)
            if not 1 <= year <= 9999:
                raise ValueError
            return str(year), [f"{year:04d}-{m:02d}" for m in range(1, 13)]
    except ValueError as exc:
        raise Invalid("期间格式有误：月度为 YYYY-MM，季度为 YYYY-Qn，年度为 YYYY。", errors={"at": ["格式有误"]}) from exc
    raise Invalid("排行期间应为 month、quarter 或 year。", errors={"period": ["无效"]})


def _scope_path(community_id: int, grid_id: int | None) -> str:
    community = get_community(community_id)
    if grid_id is None:
        return community.path
    grid = get_area(grid_id)
    if grid.level != GRID or not grid.path.startswith(community.path):
        raise NotFound("网格不存在。")
    return grid.path


def ranking(actor: Actor, *, community_id: int, grid_id: int | None = None, period: str = "month",
            at: str | None = None, by: str = "person", full_names: bool = False,
            limit: int | None = None, cursor: str | None = None) -> dict:
    """Points earned in a period, per person or per household, in a community or one of its grids.

    Public boards mask the names; `full_names` is for the community's staff only (checked here)."""
    path = _scope_path(community_id, grid_id)
    if full_names:
        require_admin(actor, path)
    label, months = months_of(period, at)
    if by not in ("person", "household"):
        raise Invalid("排行对象应为 person 或 household。", errors={"by": ["无效"]})
    key = PointEntry.user_id if by == "person" else PointEntry.household_id
    total = func.sum(PointEntry.points)
    stmt = (select(key.label("key"), total.label("points"),
                   func.rank().over(order_by=total.desc()).label("rank"))
            .where(PointEntry.kind.in_(RANKED_KINDS), PointEntry.period.in_(months),
                   PointEntry.community_id == community_id,
                   PointEntry.area_path.startswith(path, autoescape=True), key.is_not(None))
            .group_by(key).order_by(total.desc(), key))
    limit = max(1, min(limit or 20, 100))
    offset = decode_cursor(cursor) if cursor else 0
    rows = db.session.execute(stmt.offset(offset).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    names = person_names(r.key for r in rows) if by == "person" else _household_names(r.key for r in rows)
    items = [{"rank": r.rank, "id": r.key, "points": int(r.points),
              "name": _display(by, names.get(r.key, ""), full_names)} for r in rows]
    return {"period": period, "period_label": f"{PERIOD_KINDS[period]} {label}", "by": by, "items": items,
            "next_cursor": encode_cursor(offset + limit) if more else None}


def person_names(ids) -> dict[int, str]:
    ids = list(ids)
    if not ids:
        return {}
    return {u.id: u.person_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def _household_names(ids) -> dict[int, str]:
    ids = list(ids)
    if not ids:
        return {}
    rows = db.session.execute(select(Household.id, Household.room, Place.name, User.real_name, User.display_name)
                              .join(Place, Place.id == Household.place_id).join(User, User.id == Household.head_id)
                              .where(Household.id.in_(ids))).all()
    return {r.id: f"{r.name}{r.room}|{r.real_name or r.display_name or '居民'}" for r in rows}


def _display(by: str, name: str, full: bool) -> str:
    """Public boards: "张*" for a person, "张*户" for a household ("东城小区2号楼301|张建国"); staff: in full."""
    if by == "person":
        return name if full else crypto.mask_name(name)
    where, _, head = name.partition("|")
    return f"{where}（户主 {head}）" if full else f"{crypto.mask_name(head)}户"
