"""Verbs of the suggestion flow: find a representative, submit, handle, refer, reply, close, rate, sweep."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import false, or_, select

from app.accounts.models import ADMIN_ROLES, DEPARTMENT, REPRESENTATIVE, RoleGrant, User
from app.areas.models import Department
from app.areas.service import get_area
from app.content_safety import policy
from app.core.crypto import mask_name
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, OutOfScope
from app.core.pagination import Page, paginate
from app.core.scoping import Actor, scope_filter
from app.core.time import local_display, utcnow
from app.core.workflow import record, timeline
from app.extensions import db
from app.media.service import photo_refs, resolve_photos
from app.moderation import service as moderation
from app.notifications.service import notify
from app.suggestions import states
from app.suggestions.board import public_board, representative_figures  # noqa: F401 - the portal's contract
from app.suggestions.models import KIND_LABELS, LiaisonOffice, Representative, Suggestion

DEFAULT_DUE_DAYS = 15
REMIND_BEFORE = timedelta(days=2)
SWEEP_BATCH = 500
DETAIL_PAGE = "pages/suggestion/detail?id={id}"
BOXES = ("mine", "addressed", "department", "scope")

# -- representatives ------------------------------------------------------------------------


def list_representatives(*, area_id: int | None = None, kind: str | None = None, limit: int | None = None,
                         cursor: str | None = None) -> Page:
    """Public: the active representatives, optionally within an area's subtree and of one kind."""
    stmt = select(Representative).where(Representative.active.is_(True))
    if area_id is not None:
        stmt = stmt.where(Representative.area_path.startswith(get_area(area_id).path, autoescape=True))
    if kind:
        if kind not in KIND_LABELS:
            raise Invalid("代表类别无效。", errors={"kind": [f"应为以下之一：{'、'.join(KIND_LABELS)}"]})
        stmt = stmt.where(Representative.kind == kind)
    return paginate(stmt, Representative.id, limit=limit, cursor=cursor)


def get_representative(rep_id: int) -> Representative:
    rep = db.session.get(Representative, rep_id)
    if rep is None or not rep.active:
        raise NotFound("代表不存在。")
    return rep


def representative_by_scene(scene: str) -> Representative:
    rep = db.session.scalar(select(Representative).where(Representative.scene == scene))
    if rep is None or not rep.active:
        raise NotFound("二维码无效或该代表已不再接收建议。")
    return rep


def nearest_office(area_path: str) -> LiaisonOffice | None:
    """The liaison office of the area or of its nearest ancestor."""
    offices = db.session.scalars(select(LiaisonOffice).where(LiaisonOffice.area_path.in_(_ancestor_paths(area_path))))
    return max(offices, key=lambda o: len(o.area_path), default=None)


def _ancestor_paths(area_path: str) -> list[str]:
    parts = [p for p in area_path.strip("/").split("/") if p]
    return ["/" + "".join(f"{p}/" for p in parts[:n]) for n in range(1, len(parts) + 1)]


# -- submission -----------------------------------------------------------------------------


def submit(actor: Actor, *, title: str, body: str, representative_id: int | None = None,
           area_id: int | None = None, photo_ids: list[int] | None = None,
           allow_publication: bool = False) -> Suggestion:
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise Invalid("请填写建议的标题和内容。", errors={"title": ["必填"], "body": ["必填"]})
    if (representative_id is None) == (area_id is None):
        raise Invalid("请选择一位代表，或选择一个区域的代表联络站。",
                      errors={"representative_id": ["二选一"], "area_id": ["二选一"]})
    if representative_id is not None:
        rep = get_representative(representative_id)
        # A representative without an account yet is reached through their area's office.
        office = None if rep.user_id else nearest_office(rep.area_path)
        if rep.user_id is None and office is None:
            raise Invalid("该代表暂未开通在线接收建议，请选择所在区域的代表联络站。")
        area = rep.area
    else:
        rep, area = None, get_area(area_id)
        office = nearest_office(area.path)
        if office is None:
            raise NotFound("该区域暂未设立代表联络站。")
    photos = resolve_photos(actor, photo_ids, area_path=area.path)
    verdict = policy.check("suggestion", db.session.get(User, actor.user_id), f"{title}\n{body}")
    suggestion = Suggestion(
        title=title, body=body, photos=photo_refs(photos), allow_publication=allow_publication,
        submitter_id=actor.user_id, representative=rep, office=office, area_id=area.id, area=area,
        area_path=area.path, status=states.SUBMITTED,
    )
    db.session.add(suggestion)
    db.session.flush()
    moderation.hold(verdict, suggestion.id, area_path=suggestion.area_path, author_id=actor.user_id,
                    text=f"{title}\n{body}")
    record(states.SUBJECT, suggestion.id, actor, "resident", "submit", None, states.SUBMITTED,
           attachments=suggestion.photos)
    _notify(handler_user_ids(suggestion), suggestion, "suggestion_received", "收到一条新的群众建议")
    return suggestion


