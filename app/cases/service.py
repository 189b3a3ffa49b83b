"""The verbs of the closed loop (事件闭环): report, act on, rate, follow, list and read cases."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from app.accounts.models import GRID_WORKER, User
from app.accounts.responsible import grid_workers_of
from app.areas.models import GRID, STREET, Department, Place
from app.areas.service import departments_in_scope, get_area
from app.cases import filing, notices
from app.cases.deadlines import WorkCalendar, due_after
from app.cases.models import (
    MODERATION_PASS,
    MODERATION_REVIEW,
    MODERATION_RISKY,
    Case,
    CaseFollower,
    Category,
)
from app.cases.progress import note_public
from app.cases.states import (
    AREA_ROLES,
    CASE_FLOW,
    CLOSED,
    DEPARTMENT,
    GROUPS,
    REPORTER,
    SUBMITTED,
    TIMED,
    VERIFY_FAILED,
)
from app.codes.models import INVALID_SCENE
from app.codes.scenes import place_for_scene
from app.content_safety import policy
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, OutOfScope, Unauthorized
from app.core.ids import new_tracking_no
from app.core.pagination import Page, paginate
from app.core.scoping import Actor, role_over, scope_filter
from app.core.time import utcnow
from app.core.workflow import event_values, record
from app.extensions import db
from app.geo import datum, routing
from app.geo.service import check_point, nearest_places
from app.media.service import photo_refs, resolve_photos
from app.moderation import service as moderation
from app.points import sources as points

log = logging.getLogger("gongzhi.cases")

SIMILAR_WINDOW = filing.SIMILAR_WINDOW
SIMILAR_LIMIT = 5
MAX_DESCRIPTION = 500
# Relationships every case read needs: loaded in the same query, never one by one.
LOAD = (joinedload(Case.category), joinedload(Case.place), joinedload(Case.department))


# -- who the actor is to a case ---------------------------------------------------------------

def staff_role(case: Case, actor: Actor) -> str | None:
    """The role under which `actor` sees `case` as staff: by area, or by dispatch to their department."""
    role = role_over(actor, case.area_path, AREA_ROLES)
    if role:
        return role
    if case.department_id is not None and case.department_id in actor.department_ids():
        return DEPARTMENT
    return None


def is_staff(actor: Actor) -> bool:
    return actor.is_system_admin or bool(actor.paths(AREA_ROLES)) or bool(actor.department_ids())


def is_following(case: Case, actor: Actor) -> bool:
    if actor.user_id is None:
        return False
    return db.session.scalar(select(CaseFollower.id).where(
        CaseFollower.case_id == case.id, CaseFollower.user_id == actor.user_id)) is not None


def viewer_of(case: Case, actor: Actor) -> str | None:
    """"staff", "reporter" or "follower": how much of the case the actor may see (None: nothing)."""
    if staff_role(case, actor):
        return "staff"
    if actor.user_id is not None and actor.user_id == case.reporter_id:
        return "reporter"
    if case.moderation == MODERATION_PASS and is_following(case, actor):
        return "follower"
    return None


def _load(case_id: int) -> Case:
    case = db.session.scalar(select(Case).options(*LOAD).where(Case.id == case_id))
    if case is None:
        raise NotFound("案件不存在。")
    return case


def _not_visible(actor: Actor) -> Exception:
    """Staff learn that a case lies outside their scope; anyone else learns nothing about it."""
    return OutOfScope() if is_staff(actor) else NotFound("案件不存在。")


def get_case(actor: Actor, case_id: int) -> Case:
    case = _load(case_id)
    if viewer_of(case, actor) is None:
        raise _not_visible(actor)
    return case


# -- reporting ----------------------------------------------------------------------------------

def _place(place_id: int | None, scene: str | None) -> Place:
    _require_place_given(place_id, scene)
    if scene:
        return _usable_place(place_for_scene(scene), scene)
    return _usable_place(db.session.get(Place, place_id), scene)


def _require_place_given(place_id: int | None, scene: str | None, location: dict | None = None) -> None:
    if not scene and place_id is None and not location:
        raise Invalid("请扫码或选择上报地点。", errors={"place_id": ["scene、place_id 与 location 须提供其一。"]})


NEARBY_METRES = 50


def _point(location: dict | None) -> tuple[float, float] | None:
    """The (lat, lng) of a report's location (GCJ-02), checked; None without one."""
    if not location:
        return None
    lat, lng = location.get("latitude"), location.get("longitude")
    check_point(lat, lng)
    return float(lat), float(lng)


