"""Figures for one area (and its subtree) over one date range, scoped to the caller.

Aggregates run in the database. Communities, streets and counties read cases, wishes and service
hours from the daily rollups (app/stats/rollups.py); `figures_for(..., from_rollups=False)` computes
the same figures from the rows. Hours to accept, to close and to claim are given as the median and
90th percentile of a histogram (DURATION_NOTE), the same from rows and from rollups; the other
percentiles use percentile_cont on PostgreSQL and a small Python fallback on SQLite.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import Float, case, cast, distinct, func, select
from werkzeug.security import safe_join

from app.accounts.models import ADMIN_ROLES, GRID_WORKER, User
from app.areas.models import COMMUNITY, DISTRICT, STREET, Area, Department, Place
from app.areas.service import scoped_area
from app.cases.models import Case, Category
from app.core.errors import Forbidden, Invalid, NotFound
from app.core.pagination import Page, paginate
from app.core.replica import from_replica
from app.core.scoping import Actor, scope_filter
from app.core.time import SHANGHAI, to_local, utcnow
from app.extensions import db
from app.members.models import PENDING as MEMBER_PENDING
from app.members.models import PartyMember
from app.newgroups.models import APPROVED as GROUP_APPROVED
from app.newgroups.models import KIND_LABELS as GROUP_KIND_LABELS
from app.newgroups.models import POST_KINDS, GroupWorker, PostClaim, PostReport, ServicePost
from app.praise.models import Praise
from app.stats import exports, rollups
from app.stats.models import MonthlyReport
from app.suggestions.models import Representative, Suggestion
from app.volunteering.models import Activity, ServiceHours
from app.wishes.models import SUBMITTED as WISH_SUBMITTED
from app.wishes.models import Wish

STATS_ROLES = (*ADMIN_ROLES, GRID_WORKER)
MAX_DAYS = 366 * 3
# Areas this wide read cases, wishes and service hours from the daily rollups, not from the rows
# (a grid's figures are a part of its community's rollups, so a grid reads its rows).
ROLLUP_LEVELS = (COMMUNITY, STREET, DISTRICT)
# What the medians and 90th percentiles of durations are, said once for the API and the console.
DURATION_NOTE = ("中位数（median）和 90 分位（p90）按分段统计：用时在 24 小时内按 1 小时分段，72 小时内按 2 小时、"
                 "168 小时内按 6 小时、720 小时内按 24 小时分段，其后按 168 小时分段；取至少一半（90 分位为 90%）"
                 "的件数不超过的最小分段上限，单位小时，因此是约数，最多比实际偏大一个分段；mean 为平均小时数")


@dataclass(frozen=True)
class Period:
    start: datetime  # aware UTC, inclusive
    end: datetime  # aware UTC, exclusive
    first_day: date
    last_day: date


def period(date_from: date | None, date_to: date | None) -> Period:
    """Local (Asia/Shanghai) calendar days → a UTC half-open range. Default: the last 30 days."""
    today = to_local(utcnow()).date()
    last = date_to or today
    first = date_from or last - timedelta(days=29)
    if first > last:
        raise Invalid("开始日期不能晚于结束日期。", errors={"from": ["开始日期晚于结束日期"]})
    if (last - first).days > MAX_DAYS:
        raise Invalid("统计区间最长 3 年。", errors={"to": ["区间过长"]})
    start = datetime.combine(first, time.min, SHANGHAI).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, SHANGHAI).astimezone(UTC)
    return Period(start=start, end=end, first_day=first, last_day=last)


def dashboard(actor: Actor, area_id: int, date_from: date | None = None, date_to: date | None = None,
              sections: tuple[str, ...] | None = None) -> dict:
    """Every section's figures, or only `sections` (a chart needs one or two, not all five)."""
    area = scoped_area(actor, area_id, STATS_ROLES)
    span = period(date_from, date_to)
    with from_replica():
        figures = figures_for(area.path, span, sections, from_rollups=area.level in ROLLUP_LEVELS)
    return {
        "area": {"id": area.id, "name": area.name, "level": area.level},
        "period": {"from": span.first_day.isoformat(), "to": span.last_day.isoformat()},
        **figures,
    }


