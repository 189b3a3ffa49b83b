"""The verbs of the new groups: register (报到) and review, publish and claim posts, and report on a post."""
from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm.exc import StaleDataError

from app.accounts.models import ADMIN_ROLES, ROLE_LABELS
from app.areas.models import COMMUNITY, Area
from app.areas.service import get_area
from app.core import crypto
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.pagination import Page, paginate
from app.core.scoping import Actor, admin_role, scope_filter
from app.core.time import utcnow
from app.core.workflow import record, timeline
from app.extensions import db
from app.members.service import community_admin_ids
from app.newgroups.models import (
    APPROVED,
    CLOSED,
    KIND_LABELS,
    OPEN,
    PENDING,
    POST_KINDS,
    GroupWorker,
    PostClaim,
    ServicePost,
)
from app.newgroups.states import CLAIM, REGISTRATION
from app.notifications.service import notify

MAX_PLACES = 200


def _text(value: str | None, field: str, label: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise Invalid(f"请填写{label}。", errors={field: ["此项为必填项。"]})
    if len(value) > limit:
        raise Invalid(f"{label}最多 {limit} 个字。", errors={field: [f"最多 {limit} 个字"]})
    return value


def _community(community_id: int) -> Area:
    community = get_area(community_id)
    if community.level != COMMUNITY:
        raise Invalid("请选择社区（村）。", errors={"community_id": ["应为社区或村"]})
    return community


def _flush(message: str) -> None:
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise Conflict(message) from exc


def _names(ids: set[int]) -> dict[int, str]:
    ids = {i for i in ids if i}
    return dict(db.session.execute(select(Area.id, Area.name).where(Area.id.in_(ids))).all()) if ids else {}


def _events(subject: str, subject_id: int) -> list[dict]:
    labels = (REGISTRATION if subject == "group_worker" else CLAIM).action_labels
    return [{"action": e.action, "action_label": labels.get(e.action, e.action),
             "actor_role_label": ROLE_LABELS.get(e.actor_role, e.actor_role), "note": e.note or None,
             "time": e.created_at} for e in timeline(subject, subject_id)]


# -- registration (报到) ----------------------------------------------------------------------------

def register(actor: Actor, *, name: str, kind: str, platform: str, work_area: str, community_id: int) -> dict:
    if not actor.is_authenticated:
        raise Forbidden("请先登录。")
    if kind not in KIND_LABELS:
        raise Invalid("请选择从业类型。", errors={"kind": [f"应为以下之一：{'、'.join(KIND_LABELS)}"]})
    name = _text(name, "name", "姓名", 32)
    platform = _text(platform, "platform", "所在平台或企业", 60)
    work_area = _text(work_area, "work_area", "日常工作区域", 100)
    community = _community(community_id)
    existing = db.session.scalar(select(GroupWorker).where(
        GroupWorker.user_id == actor.user_id, GroupWorker.community_id == community.id,
        GroupWorker.status.in_((PENDING, APPROVED))))
    if existing is not None:
        raise Conflict(f"您已向{community.name}报到（{existing.status_label}），无需重复提交。")
    worker = GroupWorker(user_id=actor.user_id, name=name, kind=kind, platform=platform, work_area=work_area,
                         community_id=community.id, area_path=community.path, status=PENDING)
    db.session.add(worker)
    db.session.flush()
    record("group_worker", worker.id, actor, "resident", "register", None, PENDING)
    notify(community_admin_ids(community.id), "group_worker_registered", title="新就业群体报到待审核",
           body=f"{worker.kind_label}{name}（{platform}）向{community.name}报到，请审核。",
           subject=("group_worker", worker.id))
    return present_worker(worker, actor)


def _load_worker(actor: Actor, worker_id: int) -> GroupWorker:
    worker = db.session.get(GroupWorker, worker_id)
    if worker is None or not (worker.user_id == actor.user_id or admin_role(actor, worker.area_path)):
        raise NotFound("报到记录不存在或您无权查看。")
    return worker


def review_registration(actor: Actor, worker_id: int, action: str, reason: str = "") -> dict:
    worker = _load_worker(actor, worker_id)
    REGISTRATION.check(worker, action, actor)
    reason = (reason or "").strip()
    if action == "reject" and not reason:
        raise Invalid("请填写驳回原因。", errors={"reason": ["此项为必填项。"]})
    REGISTRATION.apply(worker, action, actor, note=reason)
    worker.reviewed_by, worker.reviewed_at = actor.user_id, utcnow()
    worker.reject_reason = reason if action == "reject" else ""
    _flush("该报到刚被其他管理员处理过，请刷新后重试。")
    community = db.session.get(Area, worker.community_id)
    if action == "approve":
        notify([worker.user_id], "group_worker_approved", title="报到已通过",
               body=f"欢迎加入{community.name}！可以在“社区岗位”中认领服务岗位。", subject=("group_worker", worker.id))
    else:
        notify([worker.user_id], "group_worker_rejected", title="报到未通过", body=f"原因：{reason}",
               subject=("group_worker", worker.id))
    return present_worker(worker, actor)


def list_registrations(actor: Actor, *, status: str | None = None, community_id: int | None = None,
                       mine: bool = False, limit: int | None = None, cursor: str | None = None) -> Page:
    stmt = select(GroupWorker)
    if mine or not actor.has_role(*ADMIN_ROLES):
        stmt = stmt.where(GroupWorker.user_id == actor.user_id)
    else:
        stmt = stmt.where(scope_filter(actor, GroupWorker.area_path, ADMIN_ROLES))
    if status:
        stmt = stmt.where(GroupWorker.status == status)
    if community_id is not None:
        stmt = stmt.where(GroupWorker.community_id == community_id)
    page = paginate(stmt, GroupWorker.id, limit=limit, cursor=cursor)
    names = _names({w.community_id for w in page.items})
    page.items = [present_worker(w, actor, names) for w in page.items]
    return page


def present_worker(worker: GroupWorker, actor: Actor, names: dict[int, str] | None = None) -> dict:
    names = names if names is not None else _names({worker.community_id})
    return {
        "id": worker.id, "name": worker.name, "kind": worker.kind, "kind_label": worker.kind_label,
        "platform": worker.platform, "work_area": worker.work_area, "community_id": worker.community_id,
        "community_name": names.get(worker.community_id, ""), "status": worker.status,
        "status_label": worker.status_label, "reject_reason": worker.reject_reason or None,
        "created_at": worker.created_at, "allowed_actions": REGISTRATION.allowed_actions(worker, actor),
    }


def approved_worker(user_id: int | None, community_path: str) -> GroupWorker | None:
    return db.session.scalar(select(GroupWorker).where(
        GroupWorker.user_id == user_id, GroupWorker.area_path == community_path, GroupWorker.status == APPROVED)
        .order_by(GroupWorker.id.desc()).limit(1)) if user_id else None


# -- service posts (岗位) --------------------------------------------------------------------------

def create_post(actor: Actor, *, community_id: int, kind: str, title: str, duties: str, places: int) -> dict:
    community = _community(community_id)
    role = admin_role(actor, community.path)
    if not role:
        raise Forbidden("只有本社区的管理员可以发布岗位。")
    if kind not in POST_KINDS:
        raise Invalid("请选择岗位类型。", errors={"kind": [f"应为以下之一：{'、'.join(POST_KINDS)}"]})
    title = _text(title or POST_KINDS[kind], "title", "岗位名称", 30)
    duties = _text(duties, "duties", "岗位职责", 1000)
    if not 1 <= int(places or 0) <= MAX_PLACES:
        raise Invalid(f"岗位人数为 1 到 {MAX_PLACES} 人。", errors={"places": [f"1 到 {MAX_PLACES}"]})
    post = ServicePost(community_id=community.id, area_path=community.path, kind=kind, title=title, duties=duties,
                       places=int(places), status=OPEN, created_by=actor.user_id)
    db.session.add(post)
    db.session.flush()
    record("service_post", post.id, actor, role, "publish", None, OPEN, data={"places": post.places})
    return present_post(post, actor)


def close_post(actor: Actor, post_id: int) -> dict:
    post = db.session.get(ServicePost, post_id)
    role = admin_role(actor, post.area_path) if post is not None else None
    if not role:
        raise NotFound("岗位不存在或您无权管理。")
    if post.status == CLOSED:
        raise Conflict("该岗位已停止招募。")
    post.status = CLOSED
    record("service_post", post.id, actor, role, "close", OPEN, CLOSED)
    _flush("该岗位刚被其他管理员修改过，请刷新后重试。")
    return present_post(post, actor)


def _filled(post_id: int) -> int:
    return db.session.scalar(select(func.count(PostClaim.id)).where(
        PostClaim.post_id == post_id, PostClaim.status == APPROVED)) or 0


def list_posts(actor: Actor, *, community_id: int | None = None, status: str | None = OPEN,
               limit: int | None = None, cursor: str | None = None) -> Page:
    """Admins see the posts of their scope; a registered worker sees those of the communities they report to."""
    paths = list(db.session.scalars(select(GroupWorker.area_path).where(
        GroupWorker.user_id == actor.user_id, GroupWorker.status == APPROVED))) if actor.user_id else []
    visible = [scope_filter(actor, ServicePost.area_path, ADMIN_ROLES)] if actor.has_role(*ADMIN_ROLES) else []
    if paths:
        visible.append(ServicePost.area_path.in_(paths))
    if not visible:
        raise Forbidden("请先向社区报到，通过后即可查看和认领社区岗位。")
    stmt = select(ServicePost).where(or_(*visible))
    if status:
        stmt = stmt.where(ServicePost.status == status)
    if community_id is not None:
        stmt = stmt.where(ServicePost.community_id == community_id)
    page = paginate(stmt, ServicePost.id, limit=limit, cursor=cursor)
    names = _names({p.community_id for p in page.items})
    page.items = [present_post(p, actor, names) for p in page.items]
    return page


def present_post(post: ServicePost, actor: Actor, names: dict[int, str] | None = None) -> dict:
    names = names if names is not None else _names({post.community_id})
    mine = db.session.scalar(select(PostClaim).where(
        PostClaim.post_id == post.id, PostClaim.user_id == actor.user_id).order_by(PostClaim.id.desc()).limit(1)) \
        if actor.user_id else None
    filled = _filled(post.id)
    return {
        "id": post.id, "kind": post.kind, "kind_label": post.kind_label, "title": post.title, "duties": post.duties,
        "places": post.places, "filled": filled, "places_left": max(post.places - filled, 0),
        "community_id": post.community_id, "community_name": names.get(post.community_id, ""),
        "status": post.status, "status_label": post.status_label, "created_at": post.created_at,
        "my_claim": present_claim(mine, actor) if mine else None,
        "can_manage": bool(admin_role(actor, post.area_path)),
    }


# -- claims of posts ---------------------------------------------------------------------------------

def claim_post(actor: Actor, post_id: int, note: str = "") -> dict:
    post = db.session.get(ServicePost, post_id)
    worker = approved_worker(actor.user_id, post.area_path) if post is not None else None
    if post is None or worker is None:
        raise NotFound("岗位不存在，或您尚未向该社区报到。")
    if post.status != OPEN:
        raise Conflict("该岗位已停止招募。")
    held = db.session.scalar(select(PostClaim).where(
        PostClaim.post_id == post.id, PostClaim.user_id == actor.user_id,
        PostClaim.status.in_((PENDING, APPROVED))))
    if held is not None:
        raise Conflict(f"您已认领该岗位（{held.status_label}）。")
    if _filled(post.id) >= post.places:
        raise Conflict("该岗位名额已满。")
    claim = PostClaim(post_id=post.id, worker_id=worker.id, user_id=actor.user_id, area_path=post.area_path,
                      status=PENDING)
    db.session.add(claim)
    db.session.flush()
    record("post_claim", claim.id, actor, "resident", "claim", None, PENDING, note=(note or "").strip()[:200])
    notify(community_admin_ids(post.community_id), "post_claimed", title="社区岗位有新的认领",
           body=f"{worker.kind_label}{worker.name}认领了“{post.title}”，请审核。", subject=("post_claim", claim.id))
    return present_claim(claim, actor)


def _load_claim(actor: Actor, claim_id: int) -> PostClaim:
    claim = db.session.get(PostClaim, claim_id)
    if claim is None or not (claim.user_id == actor.user_id or admin_role(actor, claim.area_path)):
        raise NotFound("岗位认领不存在或您无权查看。")
    return claim


def decide_claim(actor: Actor, claim_id: int, action: str, reason: str = "") -> dict:
    """approve / reject (the community), withdraw (the claimant), leave (either): approval within the places."""
    claim = _load_claim(actor, claim_id)
    CLAIM.check(claim, action, actor)
    reason = (reason or "").strip()
    if action in ("reject", "leave") and not reason:
        raise Invalid("请填写原因。", errors={"reason": ["此项为必填项。"]})
    if action == "approve":
        # The post's row, locked: two approvals of the last place are taken one after the other.
        post = db.session.scalars(select(ServicePost).where(ServicePost.id == claim.post_id).with_for_update()
                                  .execution_options(populate_existing=True)).one()
        if _filled(post.id) >= post.places:
            raise Conflict(f"“{post.title}”名额已满（{post.places} 人），不能再批准。")
    CLAIM.apply(claim, action, actor, note=reason)
    claim.reason = reason
    if action in ("approve", "reject"):
        claim.reviewed_by, claim.reviewed_at = actor.user_id, utcnow()
    _flush("该认领刚被处理过，请刷新后重试。")
    post = db.session.get(ServicePost, claim.post_id)
    if action in ("approve", "reject"):
        notify([claim.user_id], "post_claim_approved" if action == "approve" else "post_claim_rejected",
               title="岗位认领已批准" if action == "approve" else "岗位认领未批准",
               body=f"“{post.title}”：" + ("欢迎上岗！" if action == "approve" else f"原因：{reason}"),
               subject=("post_claim", claim.id))
    return present_claim(claim, actor)


def list_claims(actor: Actor, *, status: str | None = None, post_id: int | None = None, mine: bool = False,
                limit: int | None = None, cursor: str | None = None) -> Page:
    stmt = select(PostClaim)
    if mine or not actor.has_role(*ADMIN_ROLES):
        stmt = stmt.where(PostClaim.user_id == actor.user_id)
    else:
        stmt = stmt.where(scope_filter(actor, PostClaim.area_path, ADMIN_ROLES))
    if status:
        stmt = stmt.where(PostClaim.status == status)
    if post_id is not None:
        stmt = stmt.where(PostClaim.post_id == post_id)
    page = paginate(stmt, PostClaim.id, limit=limit, cursor=cursor)
    page.items = [present_claim(c, actor) for c in page.items]
    return page


def present_claim(claim: PostClaim, actor: Actor) -> dict:
    post = db.session.get(ServicePost, claim.post_id)
    worker = db.session.get(GroupWorker, claim.worker_id)
    admin = bool(admin_role(actor, claim.area_path))
    return {
        "id": claim.id, "post_id": post.id, "post_title": post.title, "post_kind": post.kind,
        "post_kind_label": post.kind_label, "worker_id": worker.id,
        "worker_name": worker.name if admin or claim.user_id == actor.user_id else crypto.mask_name(worker.name),
        "worker_kind_label": worker.kind_label, "platform": worker.platform, "status": claim.status,
        "status_label": claim.status_label, "reason": claim.reason or None, "created_at": claim.created_at,
        "allowed_actions": CLAIM.allowed_actions(claim, actor),
    }


def claim_timeline(actor: Actor, claim_id: int) -> list[dict]:
    return _events("post_claim", _load_claim(actor, claim_id).id)