def _location_columns(location: dict | None) -> dict:
    point = _point(location)
    if point is None:
        return {"location_lat": None, "location_lng": None, "location_accuracy": None, "location_address": ""}
    accuracy = location.get("accuracy")
    return {"location_lat": point[0], "location_lng": point[1],
            "location_accuracy": float(accuracy) if accuracy is not None else None,
            "location_address": (location.get("address") or "").strip()[:200]}


def street_path(community_path: str) -> str:
    """The path of the street above a community ("/1/4/17/" -> "/1/4/")."""
    return "/" + "".join(f"{part}/" for part in community_path.strip("/").split("/")[:-1])


def route_point(lat: float, lng: float) -> routing.Hit:
    """Who takes a report at a point: the grid whose boundary holds it, else the community whose boundary
    does, else the street of the nearest community (its admins decide)."""
    hit = routing.route(lat, lng)
    if hit is not None:
        return hit
    nearest = routing.nearest_community(lat, lng)
    if nearest is None:
        raise Invalid("该位置不在任何网格或社区的范围内，请扫码或选择上报地点。",
                      errors={"location": ["不在任何边界内"]})
    path = street_path(nearest.area_path)
    return routing.Hit(int(path.strip("/").split("/")[-1]), path, STREET)


def nearby_similar(category_id: int, lat: float, lng: float, exclude_id: int | None = None) -> list[Case]:
    """Open, publicly visible cases of one category within NEARBY_METRES of a point, from the last 72 hours."""
    dlat, dlng = datum.degrees_around(lat, NEARBY_METRES)
    stmt = (select(Case).options(*LOAD)
            .where(Case.category_id == category_id, Case.created_at >= utcnow() - SIMILAR_WINDOW,
                   Case.status.in_(GROUPS["open"]), Case.moderation == MODERATION_PASS,
                   Case.location_lat.between(lat - dlat, lat + dlat), Case.location_lng.between(lng - dlng, lng + dlng))
            .order_by(Case.id.desc()).limit(SIMILAR_LIMIT * 4))
    if exclude_id is not None:
        stmt = stmt.where(Case.id != exclude_id)
    near = [c for c in db.session.scalars(stmt)
            if datum.distance_m(lat, lng, c.location_lat, c.location_lng) <= NEARBY_METRES]
    return near[:SIMILAR_LIMIT]


def _merged(*groups: list[Case]) -> list[Case]:
    seen, out = set(), []
    for case in (c for group in groups for c in group):
        if case.id not in seen:
            seen.add(case.id)
            out.append(case)
    return sorted(out, key=lambda c: -c.id)[:SIMILAR_LIMIT]


def places_near(case: Case) -> list[dict]:
    """For a case reported by location inside a grid: the coded places nearest it, to pick one instead."""
    if case.place_id is not None or case.location_lat is None or case.area_path.count("/") != 5:
        return []
    grid_id = int(case.area_path.strip("/").split("/")[-1])
    return nearest_places(grid_id, case.location_lat, case.location_lng)


def _usable_place(place: Place | None, scene: str | None) -> Place:
    """The place a report may be filed at: it exists and is active."""
    if place is None:
        raise NotFound(INVALID_SCENE if scene else "场所不存在。")
    if not place.active:
        raise Invalid("该场所已停用，无法上报。", errors={"place_id": ["场所已停用"]})
    return place


def _category(category_id: int) -> Category:
    return _usable_category(db.session.get(Category, category_id))


