"""Corrections of the ledger (更正): the volunteer asks (申请更正), the recording organisation corrects or declines."""
from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import ADMIN_ROLES
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, OutOfScope
from app.core.pagination import Page, paginate
from app.core.scoping import Actor, admin_role, scope_filter
from app.core.time import utcnow
from app.core.workflow import record
from app.extensions import db
from app.points import sources as points
from app.volunteering.certificates import revoke_covering
from app.volunteering.ledger import hours_text, hours_value, tell_hours
from app.volunteering.models import LedgerCorrection, ServiceHours
from app.volunteering.states import APPROVED, HOURS_FLOW, REJECTED, VOLUNTEER

CORRECTABLE = ("hours", "description", "place", "served_on")
REQUESTED, CORRECTED, DECLINED = "requested", "corrected", "declined"
CORRECTION_LABELS = {REQUESTED: "待答复", CORRECTED: "已更正", DECLINED: "不予更正"}


def _values(entry: ServiceHours) -> dict:
    return {"hours": hours_text(entry.hours), "description": entry.description, "place": entry.place,
            "served_on": entry.served_on.isoformat()}


def request_correction(actor: Actor, entry_id: int, *, reason: str) -> LedgerCorrection:
    """申请更正: the volunteer asks the recording organisation to correct one of their entries."""
    entry = db.session.get(ServiceHours, entry_id)
    if entry is None or entry.user_id != actor.user_id:
        raise NotFound("服务时长记录不存在。")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("请说明需要更正的内容和原因。", errors={"reason": ["必填"]})
    if entry.status == REJECTED:
        raise Conflict("该记录未通过审核，不能申请更正；如有异议请联系组织方。")
    if db.session.scalar(select(LedgerCorrection.id).where(
            LedgerCorrection.service_hours_id == entry.id, LedgerCorrection.status == REQUESTED)):
        raise Conflict("该记录已有一条待答复的更正申请。")
    correction = LedgerCorrection(service_hours_id=entry.id, service_hours=entry, requested_by=actor.user_id,
                                  request_reason=reason, status=REQUESTED, old_values=_values(entry))
    db.session.add(correction)
    db.session.flush()
    record("service_hours", entry.id, actor, VOLUNTEER, "request_correction", entry.status, entry.status,
           note=reason)
    return correction


def correct_entry(actor: Actor, entry_id: int, *, reason: str, request_id: int | None = None,
                  **changes) -> LedgerCorrection:
    """The recording organisation corrects an approved entry; the old and the new values stay on the record."""
    entry = db.session.scalar(select(ServiceHours).where(ServiceHours.id == entry_id).with_for_update()
                              .execution_options(populate_existing=True))
    if entry is None:
        raise NotFound("服务时长记录不存在。")
    role = admin_role(actor, entry.area_path)
    if not role:
        raise OutOfScope("只有记录该服务的组织方可以更正。")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("请填写更正原因。", errors={"reason": ["必填"]})
    if entry.status != APPROVED:
        raise Conflict(f"只能更正已通过的记录（当前：{HOURS_FLOW.labels[entry.status]}）。待审核的记录请在考勤中更正。")
    correction = _open_request(entry, request_id) if request_id else None
    old = _values(entry)
    new_values = {k: v for k, v in changes.items() if k in CORRECTABLE and v is not None}
    if "hours" in new_values:
        value = hours_value(new_values["hours"])
        if value <= 0:
            raise Invalid("服务时长必须大于 0。", errors={"hours": ["必须大于 0"]})
        entry.hours = value
    if "description" in new_values:
        entry.description = str(new_values["description"]).strip()[:200] or entry.description
    if "place" in new_values:
        entry.place = str(new_values["place"]).strip()[:200]
    if "served_on" in new_values:
        entry.served_on = new_values["served_on"]
    new = _values(entry)
    if new == old:
        raise Invalid("更正后的内容与原记录相同。", errors={"hours": ["没有变化"]})
    if correction is None:
        correction = LedgerCorrection(service_hours_id=entry.id, service_hours=entry, status=CORRECTED)
        db.session.add(correction)
    correction.status, correction.old_values, correction.new_values = CORRECTED, old, new
    correction.answer, correction.answered_by, correction.answered_at = reason, actor.user_id, utcnow()
    record("service_hours", entry.id, actor, role, "correct", APPROVED, APPROVED, note=reason,
           data={"old": old, "new": new})
    revoke_covering(entry, reason=f"其中一条服务记录（{entry.description}）已更正：{reason}，请重新申请证明。")
    tell_hours(entry, "corrected", "已更正", body=f"组织方更正了该服务记录。原因：{reason}")
    db.session.flush()
    points.service_hours_decided(entry)
    return correction


def decline_correction(actor: Actor, request_id: int, *, answer: str) -> LedgerCorrection:
    correction = db.session.get(LedgerCorrection, request_id)
    if correction is None:
        raise NotFound("更正申请不存在。")
    entry = correction.service_hours
    role = admin_role(actor, entry.area_path)
    if not role:
        raise OutOfScope("只有记录该服务的组织方可以答复更正申请。")
    answer = (answer or "").strip()
    if not answer:
        raise Invalid("请填写不予更正的理由。", errors={"answer": ["必填"]})
    _open_request(entry, correction.id)
    correction.status, correction.answer = DECLINED, answer
    correction.answered_by, correction.answered_at = actor.user_id, utcnow()
    record("service_hours", entry.id, actor, role, "decline_correction", entry.status, entry.status, note=answer)
    tell_hours(entry, "correction_declined", "不予更正", body=f"您的更正申请未被采纳。理由：{answer}")
    db.session.flush()
    return correction


def _open_request(entry: ServiceHours, request_id: int) -> LedgerCorrection:
    correction = db.session.get(LedgerCorrection, request_id)
    if correction is None or correction.service_hours_id != entry.id:
        raise NotFound("更正申请不存在。")
    if correction.status != REQUESTED:
        raise Conflict(f"该更正申请已答复（{CORRECTION_LABELS[correction.status]}）。")
    return correction


def corrections_of(entry_id: int) -> list[LedgerCorrection]:
    return list(db.session.scalars(select(LedgerCorrection).where(
        LedgerCorrection.service_hours_id == entry_id).order_by(LedgerCorrection.id)))


def open_correction_requests(actor: Actor, *, limit: int | None = None, cursor: str | None = None) -> Page:
    """The requests the actor's organisation has to answer."""
    if not actor.has_role(*ADMIN_ROLES):
        raise Forbidden("只有社区管理员可以答复更正申请。")
    stmt = (select(LedgerCorrection).join(ServiceHours, ServiceHours.id == LedgerCorrection.service_hours_id)
            .where(LedgerCorrection.status == REQUESTED, scope_filter(actor, ServiceHours.area_path, ADMIN_ROLES)))
    return paginate(stmt, LedgerCorrection.id, limit=limit, cursor=cursor)
