"""Held content: putting it on hold, keeping it out of public places, the staff's queue and decisions,
and residents' abuse reports (举报).

Each domain registers its kinds here (`register`): how to find an item's area, author and text, and
what releasing or hiding it means there (a case enters the loop; a hidden praise leaves the wall).
This package imports no domain, so every domain may import it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, not_, or_, select

from app.content_safety.policy import KIND_LABELS, RULES, UNCHECKED, Verdict
from app.core.audit import act
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from app.core.pagination import Page, paginate
from app.core.scoping import Actor, require_scope, scope_filter
from app.core.time import local_display, utcnow
from app.extensions import db
from app.moderation.models import HELD, HIDDEN, HOLD_STATUS_LABELS, RELEASED, AbuseReport, Hold
from app.notifications.service import notify

# accounts.models' COMMUNITY_ADMIN and STREET_ADMIN, spelled out: accounts imports this package.
REVIEW_ROLES = ("community_admin", "street_admin")
REPORTS_TO_HIDE = 3
# Kinds shown in a public place, which residents may report (举报).
REPORTABLE = ("praise", "suggestion", "wish")
REPORTS = "reports"
ACTION_LABELS = {"release": "放行", "hide": "隐藏"}
# (status, action) -> next status
DECISIONS = {
    (HELD, "release"): RELEASED, (HELD, "hide"): HIDDEN,
    (HIDDEN, "release"): RELEASED, (RELEASED, "hide"): HIDDEN,
}
SOURCE_LABELS = {"wechat": "微信内容安全检查", UNCHECKED: "未能检查（网页提交或微信暂不可用）", REPORTS: "居民举报"}
SUGGEST_LABELS = {"pass": "通过", "review": "建议人工审核", "risky": "疑似违规"}
# What the author reads about a hidden item when the reviewer's reason is not shown.
HIDDEN_NOTICE = "经工作人员审核，该内容不予公开。"
HELD_NOTICE = "审核中"


@dataclass(frozen=True)
class Subject:
    """What the queue needs to know of one held item, read from its domain."""

    area_path: str
    author_id: int | None
    text: str
    page: str = ""  # the author's page in the mini-program
    public: bool = True  # shown in a public place now (only such items may be reported)


@dataclass(frozen=True)
class Kind:
    locate: Callable[[int], Subject | None]
    on_release: Callable[[int, Actor], None] | None = None
    on_hide: Callable[[int, Actor], None] | None = None


KINDS: dict[str, Kind] = {}


def register(kind: str, locate: Callable[[int], Subject | None], *, on_release=None, on_hide=None) -> None:
    """A domain says how its `kind` of content is found, released and hidden."""
    KINDS[kind] = Kind(locate, on_release, on_hide)


# -- holding ------------------------------------------------------------------------------------

def hold(verdict: Verdict, subject_id: int, *, area_path: str, author_id: int | None, text: str) -> Hold | None:
    """Keep a new item out of public places when its verdict says so; returns the hold, if any."""
    if not verdict.held:
        return None
    row = Hold(kind=verdict.kind, subject_id=subject_id, area_path=area_path, author_id=author_id,
               source=verdict.source, suggest=verdict.suggest, label=verdict.label, excerpt=text[:200],
               status=HELD)
    db.session.add(row)
    db.session.flush()
    return row


def shown(kind: str, id_column):
    """A WHERE clause: items of `kind` that are not held nor hidden (for every public place)."""
    return not_(exists().where(Hold.kind == kind, Hold.subject_id == id_column, Hold.status != RELEASED))


def hold_of(kind: str, subject_id: int) -> Hold | None:
    return db.session.scalar(select(Hold).where(Hold.kind == kind, Hold.subject_id == subject_id))


def notice_for_author(kind: str, subject_id: int) -> str | None:
    """What the author is told of their item: "审核中", why it is hidden, or nothing when it is public."""
    row = hold_of(kind, subject_id)
    if row is None or row.status == RELEASED:
        return None
    if row.status == HELD:
        return HELD_NOTICE
    return f"已隐藏：{row.reason}" if row.reason else HIDDEN_NOTICE


# -- the queue ----------------------------------------------------------------------------------

@dataclass
class QueueItem:
    id: int
    kind: str
    kind_label: str
    subject_id: int
    excerpt: str
    source: str
    source_label: str
    suggest: str
    suggest_label: str
    label: int | None
    status: str
    status_label: str
    reason: str
    reports: int
    created_at: object
    decided_at: object


def _require_reviewer(actor: Actor) -> None:
    if not actor.has_role(*REVIEW_ROLES):
        raise Forbidden("只有社区和街道管理员可以审核内容。")


def list_holds(actor: Actor, *, status: str | None = HELD, kind: str | None = None,
               limit: int | None = None, cursor: str | None = None) -> Page:
    """The moderation queue: held (or decided) items in the reviewer's areas, newest first."""
    _require_reviewer(actor)
    if status is not None and status not in HOLD_STATUS_LABELS:
        raise Invalid("审核状态无效。", errors={"status": ["应为 held、released 或 hidden"]})
    if kind is not None and kind not in RULES:
        raise Invalid("内容类型无效。", errors={"kind": [f"应为以下之一：{'、'.join(RULES)}"]})
    stmt = select(Hold).where(scope_filter(actor, Hold.area_path, REVIEW_ROLES))
    if status is not None:
        stmt = stmt.where(Hold.status == status)
    if kind is not None:
        stmt = stmt.where(Hold.kind == kind)
    page = paginate(stmt, Hold.id, limit=limit, cursor=cursor)
    counts = _report_counts(page.items)
    page.items = [_item(h, counts.get((h.kind, h.subject_id), 0)) for h in page.items]
    return page