def _usable_category(category: Category | None) -> Category:
    if category is None or not category.active:
        raise Invalid("问题类别不存在或已停用。", errors={"category_id": ["类别无效"]})
    return category


def _moderation(verdict: policy.Verdict) -> str:
    """The case's own mark of its check: pass, or what WeChat said (review when it could not say)."""
    if not verdict.held:
        return MODERATION_PASS
    return verdict.suggest if verdict.suggest in (MODERATION_REVIEW, MODERATION_RISKY) else MODERATION_REVIEW


def _new_case_row(actor: Actor, *, place_id: int | None, area_path: str, category: Category, text: str,
                  photos: list, anonymous: bool, verdict, due_at, remind_at, now, located: dict) -> dict:
    """Every column of a new case's row (filing.insert_case writes it in one prebuilt INSERT), at a place or
    at a located point."""
    return {
        "tracking_no": new_tracking_no(), "place_id": place_id, "area_path": area_path,
        "category_id": category.id, "description": text, "photos": photos, "anonymous": bool(anonymous),
        "reporter_id": actor.user_id, "status": SUBMITTED, "assignee_id": None, "department_id": None,
        "handler_id": None, "escalated": False, "due_at": due_at, "remind_at": remind_at, "accepted_at": None,
        "closed_at": None, "overdue": False, "reopen_count": 0, "moderation": _moderation(verdict),
        "rating": None, "rating_comment": "", "rated_at": None, "anonymised_at": None, "version": 1,
        "created_at": now, **located,
    }


def _deadline(hours: int, now: datetime, working_days: bool,
              calendar: WorkCalendar | None = None) -> tuple[datetime, datetime]:
    """A time limit from `now`: the deadline, and the one reminder before it."""
    due_at = due_after(now, hours, working_days, calendar)
    return due_at, due_at - min((due_at - now) / 4, timedelta(hours=24))


def _set_deadline(case: Case, hours: int, now: datetime) -> None:
    """A new time limit: a fresh deadline, one reminder before it, and no overdue mark yet."""
    case.due_at, case.remind_at = _deadline(hours, now, case.category.working_days)
    case.overdue = False


def _clear_deadline(case: Case) -> None:
    case.due_at = None
    case.remind_at = None
    case.overdue = False


class Filed(NamedTuple):
    """A filed report: the case (a detached instance of the row just written), the open similar
    cases at the same place, and the case's timeline so far (its report event)."""

    case: Case
    similar: list[Case]
    timeline: list