def figures_for(path: str, span: Period, sections: tuple[str, ...] | None = None,
                from_rollups: bool = False) -> dict:
    table = ROLLUP_SECTIONS if from_rollups else SECTIONS
    return {name: table[name](path, span) for name in (sections or SECTIONS)}


# -- helpers --------------------------------------------------------------------------------

def _is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def _hours_between(later, earlier):
    """An SQL expression: hours from `earlier` to `later`."""
    return rollups.hours_between(later, earlier)


def _duration_figures(later, earlier, where, quantiles=(50, 90)) -> list[float | None]:
    """Percentiles of the durations on the histogram the rollups keep (rollups.duration_bucket)."""
    bucket = rollups.duration_bucket(later, earlier)
    counts = {int(edge): n for edge, n in db.session.execute(
        select(bucket, func.count()).where(*where, later.is_not(None)).group_by(bucket))}
    return [rollups.quantile(counts, q) for q in quantiles]


def _mean_hours(later, earlier, where) -> float | None:
    mean = db.session.scalar(select(func.avg(_hours_between(later, earlier))).where(*where, later.is_not(None)))
    return None if mean is None else round(float(mean), 1)


def _percentiles(stmt_column, where, quantiles=(0.5, 0.9)) -> list[float | None]:
    if _is_postgres():
        row = db.session.execute(select(*[
            func.percentile_cont(q).within_group(stmt_column) for q in quantiles
        ]).where(*where)).one()
        return [None if v is None else round(float(v), 1) for v in row]
    values = sorted(v for v in db.session.scalars(select(stmt_column).where(*where)) if v is not None)
    if not values:
        return [None for _ in quantiles]
    if len(values) == 1:
        return [round(values[0], 1) for _ in quantiles]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return [round(cuts[int(q * 100) - 1], 1) for q in quantiles]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _local_week_start(column):
    """The Monday (local time) of a timestamp, as text YYYY-MM-DD."""
    if _is_postgres():
        return func.to_char(func.date_trunc("week", func.timezone("Asia/Shanghai", column)), "YYYY-MM-DD")
    local = func.datetime(column, "+8 hours")
    return func.date(local, "weekday 0", "-6 days")


def _local_month(column):
    if _is_postgres():
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _grid_names(paths: list[str]) -> dict[str, str]:
    ids = {int(p.strip("/").split("/")[-1]) for p in paths if p and p.strip("/")}
    if not ids:
        return {}
    return {a.path: a.name for a in db.session.scalars(select(Area).where(Area.id.in_(ids)))}


