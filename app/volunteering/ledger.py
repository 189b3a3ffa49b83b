"""The service-hours ledger (志愿服务记录): credit entries, list them with totals, approve or reject them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import ADMIN_ROLES
from app.areas.models import COMMUNITY, Area
from app.areas.service import area_chain, get_area
from app.core.crypto import mask_name
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.pagination import paginate
from app.core.scoping import Actor, admin_role, scope_filter
from app.core.time import to_local, utcnow
from app.core.workflow import record
from app.extensions import db
from app.notifications.service import notify
from app.points import sources as points
from app.volunteering.certificates import revoke_covering
from app.volunteering.models import Enrollment, ServiceHours
from app.volunteering.states import (
    APPROVED,
    HOURS_FLOW,
    PENDING,
    PRESENCE_PENDING,
    REJECTED,
    SYSTEM,
)

# report: a case reported on duty by a new-group post holder (app/newgroups).
SOURCE_TYPES = ("activity", "wish", "report")
CENT = Decimal("0.01")
SYSTEM_ACTOR = Actor(user_id=None)


def hours_value(value) -> Decimal:
    try:
        return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise Invalid("服务时长须为数字。", errors={"hours": ["须为数字"]}) from exc


def hours_text(value: Decimal | None) -> str | None:
    return None if value is None else str(Decimal(value).quantize(CENT))


def find_entry(user_id: int, source_type: str, source_id: int) -> ServiceHours | None:
    return db.session.scalar(select(ServiceHours).where(
        ServiceHours.user_id == user_id, ServiceHours.source_type == source_type,
        ServiceHours.source_id == source_id))


def credit_hours(*, user_id: int, source_type: str, source_id: int, hours, area_path: str, description: str,
                 organiser_area_id: int | None = None, organiser_name: str | None = None,
                 served_on: date | None = None, place: str = "", started_at: datetime | None = None,
                 ended_at: datetime | None = None, recorded_by: int | None = None) -> ServiceHours:
    """Record hours as pending. Idempotent: the same person and source always give the same row."""
    existing = find_entry(user_id, source_type, source_id)
    if existing is not None:
        return existing
    if source_type not in SOURCE_TYPES:
        raise Invalid("未知的服务时长来源。", errors={"source_type": [f"应为 {'、'.join(SOURCE_TYPES)}"]})
    value = hours_value(hours)
    if value <= 0:
        raise Invalid("服务时长必须大于 0。", errors={"hours": ["必须大于 0"]})
    entry = ServiceHours(
        user_id=user_id, source_type=source_type, source_id=source_id, hours=value, area_path=area_path,
        organiser_area_id=organiser_area_id, organiser_name=organiser_name or _organiser_of(area_path,
                                                                                          organiser_area_id),
        description=(description or "")[:200], served_on=served_on or to_local(utcnow()).date(), status=PENDING,
        place=(place or "")[:200], started_at=started_at, ended_at=ended_at, recorded_by=recorded_by,
        recorded_at=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(entry)
            db.session.flush()
    except IntegrityError:
        # Someone credited the same source a moment ago: theirs is the one row.
        found = find_entry(user_id, source_type, source_id)
        if found is None:
            raise
        return found
    record("service_hours", entry.id, SYSTEM_ACTOR, SYSTEM, "credit", None, PENDING, data={"hours": hours_text(value)})
    return entry


def _organiser_of(area_path: str, area_id: int | None) -> str:
    if area_id is not None:
        area = db.session.get(Area, area_id)
        if area is not None:
            return area.name
    chain = area_chain(area_path)
    area = chain.get(COMMUNITY) or next(iter(sorted(chain.values(), key=lambda a: -len(a.path))), None)
    return area.name if area else ""


@dataclass
class HoursPage:
    items: list[ServiceHours]
    next_cursor: str | None
    totals: dict


def list_hours(actor: Actor, *, mine: bool = True, status: str | None = None, community_id: int | None = None,
               limit: int | None = None, cursor: str | None = None) -> HoursPage:
    """My ledger with my totals, or (mine=false) the entries an admin may decide, pending by default."""
    if mine:
        where = [ServiceHours.user_id == actor.user_id]
    else:
        if not actor.has_role(*ADMIN_ROLES):
            raise Forbidden("只有社区管理员可以审核服务时长。")
        where = [scope_filter(actor, ServiceHours.area_path, ADMIN_ROLES)]
        status = status or PENDING
    if community_id is not None:
        where.append(ServiceHours.area_path.startswith(get_area(community_id).path, autoescape=True))
    totals = _totals(where)
    stmt = select(ServiceHours).where(*where)
    if status:
        stmt = stmt.where(ServiceHours.status == status)
    page = paginate(stmt, ServiceHours.id, limit=limit, cursor=cursor)
    for entry in page.items:
        entry.allowed_actions = HOURS_FLOW.allowed_actions(entry, actor)
    return HoursPage(items=page.items, next_cursor=page.next_cursor, totals=totals)


def _totals(where: list) -> dict:
    rows = db.session.execute(
        select(ServiceHours.status, func.count(), func.coalesce(func.sum(ServiceHours.hours), 0))
        .where(*where).group_by(ServiceHours.status)).all()
    by_status = {status: (count, Decimal(total)) for status, count, total in rows}
    totals = {}
    for status in (APPROVED, PENDING, REJECTED):
        count, total = by_status.get(status, (0, Decimal(0)))
        totals[f"{status}_hours"] = float(Decimal(total).quantize(CENT))
        totals[f"{status}_count"] = count
    return totals


def approved_hours(*, source_type: str | None = None, area_path: str | None = None) -> Decimal:
    """Hours of service as the record has them: approved entries only (a rejected or pending one counts nowhere)."""
    where = [ServiceHours.status == APPROVED]
    if source_type is not None:
        where.append(ServiceHours.source_type == source_type)
    if area_path is not None:
        where.append(ServiceHours.area_path.startswith(area_path, autoescape=True))
    return Decimal(db.session.scalar(select(func.coalesce(func.sum(ServiceHours.hours), 0)).where(*where)))


def volunteer_name(actor: Actor, entry: ServiceHours) -> str:
    """The organisation that decides the hours needs the real name; anyone else sees it masked."""
    if actor.user_id == entry.user_id or admin_role(actor, entry.area_path):
        return entry.user.person_name
    return mask_name(entry.user.person_name)


def get_entry(actor: Actor, entry_id: int) -> ServiceHours:
    entry = db.session.get(ServiceHours, entry_id)
    if entry is None or (entry.user_id != actor.user_id and not admin_role(actor, entry.area_path)):
        raise NotFound("服务时长记录不存在。")
    entry.allowed_actions = HOURS_FLOW.allowed_actions(entry, actor)
    return entry


def transition_hours(actor: Actor, entry_id: int, action: str, *, reason: str = "",
                     evaluation: str = "") -> ServiceHours:
    """Approve (with an optional evaluation) or reject (with a reason) an entry."""
    entry = db.session.scalar(select(ServiceHours).where(ServiceHours.id == entry_id).with_for_update()
                              .execution_options(populate_existing=True))
    if entry is None:
        raise NotFound("服务时长记录不存在。")
    if action == "reject" and not reason.strip():
        raise Invalid("请填写不通过的原因。", errors={"reason": ["必填"]})
    if action == "approve" and _presence_unconfirmed(entry):
        raise Conflict("该志愿者签到时不在活动地点附近（或未提供位置），请先在考勤中确认到场，再审核时长。")
    if evaluation.strip():
        entry.evaluation = evaluation.strip()
    decide(entry, action, actor, note=reason.strip() or evaluation.strip())
    entry.allowed_actions = HOURS_FLOW.allowed_actions(entry, actor)
    return entry


def _presence_unconfirmed(entry: ServiceHours) -> bool:
    if entry.source_type != "activity":
        return False
    return db.session.scalar(select(Enrollment.presence).where(
        Enrollment.activity_id == entry.source_id, Enrollment.user_id == entry.user_id)) == PRESENCE_PENDING


def decide(entry: ServiceHours, action: str, actor: Actor, *, note: str) -> None:
    was = entry.status
    HOURS_FLOW.apply(entry, action, actor, note=note, data={"hours": hours_text(entry.hours)})
    entry.decided_by = actor.user_id
    entry.decided_at = utcnow()
    if entry.status == APPROVED and entry.recorded_by is None:
        # A wish's hours are recorded by the community admin who approves them.
        entry.recorded_by, entry.recorded_at = actor.user_id, entry.decided_at
    if entry.status == REJECTED:
        entry.decision_note = note
        if was == APPROVED:
            revoke_covering(entry, reason=f"其中一条服务时长（{entry.description}）被撤销：{note}")
        tell_hours(entry, "rejected", "未通过", body=f"{entry.hours} 小时未通过审核。原因：{note}")
    else:
        tell_hours(entry, "approved", "已通过", body=f"{entry.hours} 小时已由{entry.organiser_name}审核通过。")
    db.session.flush()
    points.service_hours_decided(entry)


def tell_hours(entry: ServiceHours, event: str, status: str, *, body: str) -> None:
    notify([entry.user_id], f"service_hours.{event}", title=f"服务时长{status}：{entry.description[:40]}",
           body=body, page=f"pages/hours/detail?id={entry.id}",
           data={"subject": entry.description, "status": status, "time": utcnow().isoformat(), "note": body},
           subject=("service_hours", entry.id))