def report_case(actor: Actor, *, category_id: int, description: str, photo_ids: list[int] | None = None,
                anonymous: bool = False, place_id: int | None = None, scene: str | None = None,
                on_duty_role: str | None = None, location: dict | None = None) -> Filed:
    """我要上报: file a case at a place or at a location; returns it with the open similar cases found there
    (same place, or same category within 50 m). `on_duty_role` names the post a new-group reporter holds
    (app/newgroups), for the timeline.

    The busiest write, done in prebuilt Core statements (app/cases/filing.py): one read, one
    INSERT per row written (case, timeline event, the outbox rows of the notification).
    """
    if not actor.is_authenticated:
        raise Unauthorized()
    _require_place_given(place_id, scene, location)
    if not scene and place_id is None:
        return _report_at_location(actor, category_id=category_id, description=description, photo_ids=photo_ids,
                                   anonymous=anonymous, location=location)
    located = _location_columns(location)
    if scene and len(scene) > 32:
        raise NotFound(INVALID_SCENE)
    now = utcnow()
    context = filing.read_context(scene=scene, place_id=place_id, category_id=category_id, now=now)
    place, category = _usable_place(context.place, scene), _usable_category(context.category)
    text = (description or "").strip()
    if not text:
        raise Invalid("请描述遇到的问题。", errors={"description": ["不能为空"]})
    if len(text) > MAX_DESCRIPTION:
        raise Invalid(f"问题描述不能超过 {MAX_DESCRIPTION} 字。", errors={"description": ["过长"]})
    photos = photo_refs(resolve_photos(actor, photo_ids, area_path=place.area_path))
    verdict = policy.check("case", db.session.get(User, actor.user_id), text)
    # A held report enters the loop when staff release it; its deadline is counted from then.
    due_at, remind_at = (None, None) if verdict.held else _deadline(
        category.accept_hours, now, category.working_days, context.calendar)
    case = filing.insert_case(_new_case_row(
        actor, place_id=place.id, area_path=place.area_path, category=category, text=text, photos=photos,
        anonymous=anonymous, verdict=verdict, due_at=due_at, remind_at=remind_at, now=now, located=located,
    ), category=category, place=place)
    role = role_over(actor, case.area_path, AREA_ROLES) or on_duty_role or REPORTER
    event = filing.insert_event(event_values("case", case.id, actor, role, "report", None, SUBMITTED,
                                             attachments=photos, at=now, note_public=True))
    moderation.hold(verdict, case.id, area_path=case.area_path, author_id=actor.user_id, text=text)
    held = verdict.held
    # A new case has no assignee, department or escalation yet: whoever must act is the grid's
    # workers (read with the place), else the community (notices.responsible for later steps).
    notices.send(context.grid_workers or notices.supervisors(case), "case_submitted", case,
                 "有待审核的居民上报" if held else "有新的居民上报待受理", body=f"{place.name}：{category.name}")
    similar = similar_cases(place.id, category.id, exclude_id=case.id) if context.similar else []
    if located["location_lat"] is not None:
        similar = _merged(similar, nearby_similar(category.id, located["location_lat"], located["location_lng"],
                                                  exclude_id=case.id))
    return Filed(case, similar, [event])


def _report_at_location(actor: Actor, *, category_id: int, description: str, photo_ids: list[int] | None,
                        anonymous: bool, location: dict) -> Filed:
    """A report with no code nearby: routed by its point to the grid whose boundary holds it (else the
    community, else the nearest community's street, whose admins decide)."""
    located = _location_columns(location)
    lat, lng = located["location_lat"], located["location_lng"]
    category = _category(category_id)
    text = _report_text(description)
    hit = route_point(lat, lng)
    now = utcnow()
    photos = photo_refs(resolve_photos(actor, photo_ids, area_path=hit.area_path))
    verdict = policy.check("case", db.session.get(User, actor.user_id), text)
    due_at, remind_at = (None, None) if verdict.held else _deadline(
        category.accept_hours, now, category.working_days)
    case = filing.insert_case(_new_case_row(
        actor, place_id=None, area_path=hit.area_path, category=category, text=text, photos=photos,
        anonymous=anonymous, verdict=verdict, due_at=due_at, remind_at=remind_at, now=now, located=located,
    ), category=category, place=None)
    role = role_over(actor, case.area_path, AREA_ROLES) or REPORTER
    event = filing.insert_event(event_values("case", case.id, actor, role, "report", None, SUBMITTED,
                                             attachments=photos, at=now, data={"routed_to": hit.level},
                                             note_public=True))
    moderation.hold(verdict, case.id, area_path=case.area_path, author_id=actor.user_id, text=text)
    workers = grid_workers_of(case.area_path) if hit.level == GRID else []
    notices.send(workers or notices.supervisors(case), "case_submitted", case,
                 "有待审核的居民上报" if verdict.held else "有新的居民上报待受理", body=f"{case.where}：{category.name}")
    return Filed(case, nearby_similar(category.id, lat, lng, exclude_id=case.id), [event])


def _report_text(description: str) -> str:
    text = (description or "").strip()
    if not text:
        raise Invalid("请描述遇到的问题。", errors={"description": ["不能为空"]})
    if len(text) > MAX_DESCRIPTION:
        raise Invalid(f"问题描述不能超过 {MAX_DESCRIPTION} 字。", errors={"description": ["过长"]})
    return text


