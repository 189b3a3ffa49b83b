"""State machines as tables: {(state, action): (next_state, guard)}, shared by every flow.

A guard takes (obj, actor) and returns the role under which the actor may take the action,
or None. That role goes on the timeline, so residents can be shown "网格员" instead of a name.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from app.core import audit
from app.core.errors import Forbidden, InvalidTransition
from app.core.scoping import Actor
from app.core.timeline import TimelineEvent
from app.extensions import db

Guard = Callable[[Any, Actor], str | None]


@dataclass(frozen=True)
class Step:
    target: str
    guard: Guard


class Workflow:
    def __init__(self, subject_type: str, table: dict[tuple[str, str], tuple[str, Guard]],
                 labels: dict[str, str] | None = None, action_labels: dict[str, str] | None = None):
        self.subject_type = subject_type
        self.table = {key: Step(*value) for key, value in table.items()}
        self.labels = labels or {}
        # What a person reads: "受理", never the API's "accept". Every action of the table has one.
        self.action_labels = action_labels or {}
        missing = {action for _state, action in self.table} - set(self.action_labels)
        if missing:
            raise ValueError(f"{subject_type}: actions without a Chinese label: {sorted(missing)}")
        self.states = {s for s, _ in self.table} | {step.target for step in self.table.values()}

    def action_label(self, action: str) -> str:
        return self.action_labels.get(action, "该操作")

    def allowed_actions(self, obj: Any, actor: Actor) -> list[str]:
        return [
            action
            for (state, action), step in self.table.items()
            if state == obj.status and step.guard(obj, actor)
        ]

    def _may_ever(self, obj: Any, action: str, actor: Actor) -> bool:
        """Whether any row of the table would let `actor` take `action` on `obj`, in some state."""
        return any(step.guard(obj, actor) for (_state, name), step in self.table.items() if name == action)

    def check(self, obj: Any, action: str, actor: Actor) -> str:
        """The role under which `actor` may take `action` now; else 403 (never allowed) or 409 (not now).
        Services call it before they read the body, so permission is answered before content."""
        step = self.table.get((obj.status, action))
        role = step.guard(obj, actor) if step is not None else None
        if not role:
            allowed = self.allowed_actions(obj, actor)
            if step is None and self._may_ever(obj, action, actor):
                raise InvalidTransition(action, self.labels.get(obj.status, obj.status), allowed,
                                        labels=self.action_labels)
            # Someone who may never take this action learns nothing about the object's state.
            raise Forbidden(f"您无权执行“{self.action_label(action)}”。", errors={"allowed_actions": allowed})
        return role

    def apply(self, obj: Any, action: str, actor: Actor, *, note: str = "",
              attachments: Iterable = (), data: dict | None = None,
              target: str | None = None, note_public: bool | None = None) -> TimelineEvent:
        """Move `obj` by `action`, or raise 409 naming the allowed actions.

        `target` lets a service pick between two outcomes of one action that the table
        lists under a second key (for example verify passed/failed), without an if-chain.
        `note_public`: whether the note is for the subject's people too (see `record`).
        """
        role = self.check(obj, action, actor)
        step = self.table[(obj.status, action)]
        from_state = obj.status
        obj.status = target or step.target
        return record(self.subject_type, obj.id, actor, role, action, from_state, obj.status,
                      note=note, attachments=attachments, data=data, note_public=note_public)


def record(subject_type: str, subject_id: int, actor: Actor, role: str, action: str,
           from_state: str | None, to_state: str, *, note: str = "", attachments: Iterable = (),
           data: dict | None = None, note_public: bool | None = None) -> TimelineEvent:
    """Append one timeline event (also used for the creation step, which has no table row), and declare
    the act `<subject>.<action>` for the audit row, whichever door the request came through.

    `note_public` says whether the note is public (read by the resident), when the flow lets staff choose:
    the choice is audited with the step. None: the flow makes no such choice (stored as internal)."""
    detail = {"id": subject_id} if note_public is None else {"id": subject_id, "note_public": note_public}
    audit.act(f"{subject_type}.{action}", **detail)
    event = TimelineEvent(**event_values(subject_type, subject_id, actor, role, action, from_state, to_state,
                                         note=note, attachments=attachments, data=data,
                                         note_public=bool(note_public)))
    db.session.add(event)
    return event


def event_values(subject_type: str, subject_id: int, actor: Actor, role: str, action: str,
                 from_state: str | None, to_state: str, *, note: str = "", attachments: Iterable = (),
                 data: dict | None = None, at=None, note_public: bool = False) -> dict:
    """The columns of one timeline event; `at` defaults to the time the row is written."""
    values = {"subject_type": subject_type, "subject_id": subject_id, "actor_id": actor.user_id,
              "actor_role": role, "action": action, "from_state": from_state, "to_state": to_state,
              "note": note or "", "attachments": list(attachments), "data": data or {},
              "note_public": note_public}
    if at is not None:
        values["created_at"] = at
    return values


def timeline(subject_type: str, subject_id: int) -> list[TimelineEvent]:
    return list(db.session.scalars(
        db.select(TimelineEvent)
        .where(TimelineEvent.subject_type == subject_type, TimelineEvent.subject_id == subject_id)
        .order_by(TimelineEvent.id)
    ))


def any_of(*guards: Guard) -> Guard:
    def guard(obj: Any, actor: Actor) -> str | None:
        for g in guards:
            role = g(obj, actor)
            if role:
                return role
        return None
    return guard