def count_held(actor: Actor) -> int:
    if not actor.has_role(*REVIEW_ROLES):
        return 0
    return db.session.scalar(select(func.count(Hold.id)).where(
        Hold.status == HELD, scope_filter(actor, Hold.area_path, REVIEW_ROLES))) or 0


def _report_counts(holds: list[Hold]) -> dict[tuple[str, int], int]:
    if not holds:
        return {}
    keys = [and_(AbuseReport.kind == h.kind, AbuseReport.subject_id == h.subject_id) for h in holds]
    rows = db.session.execute(select(AbuseReport.kind, AbuseReport.subject_id, func.count(AbuseReport.id))
                              .where(or_(*keys)).group_by(AbuseReport.kind, AbuseReport.subject_id)).all()
    return {(k, s): n for k, s, n in rows}


def _item(h: Hold, reports: int) -> QueueItem:
    return QueueItem(
        id=h.id, kind=h.kind, kind_label=KIND_LABELS.get(h.kind, h.kind), subject_id=h.subject_id,
        excerpt=h.excerpt, source=h.source, source_label=SOURCE_LABELS.get(h.source, h.source),
        suggest=h.suggest, suggest_label=SUGGEST_LABELS.get(h.suggest, "未检查"), label=h.label,
        status=h.status, status_label=HOLD_STATUS_LABELS[h.status], reason=h.reason, reports=reports,
        created_at=h.created_at, decided_at=h.decided_at)


def get_hold(actor: Actor, hold_id: int) -> QueueItem:
    _require_reviewer(actor)
    row = _load(actor, hold_id)
    return _item(row, _report_counts([row]).get((row.kind, row.subject_id), 0))


def _load(actor: Actor, hold_id: int) -> Hold:
    row = db.session.get(Hold, hold_id)
    if row is None:
        raise NotFound("待审核内容不存在。")
    require_scope(actor, row.area_path, REVIEW_ROLES)
    return row