def similar_cases(place_id: int, category_id: int, exclude_id: int | None = None) -> list[Case]:
    """Open, publicly visible cases of the same category at the same place from the last 72 hours."""
    stmt = (select(Case).options(*LOAD)
            .where(*filing.similar_filter(place_id, category_id, utcnow() - SIMILAR_WINDOW))
            .order_by(Case.id.desc()).limit(SIMILAR_LIMIT))
    if exclude_id is not None:
        stmt = stmt.where(Case.id != exclude_id)
    return list(db.session.scalars(stmt))


def find_similar(actor: Actor, *, category_id: int, place_id: int | None = None,
                 scene: str | None = None, latitude: float | None = None,
                 longitude: float | None = None) -> list[Case]:
    """Before filing: what is already reported here, so the resident can follow it instead.

    Only for someone at the place: a resident names it by the scene of the code they scanned; a
    place id alone is for staff whose scope covers it (ids are sequential, scenes are not). Without a
    code, the resident's location finds the same category within 50 m."""
    if not actor.is_authenticated:
        raise Unauthorized()
    location = {"latitude": latitude, "longitude": longitude} if latitude is not None or longitude is not None else None
    _require_place_given(place_id, scene, location)
    if not scene and place_id is None:
        lat, lng = _point(location)
        return nearby_similar(_category(category_id).id, lat, lng)
    if scene:
        place = _place(None, scene)
    else:
        if not is_staff(actor):
            raise Forbidden("请扫描该场所的二维码后再查看同类事件。")
        place = _usable_place(db.session.get(Place, place_id), None)
        if not actor.covers(place.area_path, AREA_ROLES):
            raise OutOfScope()
    return similar_cases(place.id, _category(category_id).id)


FOLLOW_TOKEN_SALT = "gongzhi.case-follow"
FOLLOW_TOKEN_AGE = timedelta(hours=24)


def _follow_tokens() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=FOLLOW_TOKEN_SALT)


def follow_token(case: Case, actor: Actor) -> str | None:
    """What a similar case carries so that this caller, who found it at the place, may follow it.

    Bound to the case and the caller, and short-lived: following needs it, so knowing a case id
    (they are sequential) is not enough."""
    if actor.user_id is None:
        return None
    return _follow_tokens().dumps([case.id, actor.user_id])


def _token_admits(token: str | None, case: Case, actor: Actor) -> bool:
    if not token or actor.user_id is None:
        return False
    try:
        case_id, user_id = _follow_tokens().loads(token, max_age=int(FOLLOW_TOKEN_AGE.total_seconds()))
    except (BadSignature, ValueError, TypeError):
        return False
    return case_id == case.id and user_id == actor.user_id


def follow_case(actor: Actor, case_id: int, follow_token: str | None = None) -> Case:
    """Follow an open case: the follower gets the notifications the reporter gets.

    Staff follow cases in their scope; a resident follows a case they found as similar at the place
    (its `follow_token`). Anyone else learns nothing, not even that the case exists."""
    if not actor.is_authenticated:
        raise Unauthorized()
    case = _load(case_id)
    entitled = (staff_role(case, actor) is not None or actor.user_id == case.reporter_id
                or (case.moderation == MODERATION_PASS and not is_staff(actor)
                    and (is_following(case, actor) or _token_admits(follow_token, case, actor))))
    if not entitled:
        raise NotFound("案件不存在。")
    if case.status not in GROUPS["open"]:
        raise Conflict("该案件已结束，无需关注。")
    if actor.user_id != case.reporter_id and not is_following(case, actor):
        db.session.add(CaseFollower(case_id=case.id, user_id=actor.user_id))
        db.session.flush()
    return case


def unfollow_case(actor: Actor, case_id: int) -> Case:
    case = _load(case_id)
    row = db.session.scalar(select(CaseFollower).where(
        CaseFollower.case_id == case.id, CaseFollower.user_id == actor.user_id))
    if row is None:
        raise NotFound("您没有关注该案件。")
    db.session.delete(row)
    db.session.flush()
    return case


# -- the loop -------------------------------------------------------------------------------------

