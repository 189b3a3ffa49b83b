"""What each viewer sees of a case: staff see their scope in full (never an anonymous reporter);
the reporter sees the timeline with staff shown by role, not by name; a follower (a neighbour who
found the case at the same place) sees its progress only: no tracking number, description, photos
or notes. A similar case found before reporting shows less still: category, status and the day."""
from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import ROLE_LABELS, User
from app.cases.models import Case
from app.cases.progress import deadline_label, steps
from app.cases.service import follow_token, staff_role, viewer_of
from app.cases.states import ACTION_LABELS, CASE_FLOW, CLOSED, GROUPS, STATE_LABELS
from app.core import crypto
from app.core.scoping import Actor
from app.core.time import to_local
from app.core.workflow import timeline
from app.extensions import db
from app.moderation.service import notice_for_author

ANONYMOUS_LABEL = "匿名居民"
SYSTEM_LABEL = "系统"
# Reporter-side steps: on an anonymous case their actor is hidden from staff.
REPORTER_ACTIONS = ("report", "withdraw", "reopen", "rate")
# Timeline data a resident may see (who exactly was assigned stays with staff).
PUBLIC_DATA = ("department", "passed", "score")


def _group(status: str) -> str:
    return next(name for name, states in GROUPS.items() if status in states)


def summary(case: Case, actor: Actor) -> dict:
    """A list item: no queries beyond the ones that loaded the case."""
    staff = staff_role(case, actor) is not None
    private = staff or (actor.user_id is not None and actor.user_id == case.reporter_id)
    item = {
        "id": case.id, "tracking_no": case.tracking_no if private else None, "status": case.status,
        "status_label": STATE_LABELS[case.status], "status_group": _group(case.status),
        "category": {"id": case.category.id, "name": case.category.name},
        "place": _place(case),
        "location": _location(case) if private else None,
        "description": case.description if private else None, "photos": case.photos if private else [],
        "anonymous": case.anonymous,
        "created_at": case.created_at, "due_at": case.due_at, "overdue": case.overdue,
        "escalated": case.escalated, "accepted_at": case.accepted_at, "closed_at": case.closed_at,
        "reopen_count": case.reopen_count, "rating": case.rating,
        "rating_comment": case.rating_comment if private else "",
        "department": {"id": case.department.id, "name": case.department.name} if case.department else None,
        "allowed_actions": CASE_FLOW.allowed_actions(case, actor),
        "moderation": case.moderation if staff else None,
        # Its reporter learns that a held report is 审核中, or why it is hidden; the public never does.
        "review_notice": notice_for_author("case", case.id) if private and case.moderation != "pass" else None,
        "assignee_id": case.assignee_id if staff else None,
    }
    return item


def _place(case: Case) -> dict:
    if case.place_id is not None:
        return {"id": case.place.id, "name": case.place.name, "address": case.place.address}
    return {"id": None, "name": case.where, "address": case.location_address}


def _location(case: Case) -> dict | None:
    """Where the reporter stood, in GCJ-02 as the mini-program's map takes it."""
    if case.location_lat is None:
        return None
    return {"latitude": case.location_lat, "longitude": case.location_lng, "accuracy": case.location_accuracy,
            "address": case.location_address}


def similar(case: Case, actor: Actor) -> dict:
    """A case found at the place before reporting: enough to recognise it and follow it, nothing personal."""
    return {
        "id": case.id, "status": case.status, "status_label": STATE_LABELS[case.status],
        "category": {"id": case.category.id, "name": case.category.name},
        "reported_on": to_local(case.created_at).date(),
        "is_mine": actor.user_id is not None and actor.user_id == case.reporter_id,
        "follow_token": follow_token(case, actor),
    }


def similar_json(case: Case, actor: Actor) -> dict:
    """`similar()` as the API sends it (the SimilarCase schema), for the report's answer."""
    item = similar(case, actor)
    item["reported_on"] = item["reported_on"].isoformat()
    return item