def decide(actor: Actor, hold_id: int, action: str, reason: str) -> QueueItem:
    """Release (放行) or hide (隐藏) a held item, with a reason; the author is told, the act audited."""
    _require_reviewer(actor)
    row = _load(actor, hold_id)
    if action not in ACTION_LABELS:
        raise Invalid("未知的审核操作。", errors={"action": ["应为 release 或 hide"]})
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("请填写审核理由。", errors={"reason": ["必填"]})
    if len(reason) > 200:
        raise Invalid("审核理由不能超过 200 字。", errors={"reason": ["最多 200 字"]})
    nxt = DECISIONS.get((row.status, action))
    if nxt is None:
        raise Conflict(f"该内容{HOLD_STATUS_LABELS[row.status]}，不能{ACTION_LABELS[action]}。")
    row.status, row.reason, row.decided_by, row.decided_at = nxt, reason, actor.user_id, utcnow()
    db.session.flush()
    kind = KINDS.get(row.kind)
    hook = kind and (kind.on_release if action == "release" else kind.on_hide)
    if hook:
        hook(row.subject_id, actor)
    act(f"moderation.{action}", kind=row.kind, subject_id=row.subject_id, hold_id=row.id)
    _tell_author(row, kind, action)
    return get_hold(actor, row.id)


def _tell_author(row: Hold, kind: Kind | None, action: str) -> None:
    subject = kind.locate(row.subject_id) if kind else None
    if subject is None or subject.author_id is None:
        return
    label = KIND_LABELS.get(row.kind, "内容")
    if action == "release":
        title, status, body = f"您的{label}已通过审核", "已通过", f"您提交的{label}已通过审核并正常公开。"
    else:
        title, status, body = f"您的{label}未予公开", "未通过", f"您提交的{label}未予公开。原因：{row.reason}"
    notify([subject.author_id], f"moderation_{action}", title=title, body=body, page=subject.page,
           data={"title": label, "status": status, "note": row.reason[:20], "time": local_display(utcnow())},
           subject=(row.kind, row.subject_id))


# -- abuse reports (举报) ------------------------------------------------------------------------

def report_abuse(actor: Actor, kind: str, subject_id: int, reason: str = "") -> dict:
    """A resident reports public content; from the third resident on it is hidden pending review."""
    if not actor.is_authenticated:
        raise Unauthorized("请先登录后再举报。")
    registered = KINDS.get(kind)
    if registered is None or kind not in REPORTABLE:
        raise Invalid("该内容不支持举报。", errors={"kind": ["应为点赞、建议或心愿"]})
    subject = registered.locate(subject_id)
    row = hold_of(kind, subject_id)
    if subject is None or not subject.public or (row is not None and row.status == HIDDEN):
        raise NotFound("内容不存在。")  # nothing said of what the public cannot see
    if actor.user_id == subject.author_id:
        raise Invalid("不能举报自己发布的内容。", errors={"id": ["是您自己的内容"]})
    if _already_reported(kind, subject_id, actor):
        raise Conflict("您已举报过该内容，工作人员会尽快处理。")
    db.session.add(AbuseReport(kind=kind, subject_id=subject_id, user_id=actor.user_id,
                               reason=(reason or "").strip()[:200]))
    db.session.flush()
    reports = db.session.scalar(select(func.count(AbuseReport.id)).where(
        AbuseReport.kind == kind, AbuseReport.subject_id == subject_id)) or 0
    hidden = False
    if reports >= REPORTS_TO_HIDE:
        if row is None:
            db.session.add(Hold(kind=kind, subject_id=subject_id, area_path=subject.area_path,
                                author_id=subject.author_id, source=REPORTS, suggest="", excerpt=subject.text[:200],
                                status=HELD))
            hidden = True
        elif row.status == RELEASED and row.source != REPORTS:
            # Released after a check, now reported by residents: it waits for review again. (Once staff
            # have released it after reports, their decision stands.)
            row.status, row.source, row.decided_at, row.decided_by = HELD, REPORTS, None, None
            hidden = True
        db.session.flush()
    return {"reports": reports, "hidden": hidden or (row is not None and row.status != RELEASED)}


def _already_reported(kind: str, subject_id: int, actor: Actor) -> bool:
    return db.session.scalar(select(AbuseReport.id).where(
        AbuseReport.kind == kind, AbuseReport.subject_id == subject_id,
        AbuseReport.user_id == actor.user_id)) is not None