def _required_text(args: dict, key: str, message: str, limit: int = 500) -> str:
    text = (args.get(key) or "").strip()
    if not text:
        raise Invalid(message, errors={key: ["不能为空"]})
    if len(text) > limit:
        raise Invalid(f"说明不能超过 {limit} 字。", errors={key: ["过长"]})
    return text


# What a notification to the reporter says in place of a note staff kept internal.
SEE_PROGRESS = "详情请查看办理进度。"


def _public(action: str, args: dict) -> bool:
    """Whether the resident reads this step's note: what staff chose (`public`), else the step's default."""
    return note_public(action, args.get("public"))


def _accept(case: Case, actor: Actor, args: dict) -> None:
    now = utcnow()
    note, public = args.get("note") or "", _public("accept", args)
    CASE_FLOW.apply(case, "accept", actor, note=note, note_public=public)
    case.accepted_at = now
    _set_deadline(case, case.category.handle_hours, now)
    notices.to_watchers(case, "case_accepted", "您上报的问题已受理", body=note if public else "")


def _reject(case: Case, actor: Actor, args: dict) -> None:
    reason = _required_text(args, "reason", "不予受理须说明理由。")
    public = _public("reject", args)
    CASE_FLOW.apply(case, "reject", actor, note=reason, data={"reason": reason}, note_public=public)
    case.closed_at = utcnow()
    _clear_deadline(case)
    told = reason if public else SEE_PROGRESS
    notices.to_watchers(case, "case_rejected", "您上报的问题未予受理", body=told, extra={"note": told[:20]})


def _withdraw(case: Case, actor: Actor, args: dict) -> None:
    CASE_FLOW.apply(case, "withdraw", actor, note=args.get("note") or "", note_public=True)
    case.closed_at = utcnow()
    _clear_deadline(case)


def _dispatch_target(case: Case, actor: Actor, args: dict) -> tuple[User | None, object | None]:
    assignee_id, department_id = args.get("assignee_id"), args.get("department_id")
    if (assignee_id is None) == (department_id is None):
        raise Invalid("请指定派遣给一名网格员或一个职能部门（二选一）。",
                      errors={"assignee_id": ["与 department_id 二选一"]})
    if assignee_id is not None:
        user = db.session.get(User, assignee_id)
        if user is None or not user.is_active or not any(
                g.role == GRID_WORKER and case.area_path.startswith(g.area_path) for g in user.grants):
            raise Invalid("只能派遣给本网格的网格员。", errors={"assignee_id": ["不是本网格的网格员"]})
        return user, None
    department = db.session.get(Department, department_id)
    allowed = {d.id for d in departments_in_scope(actor)}
    if department is None or department.id not in allowed or not case.area_path.startswith(department.area_path):
        raise Invalid("该部门不在可派遣范围内。", errors={"department_id": ["部门无效"]})
    return None, department


def _dispatch(case: Case, actor: Actor, args: dict) -> None:
    user, department = _dispatch_target(case, actor, args)
    note = args.get("note") or ""
    data = ({"assignee_id": user.id} if user else {"department_id": department.id, "department": department.name})
    CASE_FLOW.apply(case, "dispatch", actor, note=note, data=data, note_public=_public("dispatch", args))
    case.assignee_id = user.id if user else None
    case.department_id = department.id if department else None
    case.department = department
    case.handler_id = None
    recipients = [user.id] if user else notices.department_staff(department.id)
    notices.send(recipients, "case_dispatched", case, "您有新的派遣任务", body=note or case.description[:100])


def _escalate(case: Case, actor: Actor, args: dict) -> None:
    note = _required_text(args, "note", "请说明需要社区协调的原因。")
    CASE_FLOW.apply(case, "escalate", actor, note=note, note_public=_public("escalate", args))
    case.escalated = True
    case.assignee_id = None
    case.department_id = None
    case.department = None
    notices.send(notices.supervisors(case), "case_escalated", case, "网格员上报的事件待派遣", body=note,
                 extra={"note": note[:20]})