def _held_subject(suggestion_id: int) -> moderation.Subject | None:
    suggestion = db.session.get(Suggestion, suggestion_id)
    if suggestion is None:
        return None
    return moderation.Subject(area_path=suggestion.area_path, author_id=suggestion.submitter_id,
                              text=f"{suggestion.title}\n{suggestion.body}",
                              page=DETAIL_PAGE.format(id=suggestion.id),
                              public=suggestion.status == states.CLOSED and suggestion.allow_publication)


# A held suggestion still reaches its representative; only the public board waits for the release.
moderation.register("suggestion", _held_subject)


# -- who sees what --------------------------------------------------------------------------


def _visibility(actor: Actor) -> dict:
    """One WHERE clause per relation a user can have to a suggestion."""
    my_reps = select(Representative.id).where(Representative.user_id == actor.user_id)
    my_offices = select(LiaisonOffice.id).where(scope_filter(actor, LiaisonOffice.area_path, (REPRESENTATIVE,)))
    departments = {g.department_id for g in actor.grants if g.role == DEPARTMENT and g.department_id}
    return {
        "mine": Suggestion.submitter_id == actor.user_id,
        "addressed": or_(Suggestion.representative_id.in_(my_reps), Suggestion.office_id.in_(my_offices)),
        "department": Suggestion.department_id.in_(departments) if departments else false(),
        "scope": scope_filter(actor, Suggestion.area_path, ADMIN_ROLES),
    }


def relations(suggestion: Suggestion, actor: Actor) -> set[str]:
    found = set()
    if suggestion.submitter_id == actor.user_id:
        found.add("mine")
    if states.handler(suggestion, actor):
        found.add("addressed")
    if states.referred_department(suggestion, actor):
        found.add("department")
    if actor.covers(suggestion.area_path, ADMIN_ROLES):
        found.add("scope")
    return found


def list_suggestions(actor: Actor, *, box: str | None = None, status: str | None = None,
                     limit: int | None = None, cursor: str | None = None) -> Page:
    clauses = _visibility(actor)
    if box is not None and box not in BOXES:
        raise Invalid("列表类型无效。", errors={"box": [f"应为以下之一：{'、'.join(BOXES)}"]})
    stmt = select(Suggestion).where(clauses[box] if box else or_(*clauses.values()))
    if status:
        if status not in states.STATUS_LABELS:
            raise Invalid("状态无效。", errors={"status": [f"应为以下之一：{'、'.join(states.STATUS_LABELS)}"]})
        stmt = stmt.where(Suggestion.status == status)
    return paginate(stmt, Suggestion.id, limit=limit, cursor=cursor)


def get_suggestion(actor: Actor, suggestion_id: int) -> Suggestion:
    suggestion = db.session.get(Suggestion, suggestion_id)
    if suggestion is None:
        raise NotFound("建议不存在。")
    if not relations(suggestion, actor):
        raise OutOfScope("您无权查看这条建议。")
    return suggestion


def allowed_actions(suggestion: Suggestion, actor: Actor) -> list[str]:
    return states.WORKFLOW.allowed_actions(suggestion, actor)


def history(suggestion: Suggestion):
    return timeline(states.SUBJECT, suggestion.id)


# -- the flow -------------------------------------------------------------------------------


def transition(actor: Actor, suggestion_id: int, action: str, *, note: str = "",
               department_id: int | None = None, due_at: datetime | None = None,
               photo_ids: list[int] | None = None) -> Suggestion:
    suggestion = get_suggestion(actor, suggestion_id)
    if action not in _PREPARE:
        raise Invalid("未知操作。", errors={"action": [f"应为以下之一：{'、'.join(_PREPARE)}"]})
    step = states.WORKFLOW.table.get((suggestion.status, action))
    if step is None or not step.guard(suggestion, actor):
        states.WORKFLOW.apply(suggestion, action, actor)  # raises the 409 or 403 naming what is allowed
    note = (note or "").strip()
    fields, data = _PREPARE[action](suggestion, note=note, department_id=department_id, due_at=due_at)
    photos = photo_refs(resolve_photos(actor, photo_ids, area_path=suggestion.area_path))
    states.WORKFLOW.apply(suggestion, action, actor, note=note, attachments=photos, data=data)
    for name, value in fields.items():
        setattr(suggestion, name, value)
    _AFTER[action](suggestion, note)
    return suggestion