def _user_names(ids) -> dict[int, str]:
    ids = [i for i in ids if i]
    if not ids:
        return {}
    return {u.id: u.person_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


# -- cases ----------------------------------------------------------------------------------

def case_figures(path: str, span: Period) -> dict:
    in_scope = (Case.area_path.startswith(path, autoescape=True),
                Case.created_at >= span.start, Case.created_at < span.end)
    totals = db.session.execute(select(
        func.count(Case.id),
        func.sum(case((Case.overdue.is_(True), 1), else_=0)),
        func.sum(case((Case.reopen_count > 0, 1), else_=0)),
        func.sum(case((Case.closed_at.is_not(None), 1), else_=0)),
        func.avg(cast(Case.rating, Float)),
        func.count(Case.rating),
        func.sum(case((Case.rating >= 4, 1), else_=0)),
    ).where(*in_scope)).one()
    total, overdue, reopened, closed, mean_rating, rated, satisfied = (v or 0 for v in totals)

    by_status = dict(db.session.execute(
        select(Case.status, func.count(Case.id)).where(*in_scope).group_by(Case.status)).all())
    by_category = [
        {"category": name, "count": count} for name, count in db.session.execute(
            select(Category.name, func.count(Case.id)).join(Category, Category.id == Case.category_id)
            .where(*in_scope).group_by(Category.name).order_by(func.count(Case.id).desc()))
    ]
    grid_rows = db.session.execute(
        select(Case.area_path, func.count(Case.id)).where(*in_scope).group_by(Case.area_path)).all()
    names = _grid_names([p for p, _ in grid_rows])
    by_grid = sorted(({"grid": names.get(p, p), "count": c} for p, c in grid_rows),
                     key=lambda i: (-i["count"], i["grid"]))

    accept_p50, accept_p90 = _duration_figures(Case.accepted_at, Case.created_at, in_scope)
    close_p50, close_p90 = _duration_figures(Case.closed_at, Case.created_at, in_scope)

    week = _local_week_start(Case.created_at)
    trend = [{"week": w, "count": c} for w, c in db.session.execute(
        select(week, func.count(Case.id)).where(*in_scope).group_by(week).order_by(week))]

    return {
        "total": total,
        "by_status": by_status,
        "by_category": by_category,
        "by_grid": by_grid,
        "hours_to_accept": {"median": accept_p50, "p90": accept_p90,
                            "mean": _mean_hours(Case.accepted_at, Case.created_at, in_scope)},
        "hours_to_close": {"median": close_p50, "p90": close_p90,
                           "mean": _mean_hours(Case.closed_at, Case.created_at, in_scope)},
        "overdue_rate": _rate(overdue, total),
        "reopen_rate": _rate(reopened, closed),
        "satisfaction": {"mean": round(float(mean_rating), 2) if rated else None, "rated": rated,
                         "share_4_or_5": _rate(satisfied, rated)},
        "weekly_trend": trend,
    }


# -- wishes ---------------------------------------------------------------------------------

def wish_figures(path: str, span: Period) -> dict:
    scope = Wish.area_path.startswith(path, autoescape=True)

    def count(column) -> int:
        return db.session.scalar(select(func.count(Wish.id)).where(
            scope, column >= span.start, column < span.end)) or 0

    claimed = (scope, Wish.claimed_at >= span.start, Wish.claimed_at < span.end)
    (claim_p50,) = _duration_figures(Wish.claimed_at, Wish.created_at, claimed, quantiles=(50,))
    return {
        "posted": count(Wish.created_at),
        "claimed": count(Wish.claimed_at),
        "fulfilled": count(Wish.fulfilled_at),
        "median_hours_to_claim": claim_p50,
        "mean_hours_to_claim": _mean_hours(Wish.claimed_at, Wish.created_at, claimed),
        "top_members": _top_members(path, span),
    }


def _top_members(path: str, span: Period) -> list[dict]:
    # The ranking reads the ledger: a wish counts once its hours are approved, and never once rejected.
    served = (ServiceHours.area_path.startswith(path, autoescape=True), ServiceHours.source_type == "wish",
              ServiceHours.status == "approved", ServiceHours.served_on >= span.first_day,
              ServiceHours.served_on <= span.last_day)
    top = db.session.execute(
        select(ServiceHours.user_id, func.count(ServiceHours.id), func.coalesce(func.sum(ServiceHours.hours), 0))
        .where(*served).group_by(ServiceHours.user_id)
        .order_by(func.count(ServiceHours.id).desc(), func.sum(ServiceHours.hours).desc(), ServiceHours.user_id)
        .limit(5)).all()
    names = _user_names([r[0] for r in top])
    return [{"user_id": uid, "name": names.get(uid, ""), "fulfilled": n, "hours": float(h or 0)}
            for uid, n, h in top]


# -- volunteering ---------------------------------------------------------------------------

def volunteering_figures(path: str, span: Period) -> dict:
    approved = (ServiceHours.area_path.startswith(path, autoescape=True), ServiceHours.status == "approved",
                ServiceHours.served_on >= span.first_day, ServiceHours.served_on <= span.last_day)
    month = _local_month(ServiceHours.served_on)
    by_month = [{"month": m, "hours": round(float(h or 0), 1)} for m, h in db.session.execute(
        select(month, func.sum(ServiceHours.hours)).where(*approved).group_by(month).order_by(month))]
    total_hours = db.session.scalar(select(func.coalesce(func.sum(ServiceHours.hours), 0)).where(*approved))
    return {"hours_by_month": by_month, "total_hours": round(float(total_hours or 0), 1),
            **_volunteers_and_activities(path, span)}


def _volunteers_and_activities(path: str, span: Period) -> dict:
    approved = (ServiceHours.area_path.startswith(path, autoescape=True), ServiceHours.status == "approved",
                ServiceHours.served_on >= span.first_day, ServiceHours.served_on <= span.last_day)
    active = db.session.scalar(select(func.count(distinct(ServiceHours.user_id))).where(*approved)) or 0
    held = db.session.scalar(select(func.count(Activity.id)).where(
        Activity.area_path.startswith(path, autoescape=True), Activity.status != "cancelled",
        Activity.ends_at >= span.start, Activity.ends_at < span.end)) or 0
    return {"active_volunteers": active, "activities_held": held}


# -- praise ---------------------------------------------------------------------------------

def praise_figures(path: str, span: Period) -> dict:
    where = (Praise.area_path.startswith(path, autoescape=True),
             Praise.created_at >= span.start, Praise.created_at < span.end)
    total = db.session.scalar(select(func.count(Praise.id)).where(*where)) or 0
    by_type = dict(db.session.execute(
        select(Praise.target_type, func.count(Praise.id)).where(*where).group_by(Praise.target_type)).all())
    top = db.session.execute(
        select(Praise.target_type, Praise.target_id, func.count(Praise.id)).where(*where)
        .group_by(Praise.target_type, Praise.target_id).order_by(func.count(Praise.id).desc()).limit(5)).all()
    users = _user_names([tid for ttype, tid, _ in top if ttype in ("grid_worker", "party_member")])
    place_ids = [tid for ttype, tid, _ in top if ttype in ("merchant", "place")]
    places = {p.id: p.name for p in db.session.scalars(select(Place).where(Place.id.in_(place_ids)))} \
        if place_ids else {}
    most = [{"target_type": ttype, "target_id": tid, "count": n,
             "name": users.get(tid, "") if ttype in ("grid_worker", "party_member") else places.get(tid, "")}
            for ttype, tid, n in top]
    return {"total": total, "by_target_type": by_type, "most_praised": most}


# -- suggestions ----------------------------------------------------------------------------

def suggestion_figures(path: str, span: Period) -> dict:
    where = (Suggestion.area_path.startswith(path, autoescape=True),
             Suggestion.created_at >= span.start, Suggestion.created_at < span.end)
    response = _hours_between(Suggestion.first_response_at, Suggestion.created_at)
    reps = []
    for rep_id, name, received, answered, mean, rated, happy in db.session.execute(
        select(Suggestion.representative_id, Representative.name, func.count(Suggestion.id),
               func.count(Suggestion.answered_at), func.avg(cast(Suggestion.rating, Float)),
               func.count(Suggestion.rating), func.sum(case((Suggestion.rating >= 4, 1), else_=0)))
        .join(Representative, Representative.id == Suggestion.representative_id)
        .where(*where).group_by(Suggestion.representative_id, Representative.name)
        .order_by(func.count(Suggestion.id).desc())
    ):
        (median,) = _percentiles(response, (*where, Suggestion.representative_id == rep_id,
                                            Suggestion.first_response_at.is_not(None)), quantiles=(0.5,))
        reps.append({"representative_id": rep_id, "name": name, "received": received, "answered": answered,
                     "median_response_hours": median,
                     "mean_rating": round(float(mean), 2) if rated else None,
                     "share_4_or_5": _rate(happy or 0, rated)})
    departments = []
    reply_hours = _hours_between(Suggestion.answered_at, Suggestion.created_at)
    for dep_id, name, referred, replied, mean, rated in db.session.execute(
        select(Suggestion.department_id, Department.name, func.count(Suggestion.id),
               func.count(Suggestion.department_reply), func.avg(cast(Suggestion.rating, Float)),
               func.count(Suggestion.rating))
        .join(Department, Department.id == Suggestion.department_id)
        .where(*where).group_by(Suggestion.department_id, Department.name)
    ):
        (median,) = _percentiles(reply_hours, (*where, Suggestion.department_id == dep_id,
                                               Suggestion.answered_at.is_not(None)), quantiles=(0.5,))
        departments.append({"department_id": dep_id, "name": name, "referred": referred, "replied": replied,
                            "median_response_hours": median,
                            "mean_rating": round(float(mean), 2) if rated else None})
    total = db.session.scalar(select(func.count(Suggestion.id)).where(*where)) or 0
    return {"total": total, "representatives": reps, "departments": departments}


# -- the new groups (新就业群体) -----------------------------------------------------------------

def new_group_figures(path: str, span: Period) -> dict:
    """Couriers, riders and drivers as their own group: who reported to a community, posts held, reports on duty."""
    workers = GroupWorker.area_path.startswith(path, autoescape=True)
    by_kind = dict(db.session.execute(select(GroupWorker.kind, func.count(GroupWorker.id)).where(
        workers, GroupWorker.status == GROUP_APPROVED).group_by(GroupWorker.kind)).all())
    registered = db.session.scalar(select(func.count(GroupWorker.id)).where(
        workers, GroupWorker.created_at >= span.start, GroupWorker.created_at < span.end)) or 0
    held = dict(db.session.execute(
        select(ServicePost.kind, func.count(PostClaim.id)).join(ServicePost, ServicePost.id == PostClaim.post_id)
        .where(PostClaim.area_path.startswith(path, autoescape=True), PostClaim.status == GROUP_APPROVED)
        .group_by(ServicePost.kind)).all())
    reports = db.session.scalar(select(func.count(PostReport.id)).where(
        PostReport.area_path.startswith(path, autoescape=True), PostReport.created_at >= span.start,
        PostReport.created_at < span.end)) or 0
    served = (ServiceHours.area_path.startswith(path, autoescape=True), ServiceHours.source_type == "report",
              ServiceHours.status == "approved", ServiceHours.served_on >= span.first_day,
              ServiceHours.served_on <= span.last_day)
    entries, hours = db.session.execute(select(func.count(ServiceHours.id),
                                               func.coalesce(func.sum(ServiceHours.hours), 0)).where(*served)).one()
    return {
        "registered_total": sum(by_kind.values()),
        "by_kind": [{"kind": k, "label": GROUP_KIND_LABELS.get(k, k), "count": by_kind.get(k, 0)}
                    for k in GROUP_KIND_LABELS],
        "registered_in_period": registered,
        "posts_held": [{"kind": k, "label": label, "count": held.get(k, 0)} for k, label in POST_KINDS.items()],
        "reports_on_duty": reports,
        "service_entries": entries, "service_hours": round(float(hours or 0), 1),
    }


SECTIONS = {"cases": case_figures, "wishes": wish_figures, "volunteering": volunteering_figures,
            "praise": praise_figures, "suggestions": suggestion_figures, "new_groups": new_group_figures}


# -- the same sections from the daily rollups (communities, streets, counties) -----------------

def rollup_case_figures(path: str, span: Period) -> dict:
    # A community's dashboard lists its grids; a wider area's lists its communities.
    return rollups.case_figures(path, span.first_day, span.last_day)


def rollup_wish_figures(path: str, span: Period) -> dict:
    sums = rollups.area_figures(path, span.first_day, span.last_day)
    return {"posted": sums["posted"], "claimed": sums["claimed"], "fulfilled": sums["fulfilled"],
            "median_hours_to_claim": sums["median_hours_to_claim"], "mean_hours_to_claim": sums["mean_hours_to_claim"],
            "top_members": _top_members(path, span)}


def rollup_volunteering_figures(path: str, span: Period) -> dict:
    sums = rollups.area_figures(path, span.first_day, span.last_day)
    return {"hours_by_month": sums["hours_by_month"], "total_hours": sums["total_hours"],
            **_volunteers_and_activities(path, span)}


ROLLUP_SECTIONS = {**SECTIONS, "cases": rollup_case_figures, "wishes": rollup_wish_figures,
                   "volunteering": rollup_volunteering_figures}


# -- defaults, monthly workbooks ------------------------------------------------------------

def default_area_id(actor: Actor) -> int:
    """The widest area the caller may see figures for."""
    grants = [g for g in actor.grants if g.role in STATS_ROLES and g.area_id is not None]
    if grants:
        return min(grants, key=lambda g: len(g.area_path)).area_id
    if actor.is_system_admin:
        root = db.session.scalar(select(Area.id).where(Area.parent_id.is_(None)).order_by(Area.id))
        if root is not None:
            return root

    raise Forbidden("您没有查看统计数据的权限。")


def monthly_workbook(area: Area, month: str) -> bytes:
    with from_replica():
        figures = figures_for(area.path, period(*exports.month_bounds(month)),
                              from_rollups=area.level in ROLLUP_LEVELS)
    title = f"{area.name} {month} 基层治理“一表通”"
    return exports.to_xlsx(title, exports.rows(figures), sheet=f"{month} 一表通")


def generate_monthly_reports(month: str | None = None) -> list[int]:
    """Write last month's workbook for every community; rerunning replaces the files."""
    if month is None:
        first_of_this_month = to_local(utcnow()).date().replace(day=1)
        month = (first_of_this_month - timedelta(days=1)).strftime("%Y-%m")
    root = Path(current_app.config["REPORTS_DIR"]) / month
    root.mkdir(parents=True, exist_ok=True)
    ids = []
    for area in db.session.scalars(select(Area).where(Area.level == COMMUNITY).order_by(Area.id)):
        relative = f"{month}/community-{area.id}.xlsx"
        (root / f"community-{area.id}.xlsx").write_bytes(monthly_workbook(area, month))
        report = db.session.scalar(select(MonthlyReport).where(
            MonthlyReport.area_id == area.id, MonthlyReport.month == month))
        if report is None:
            report = MonthlyReport(area_id=area.id, area_path=area.path, month=month, path=relative)
            db.session.add(report)
        report.created_at = utcnow()
        db.session.flush()
        ids.append(report.id)
    return ids


def list_monthly_reports(actor: Actor, *, limit: int | None = None, cursor: str | None = None) -> Page:
    """The monthly 一表通 workbooks of the areas in the actor's scope, newest first."""
    stmt = select(MonthlyReport).where(scope_filter(actor, MonthlyReport.area_path, STATS_ROLES))
    return paginate(stmt, MonthlyReport.id, limit=limit, cursor=cursor)


def monthly_report_file(actor: Actor, report_id: int) -> tuple[bytes, str]:
    """A stored 一表通 workbook and its download name, for staff whose scope covers its area."""
    report = db.session.get(MonthlyReport, report_id)
    if report is None:
        raise NotFound("报表不存在。")
    area = scoped_area(actor, report.area_id, STATS_ROLES)
    path = safe_join(current_app.config["REPORTS_DIR"], report.path)
    try:
        with open(path or "", "rb") as stored:
            data = stored.read()
    except OSError as exc:
        raise NotFound("报表文件不存在，请重新生成。") from exc
    return data, f"{area.name}-{report.month}-一表通.xlsx"


def pending_counts(actor: Actor) -> dict[str, int]:
    """Wishes awaiting review and party-member registrations awaiting approval, for admins."""
    if not actor.has_role(*ADMIN_ROLES):
        return {}
    wishes = db.session.scalar(select(func.count(Wish.id)).where(
        Wish.status == WISH_SUBMITTED, scope_filter(actor, Wish.area_path, ADMIN_ROLES)))
    members = db.session.scalar(select(func.count(PartyMember.id)).where(
        PartyMember.status == MEMBER_PENDING, scope_filter(actor, PartyMember.area_path, ADMIN_ROLES)))
    return {"wishes": wishes or 0, "members": members or 0}