def _handle(case: Case, actor: Actor, args: dict) -> None:
    note = _required_text(args, "note", "请填写处理结果。")
    uploads = resolve_photos(actor, args.get("photo_ids"), area_path=case.area_path)
    CASE_FLOW.apply(case, "handle", actor, note=note, attachments=photo_refs(uploads),
                    note_public=_public("handle", args))
    case.handler_id = actor.user_id
    if case.assignee_id is None and case.department_id is None:
        # Handled on the spot: a failed check sends it back to the same person.
        case.assignee_id = actor.user_id
    _clear_deadline(case)
    notices.send(notices.supervisors(case), "case_handled", case, "事件已处理，待核查", body=note[:100])


def _verify(case: Case, actor: Actor, args: dict) -> None:
    passed = args.get("passed")
    if passed is None:
        raise Invalid("请说明核查是否通过。", errors={"passed": ["必填"]})
    now = utcnow()
    if passed:
        CASE_FLOW.apply(case, "verify", actor, note=args.get("note") or "", data={"passed": True},
                        note_public=_public("verify", args))
        case.closed_at = now
        _clear_deadline(case)
        notices.to_watchers(case, "case_closed", "您上报的问题已办结", body="欢迎对处理结果进行评价。")
        points.case_verified(case)
        return
    reason = _required_text(args, "reason", "核查未通过须说明原因。")
    CASE_FLOW.apply(case, "verify", actor, note=reason, data={"passed": False, "reason": reason},
                    target=VERIFY_FAILED, note_public=_public("verify", args))
    _set_deadline(case, case.category.handle_hours, now)
    notices.send(notices.responsible(case), "case_returned", case, "核查未通过，请重新处理", body=reason,
                 extra={"note": reason[:20]})


def _reopen(case: Case, actor: Actor, args: dict) -> None:
    reason = _required_text(args, "reason", "请说明需要重新办理的原因。")
    policy.screen("follow_up", db.session.get(User, actor.user_id), reason, "reason")
    CASE_FLOW.apply(case, "reopen", actor, note=reason, note_public=True)
    case.reopen_count += 1
    case.closed_at = None
    case.handler_id = None
    _set_deadline(case, case.category.handle_hours, utcnow())
    notices.to_watchers(case, "case_reopened", "案件已重新办理", body=reason)
    notices.send(notices.supervisors(case), "case_reopened", case, "居民申请重新办理", body=reason,
                 extra={"note": reason[:20]})


ACTIONS = {
    "accept": _accept, "reject": _reject, "withdraw": _withdraw, "dispatch": _dispatch,
    "escalate": _escalate, "handle": _handle, "verify": _verify, "reopen": _reopen,
}


def transition(actor: Actor, case_id: int, action: str, **args) -> Case:
    """Take one action on a case. A concurrent change by someone else makes the flush fail (409)."""
    case = _load(case_id)
    if not staff_role(case, actor) and actor.user_id != case.reporter_id:
        raise _not_visible(actor)
    allowed = CASE_FLOW.allowed_actions(case, actor)
    if action not in allowed:
        if action == "reopen" and case.status == CLOSED and actor.user_id == case.reporter_id:
            raise Conflict("办结已超过 7 天，不能再申请重新办理，请重新上报。", errors={"allowed_actions": allowed})
        # The workflow raises the 409 (or 403) that names the actions allowed now.
        CASE_FLOW.apply(case, action, actor)
    ACTIONS[action](case, actor, args)
    db.session.flush()
    return case


def rate_case(actor: Actor, case_id: int, *, score: int, comment: str = "") -> Case:
    """回访: the reporter rates a closed case once, 1–5, with an optional comment."""
    case = _load(case_id)
    if actor.user_id != case.reporter_id:
        if viewer_of(case, actor) is None:
            raise _not_visible(actor)
        raise Forbidden("只有上报人可以评价。")
    if case.status != CLOSED:
        raise Conflict("案件办结后才能评价。")
    if case.rating is not None:
        raise Conflict("您已评价过该案件。")
    comment = (comment or "").strip()
    policy.screen("follow_up", db.session.get(User, actor.user_id), comment, "comment")
    case.rating = score
    case.rating_comment = comment
    case.rated_at = utcnow()
    record("case", case.id, actor, REPORTER, "rate", CLOSED, CLOSED, note=comment, data={"score": score},
           note_public=True)
    db.session.flush()
    return case