def _require(note: str, message: str) -> None:
    if not note:
        raise Invalid(message, errors={"note": ["必填"]})


# Each returns (fields to set on the suggestion, data for the timeline event).

def _prepare_accept(s, **_):
    return {}, {}


def _prepare_reject(s, *, note, **_):
    _require(note, "请填写不予受理的理由。")
    return {"reject_reason": note}, {}


def _prepare_answer(s, *, note, **_):
    _require(note, "请填写答复内容。")
    now = utcnow()
    return {"answer": note, "answered_at": now, "first_response_at": s.first_response_at or now}, {}


def _prepare_refer(s, *, department_id, due_at, **_):
    if department_id is None:
        raise Invalid("请选择交办的职能部门。", errors={"department_id": ["必填"]})
    department = db.session.get(Department, department_id)
    if department is None:
        raise NotFound("部门不存在。")
    # The department must serve the suggestion's area: at or above it, or inside it.
    if not (s.area_path.startswith(department.area_path) or department.area_path.startswith(s.area_path)):
        raise Invalid("该部门不负责这条建议所在的区域。", errors={"department_id": ["区域不符"]})
    now = utcnow()
    due_at = due_at or now + timedelta(days=DEFAULT_DUE_DAYS)
    if due_at.tzinfo is None:
        raise Invalid("办理期限须带时区。", errors={"due_at": ["须带时区"]})
    if due_at <= now:
        raise Invalid("办理期限必须晚于当前时间。", errors={"due_at": ["必须晚于当前时间"]})
    fields = {"department_id": department.id, "department": department, "due_at": due_at,
              "first_response_at": s.first_response_at or now, "reminded_at": None, "overdue_at": None}
    return fields, {"department_id": department.id, "department": department.name, "due_at": due_at.isoformat()}


def _prepare_reply(s, *, note, **_):
    _require(note, "请填写部门回复内容。")
    return {"department_reply": note, "answered_at": utcnow()}, {}


def _prepare_close(s, *, note, **_):
    return {"closing_note": note, "closed_at": utcnow()}, {}


_PREPARE = {"accept": _prepare_accept, "reject": _prepare_reject, "answer": _prepare_answer,
            "refer": _prepare_refer, "reply": _prepare_reply, "close": _prepare_close}


def _after_accept(s: Suggestion, note: str) -> None:
    _notify([s.submitter_id], s, "suggestion_progress", "您的建议已受理")


def _after_reject(s: Suggestion, note: str) -> None:
    _notify([s.submitter_id], s, "suggestion_progress", "您的建议未予受理", body=note)


def _after_answer(s: Suggestion, note: str) -> None:
    _notify([s.submitter_id], s, "suggestion_progress", "代表已答复您的建议", body=note)


def _after_refer(s: Suggestion, note: str) -> None:
    _notify(department_user_ids(s.department_id), s, "suggestion_referred", "有一条群众建议交办给您的部门",
            body=f"请于{local_display(s.due_at)}前回复。{note}")
    _notify([s.submitter_id], s, "suggestion_progress", f"您的建议已交办{s.department.name}")


def _after_reply(s: Suggestion, note: str) -> None:
    _notify(handler_user_ids(s), s, "suggestion_replied", "交办部门已回复，请审核后办结", body=note)


def _after_close(s: Suggestion, note: str) -> None:
    # Closing is what sends the answer back to the resident.
    _notify([s.submitter_id], s, "suggestion_closed", "您的建议已办结，欢迎评价", body=final_answer(s))


_AFTER = {"accept": _after_accept, "reject": _after_reject, "answer": _after_answer, "refer": _after_refer,
          "reply": _after_reply, "close": _after_close}


def final_answer(s: Suggestion) -> str:
    return "\n".join(part for part in (s.answer, s.department_reply, s.closing_note) if part)


