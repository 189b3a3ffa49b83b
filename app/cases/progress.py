"""What a resident is told about their case: the progress steps with plain-language expected times, what
its deadline is called, and which notes are public (staff choose per note; the defaults live here)."""
from __future__ import annotations

from app.cases.models import Case
from app.cases.states import ACCEPTED, CLOSED, DISPATCHED, HANDLED, REJECTED, SUBMITTED, WITHDRAWN

# Notes a resident reads on their case. Their own words (report, withdraw, reopen, rate) are always theirs to
# read. On every staff step that takes a note, staff choose whether the resident reads it ("居民可见"), and
# the choice is kept on the timeline event (TimelineEvent.note_public). What staff write *to* the resident
# (the acceptance, the reason of a refusal, the result of the handling, the outcome of the check) is public
# unless they say otherwise; dispatch and escalation notes are staff talking to staff ("请今天下午去现场
# 查看"): internal unless they say otherwise. Notes of system steps (overdue, the hotline's) stay internal.
RESIDENT_NOTE_ACTIONS = frozenset({"report", "withdraw", "reopen", "rate"})
STAFF_NOTE_DEFAULTS = {"accept": True, "reject": True, "handle": True, "verify": True,
                       "dispatch": False, "escalate": False}


def note_public(action: str, chosen: bool | None = None) -> bool:
    """Whether the resident reads the note of `action`: always for their own steps; on a staff step what
    staff chose (`chosen`), else the step's default; never for any other step."""
    if action in RESIDENT_NOTE_ACTIONS:
        return True
    if action not in STAFF_NOTE_DEFAULTS:
        return False
    return STAFF_NOTE_DEFAULTS[action] if chosen is None else bool(chosen)


# What the running deadline of each state is: acceptance while submitted, handling after.
DEADLINE_LABELS = {SUBMITTED: "受理期限", ACCEPTED: "办理时限", DISPATCHED: "办理时限"}


def deadline_label(status: str) -> str:
    return DEADLINE_LABELS.get(status, "时限")


STEPS = (("提交", SUBMITTED), ("受理", ACCEPTED), ("处理", DISPATCHED), ("核查", HANDLED), ("办结", CLOSED))
_ORDER = {SUBMITTED: 0, ACCEPTED: 1, DISPATCHED: 2, HANDLED: 3, CLOSED: 4}


def _span(hours: int, working_days: bool) -> str:
    if hours % 24 == 0:
        return f" {hours // 24} {'个工作日' if working_days else '天'}内"
    return f" {hours} 小时内{'（按工作日计）' if working_days else ''}"


def steps(case: Case) -> list[dict]:
    """提交 → 受理 → 处理 → 核查 → 办结: each step done, now or to come, with what to expect in plain words."""
    if case.status in (REJECTED, WITHDRAWN):
        return []
    category = case.category
    now = _ORDER[case.status]
    expect = {
        0: "已收到",
        1: f"一般{_span(category.accept_hours, category.working_days)}受理",
        2: f"受理后{_span(category.handle_hours, category.working_days)}处理完毕",
        3: "处理后由社区或网格员核查",
        4: "核查通过即办结，可以评价",
    }
    result = []
    for index, (label, _state) in enumerate(STEPS):
        state = "done" if index < now or case.status == CLOSED else "now" if index == now else "todo"
        result.append({"label": label, "state": state, "expect": expect[index]})
    return result