# -- queues ---------------------------------------------------------------------------------------

def staff_scope(actor: Actor):
    """Cases staff may see: their areas' subtrees, plus cases dispatched to their departments."""
    clauses = [scope_filter(actor, Case.area_path, AREA_ROLES)]
    departments = actor.department_ids()
    if departments:
        clauses.append(Case.department_id.in_(sorted(departments)))
    return or_(*clauses)


def list_cases(actor: Actor, *, mine: bool = False, following: bool = False, status: str | None = None,
               area_id: int | None = None, assigned_to_me: bool = False, overdue: bool | None = None,
               escalated: bool | None = None, category_id: int | None = None, moderation: str | None = None,
               q: str | None = None, limit: int | None = None, cursor: str | None = None) -> Page:
    """My cases, the cases I follow, or (staff) the queues within my scope, newest first."""
    if not actor.is_authenticated:
        raise Unauthorized()
    stmt = select(Case).options(*LOAD)
    if following:
        stmt = stmt.join(CaseFollower, CaseFollower.case_id == Case.id).where(
            CaseFollower.user_id == actor.user_id, Case.moderation == MODERATION_PASS)
    elif mine or not is_staff(actor):
        stmt = stmt.where(Case.reporter_id == actor.user_id)
    else:
        stmt = stmt.where(staff_scope(actor))
        if moderation:
            stmt = stmt.where(Case.moderation == moderation)
    if assigned_to_me:
        mine_or_department = [Case.assignee_id == actor.user_id]
        if actor.department_ids():
            mine_or_department.append(Case.department_id.in_(sorted(actor.department_ids())))
        stmt = stmt.where(or_(*mine_or_department))
    if status:
        stmt = stmt.where(Case.status.in_(GROUPS.get(status, (status,))))
    if area_id is not None:
        stmt = stmt.where(Case.area_path.startswith(_area_path(actor, area_id), autoescape=True))
    if overdue is not None:
        stmt = stmt.where(Case.overdue.is_(overdue))
        if overdue:
            stmt = stmt.where(Case.status.in_(TIMED))
    if escalated is not None:
        stmt = stmt.where(Case.escalated.is_(escalated))
    if category_id is not None:
        stmt = stmt.where(Case.category_id == category_id)
    if q:
        stmt = stmt.where(Case.tracking_no == q.strip().upper())
    return paginate(stmt, Case.id, limit=limit, cursor=cursor)


def _area_path(actor: Actor, area_id: int) -> str:
    area = get_area(area_id)
    if is_staff(actor) and not actor.department_ids() and not actor.covers(area.path, AREA_ROLES):
        raise OutOfScope()
    return area.path


# -- moderation: a held report and the queue ------------------------------------------------------

def _held_subject(case_id: int) -> moderation.Subject | None:
    case = db.session.get(Case, case_id)
    if case is None:
        return None
    return moderation.Subject(area_path=case.area_path, author_id=case.reporter_id, text=case.description,
                              page=f"pages/cases/detail?id={case.id}")


def _enter_loop(case_id: int, _actor: Actor) -> None:
    """Released (or hidden from the public, yet still a report to handle): the acceptance deadline
    of a case still waiting runs from now."""
    case = _load(case_id)
    if case.status == SUBMITTED and case.due_at is None:
        _set_deadline(case, case.category.accept_hours, utcnow())


def _release(case_id: int, actor: Actor) -> None:
    case = _load(case_id)
    case.moderation = MODERATION_PASS
    _enter_loop(case_id, actor)


moderation.register("case", _held_subject, on_release=_release, on_hide=_enter_loop)