WEB_ONLY = ("steps", "deadline_label")
DATETIMES = ("created_at", "due_at", "accepted_at", "closed_at")
PHOTO_KEYS = ("id", "url", "thumb_url")


def summary_json(case: Case, actor: Actor) -> dict:
    """`summary()` as the API sends it (the CaseItem schema), built without marshmallow: the case list
    is the staff's busiest read, and dumping twenty nested items cost a quarter of it (bench/RESULTS.md).
    tests/api/test_cases.py checks it against the schema's own dump."""
    return _json_ready(summary(case, actor))


def detail_json(case: Case, actor: Actor, events: list | None = None) -> dict:
    """`detail()` as the API sends it (the CaseDetail schema), for the report's answer; a test checks
    it equals what GET /cases/{id} sends through the schema."""
    item = _json_ready(detail(case, actor, events))
    for key in WEB_ONLY:
        item.pop(key, None)
    for entry in item["timeline"]:
        entry["at"] = _local_iso(entry["at"])
        entry["photos"] = _photo_json(entry["photos"])
    return item


def _json_ready(item: dict) -> dict:
    for key in DATETIMES:
        item[key] = _local_iso(item[key])
    item["photos"] = _photo_json(item["photos"])
    return item


def _local_iso(value) -> str | None:
    return None if value is None else to_local(value).isoformat()


def _photo_json(photos) -> list[dict]:
    return [{k: photo[k] for k in PHOTO_KEYS if k in photo} for photo in photos or []]


def detail(case: Case, actor: Actor, events: list | None = None) -> dict:
    """The case with its timeline (read here unless the caller already holds its `events`)."""
    viewer = viewer_of(case, actor)
    item = summary(case, actor)
    item["timeline"] = timeline_items(case, actor, viewer, events)
    item["reporter"] = _reporter(case) if viewer == "staff" and not case.anonymous else None
    item["is_reporter"] = actor.user_id == case.reporter_id
    item["following"] = viewer == "follower"
    item["can_rate"] = item["is_reporter"] and case.status == CLOSED and case.rating is None
    # For the web pages (the API's schema does not carry them): the steps and what the deadline is.
    item["steps"] = steps(case) if viewer != "staff" or item["is_reporter"] else []
    item["deadline_label"] = deadline_label(case.status)
    return item


def _reporter(case: Case) -> dict:
    user = db.session.get(User, case.reporter_id)
    return {"id": user.id, "display_name": user.label,
            "phone": crypto.mask_phone(crypto.decrypt(user.phone_encrypted))}


def timeline_items(case: Case, actor: Actor, viewer: str | None, events: list | None = None) -> list[dict]:
    if events is None:
        events = timeline("case", case.id)
    staff = viewer == "staff"
    private = viewer in ("staff", "reporter")  # a follower sees the steps, not what was written or shown
    names = {}
    if staff:
        ids = {e.actor_id for e in events if e.actor_id}
        names = {u.id: u.label for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    items = []
    for event in events:
        role_label = ROLE_LABELS.get(event.actor_role, SYSTEM_LABEL if event.actor_id is None else event.actor_role)
        by_reporter = event.actor_id == case.reporter_id and event.action in REPORTER_ACTIONS
        if by_reporter and case.anonymous and staff and actor.user_id != case.reporter_id:
            role_label, name = ANONYMOUS_LABEL, None
        else:
            name = names.get(event.actor_id) if staff else None
        data = event.data or {}
        items.append({
            "id": event.id, "action": event.action, "action_label": ACTION_LABELS.get(event.action, event.action),
            "from_state": event.from_state, "to_state": event.to_state,
            "status_label": STATE_LABELS.get(event.to_state, event.to_state),
            "actor_role": event.actor_role, "actor_label": role_label, "actor_name": name,
            # The reporter reads the notes staff made public; staff's internal notes stay with staff.
            "note": event.note if staff or (private and event.note_public) else "",
            "note_public": event.note_public,
            "photos": event.attachments if private else [],
            "data": data if staff else {k: v for k, v in data.items() if k in PUBLIC_DATA},
            "at": event.created_at,
        })
    return items
