"""年兑现: share a year's dividend pool among a community's households by the points they earned that year.

The pool is the scheme's share of the collective's income ("4321": 20 % for 积分差异分红). Each household with
points gets pool × its points ÷ all households' points, in fen; the fen left by rounding down go one each to
the largest remainders (ties: the lower household id), so the shares add up to the pool exactly and the same
ledger always gives the same result. It is shown for notice, then exported for payment.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import func, select

from app.accounts.models import ADMIN_ROLES
from app.areas.models import Place
from app.core import audit, crypto, exports
from app.core.errors import Conflict, Invalid, NotFound
from app.core.pagination import Page, paginate
from app.core.scoping import Actor
from app.core.time import utcnow
from app.extensions import db
from app.points import ledger
from app.points.models import RANKED_KINDS, Cashout, Household, PointEntry
from app.points.service import get_community, months_of, person_names, require_admin

NOTICE_DAYS = 7
FEN = Decimal("0.01")


def household_points(community_id: int, year: int) -> dict[int, int]:
    """Points each household earned in the year, from the ledger (earnings and their reversals)."""
    _label, months = months_of("year", str(year))
    rows = db.session.execute(
        select(PointEntry.household_id, func.sum(PointEntry.points))
        .where(PointEntry.community_id == community_id, PointEntry.household_id.is_not(None),
               PointEntry.kind.in_(RANKED_KINDS), PointEntry.period.in_(months))
        .group_by(PointEntry.household_id)).all()
    return {household_id: int(points) for household_id, points in rows}


def shares(pool: Decimal, points: dict[int, int]) -> list[dict]:
    """Split `pool` (yuan) by points, exactly, in fen; households with no positive points get nothing."""
    eligible = {h: p for h, p in points.items() if p > 0}
    total = sum(eligible.values())
    pool_fen = int((pool / FEN).to_integral_value())
    if not total:
        return [{"household_id": h, "points": p, "share": "0.00"} for h, p in sorted(points.items())]
    floors = {h: pool_fen * p // total for h, p in eligible.items()}
    left = pool_fen - sum(floors.values())
    by_remainder = sorted(eligible, key=lambda h: (-(pool_fen * eligible[h] % total), h))
    for h in by_remainder[:left]:
        floors[h] += 1
    return [{"household_id": h, "points": p, "share": str((Decimal(floors.get(h, 0)) * FEN).quantize(FEN))}
            for h, p in sorted(points.items(), key=lambda item: (-item[1], item[0]))]


def _money(value) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(FEN, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError) as exc:
        raise Invalid("集体经济收益应为金额（元）。", errors={"income": ["应为金额"]}) from exc
    if amount <= 0 or amount >= Decimal("1e12"):
        raise Invalid("集体经济收益应大于 0。", errors={"income": ["应大于 0"]})
    return amount


def compute(actor: Actor, *, community_id: int, year: int, income) -> Cashout:
    """Compute and keep a year's cash-out from the community's income, for a notice period."""
    community = get_community(community_id)
    require_admin(actor, community.path)
    income = _money(income)
    scheme = ledger.scheme_in_effect(community.id, date(year, 12, 31))
    if scheme is None:
        raise Conflict(f"{year} 年没有适用的积分方案。")
    if db.session.scalar(select(Cashout.id).where(Cashout.community_id == community.id, Cashout.year == year)):
        raise Conflict(f"{year} 年的积分兑现已经计算过。")
    percent = scheme.dividend_percent
    pool = (income * percent / 100).quantize(FEN, rounding=ROUND_HALF_UP)
    points = household_points(community.id, year)
    rows = shares(pool, points)
    cashout = Cashout(community_id=community.id, area_path=community.path, scheme_id=scheme.id, year=year,
                      income=income, percent=percent, pool=pool, total_points=sum(p for p in points.values() if p > 0),
                      rows=rows, created_by=actor.user_id, notice_until=utcnow() + timedelta(days=NOTICE_DAYS))
    db.session.add(cashout)
    db.session.flush()
    audit.act("points.compute_cashout", cashout_id=cashout.id, year=year, pool=str(pool))
    return cashout


def _load(cashout_id: int) -> Cashout:
    cashout = db.session.get(Cashout, cashout_id)
    if cashout is None:
        raise NotFound("积分兑现记录不存在。")
    return cashout


def list_cashouts(*, community_id: int, limit: int | None = None, cursor: str | None = None) -> Page:
    community = get_community(community_id)
    return paginate(select(Cashout).where(Cashout.community_id == community.id), Cashout.id, limit=limit,
                    cursor=cursor)


def view(actor: Actor, cashout_id: int) -> dict:
    """The result for notice: public with masked heads, in full for the community's admins; `reproduced`
    says whether the ledger today still gives exactly the kept result."""
    cashout = _load(cashout_id)
    staff = actor.covers(cashout.area_path, ADMIN_ROLES)
    recomputed = shares(cashout.pool, household_points(cashout.community_id, cashout.year))
    labels = _labels([r["household_id"] for r in cashout.rows])
    rows = [{"rank": n, "household_id": r["household_id"], "points": r["points"], "share": r["share"],
             "household": labels[r["household_id"]][0] if staff
             else f"{crypto.mask_name(labels[r['household_id']][1])}户"}
            for n, r in enumerate(cashout.rows, start=1)]
    return {"id": cashout.id, "community_id": cashout.community_id, "year": cashout.year,
            "income": str(cashout.income), "percent": cashout.percent, "pool": str(cashout.pool),
            "total_points": cashout.total_points, "notice_until": cashout.notice_until, "created_at": cashout.created_at,
            "rows": rows, "reproduced": recomputed == cashout.rows,
            "formula": f"分红池 = 集体经济收益 × {cashout.percent}%；各户分红 = 分红池 × 本户全年积分 ÷ 各户全年积分合计（按分计，尾差按余数大小补足）"}


def _labels(household_ids: list[int]) -> dict[int, tuple[str, str]]:
    rows = db.session.execute(select(Household.id, Household.room, Household.head_id, Place.name)
                              .join(Place, Place.id == Household.place_id)
                              .where(Household.id.in_(household_ids))).all()
    heads = person_names(r.head_id for r in rows)
    return {r.id: (f"{r.name}{r.room}（户主 {heads.get(r.head_id, '')}）", heads.get(r.head_id, "")) for r in rows}


COLUMNS = ["序号", "家庭户", "全年积分", "分红金额（元）"]


def to_xlsx(actor: Actor, cashout_id: int) -> tuple[bytes, str]:
    """The payment list for the community's admins."""
    cashout = _load(cashout_id)
    require_admin(actor, cashout.area_path)
    result = view(actor, cashout_id)
    book, sheet = exports.workbook(f"{cashout.year}年积分兑现")
    exports.append(sheet, [f"{cashout.year} 年积分兑现（年兑现）", "", "", ""])
    exports.append(sheet, ["集体经济收益（元）", result["income"], "分红比例", f"{cashout.percent}%"])
    exports.append(sheet, ["分红池（元）", result["pool"], "各户积分合计", cashout.total_points])
    exports.append(sheet, ["计算方法", result["formula"], "", ""])
    exports.append(sheet, COLUMNS)
    for row in result["rows"]:
        exports.append(sheet, [row["rank"], row["household"], row["points"], Decimal(row["share"])])
    audit.act("points.export_cashout", cashout_id=cashout.id)
    return exports.xlsx_bytes(book), f"{cashout.year}年积分兑现.xlsx"