def rate(actor: Actor, suggestion_id: int, *, score: int, comment: str = "") -> Suggestion:
    """The submitter rates a closed suggestion, once."""
    suggestion = get_suggestion(actor, suggestion_id)
    if suggestion.submitter_id != actor.user_id:
        raise Forbidden("只有提出建议的居民可以评价。")
    if suggestion.status != states.CLOSED:
        raise Conflict("建议办结后才能评价。")
    if suggestion.rating is not None:
        raise Conflict("您已经评价过这条建议。")
    if not 1 <= score <= 5:
        raise Invalid("评分应为 1 到 5 分。", errors={"score": ["1–5"]})
    comment = (comment or "").strip()
    policy.screen("follow_up", db.session.get(User, actor.user_id), comment, "comment")
    suggestion.rating = score
    suggestion.rating_comment = comment
    record(states.SUBJECT, suggestion.id, actor, "resident", "rate", suggestion.status, suggestion.status,
           note=comment, data={"score": score})
    _notify(handler_user_ids(suggestion), suggestion, "suggestion_rated", f"居民对建议的评价：{score} 分",
            body=comment)
    return suggestion


# -- the periodic sweep ---------------------------------------------------------------------


def sweep_due(now: datetime | None = None) -> dict[str, int]:
    """Remind departments once before a referral falls due; flag it once when it is overdue."""
    now = now or utcnow()
    system = Actor.anonymous()
    rows = db.session.scalars(
        select(Suggestion).where(
            Suggestion.status == states.REFERRED, Suggestion.overdue_at.is_(None),
            Suggestion.due_at <= now + REMIND_BEFORE,
            or_(Suggestion.reminded_at.is_(None), Suggestion.due_at <= now),
        ).order_by(Suggestion.due_at).limit(SWEEP_BATCH)
    ).all()
    counts = {"reminded": 0, "overdue": 0}
    for s in rows:
        if s.due_at <= now:
            s.overdue_at = now
            record(states.SUBJECT, s.id, system, "system", "overdue", s.status, s.status,
                   note=f"已超过办理期限（{local_display(s.due_at)}）。")
            _notify(department_user_ids(s.department_id), s, "suggestion_overdue", "交办的群众建议已逾期，请尽快回复")
            _notify(handler_user_ids(s), s, "suggestion_overdue", "交办的群众建议已逾期，部门尚未回复")
            counts["overdue"] += 1
        elif s.reminded_at is None:
            s.reminded_at = now
            record(states.SUBJECT, s.id, system, "system", "remind", s.status, s.status,
                   note=f"办理期限为{local_display(s.due_at)}。")
            _notify(department_user_ids(s.department_id), s, "suggestion_due_soon", "交办的群众建议即将到期",
                    body=f"请于{local_display(s.due_at)}前回复。")
            counts["reminded"] += 1
    return counts


# -- who is told ----------------------------------------------------------------------------


def handler_user_ids(s: Suggestion) -> list[int]:
    """The addressed representative, or the staff of the office the suggestion went to."""
    ids = []
    if s.representative is not None and s.representative.user_id:
        ids.append(s.representative.user_id)
    if s.office is not None:
        ids.extend(db.session.scalars(select(RoleGrant.user_id).where(
            RoleGrant.role == REPRESENTATIVE, RoleGrant.area_path.in_(_ancestor_paths(s.office.area_path)),
        )))
    return list(dict.fromkeys(ids))


def department_user_ids(department_id: int | None) -> list[int]:
    if department_id is None:
        return []
    return list(db.session.scalars(select(RoleGrant.user_id).where(
        RoleGrant.role == DEPARTMENT, RoleGrant.department_id == department_id)))


def _notify(user_ids, s: Suggestion, kind: str, title: str, *, body: str = "") -> None:
    notify(user_ids, kind, title=title, body=body, page=DETAIL_PAGE.format(id=s.id),
           data={"title": s.title[:20], "status": states.STATUS_LABELS[s.status][:5],
                 "time": local_display(utcnow())},
           subject=(states.SUBJECT, s.id))



def submitter_name(s: Suggestion, actor: Actor) -> str:
    """The representative who answers (and the submitter) see the real name; everyone else a masked one."""
    user = db.session.get(User, s.submitter_id)
    if user is None:
        return "居民"
    name = user.person_name if (user.real_name or user.display_name) else "居民"
    if actor.user_id is not None and actor.user_id in (s.submitter_id, *handler_user_ids(s)):
        return name
    return mask_name(name) if name != "居民" else name
