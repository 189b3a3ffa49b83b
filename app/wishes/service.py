"""The verbs of micro-wishes: post, review, claim or dispatch, fulfil, confirm, and the periodic sweeps."""
from __future__ import annotations

import re
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from app.accounts.models import ADMIN_ROLES, PARTY_MEMBER, ROLE_LABELS, User
from app.areas.models import COMMUNITY, GRID, Area
from app.areas.service import get_area
from app.content_safety import policy
from app.core import audit, crypto
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.pagination import Page, paginate
from app.core.scoping import Actor, scope_filter
from app.core.time import local_display, to_local, utcnow
from app.core.workflow import record, timeline
from app.extensions import db
from app.media.service import photo_refs, resolve_photos
from app.members import service as members
from app.members.models import APPROVED as MEMBER_APPROVED
from app.members.models import PartyMember
from app.moderation import service as moderation
from app.notifications.service import notify
from app.points import sources as points
from app.volunteering.ledger import credit_hours
from app.wishes.matching import rank_candidates
from app.wishes.models import (
    APPROVED,
    CATEGORIES,
    CLAIMED,
    CONFIRMED,
    FULFILLED,
    GOODS,
    HANDED_OVER,
    OFFERED,
    PLEDGED,
    PUBLIC,
    SUBMITTED,
    Wish,
    WishPledge,
)
from app.wishes.states import (
    ACTION_LABELS,
    INTERNAL_ACTIONS,
    SYSTEM,
    SYSTEM_ACTOR,
    WORKFLOW,
    claimer,
    community_admin,
    community_member,
    offeree,
    requester,
)

AUTO_CONFIRM_AFTER = timedelta(days=7)
EXPIRY_GRACE = timedelta(days=3)
MAX_OPEN_CLAIMS = 5
MAX_HOURS = 24
MAX_DESIRED_AHEAD = timedelta(days=180)
MAX_GOODS_QUANTITY = 999
PHONE = re.compile(r"^\+?[0-9-]{6,20}$")


class WishAlreadyClaimed(Conflict):
    message = "手慢了，这个心愿刚刚被其他党员认领。"


def _page(wish: Wish) -> str:
    return f"pages/wish/detail?id={wish.id}"


def _note(wish: Wish, status: str) -> dict:
    """Short template values: thing ≤ 20 characters, phrase ≤ 5."""
    return {"title": wish.public_title[:20], "status": status[:5], "time": local_display(utcnow())}


# -- posting ------------------------------------------------------------------------------------

def create_wish(actor: Actor, *, title: str, detail: str = "", category: str, desired_date: date,
                community_id: int, address: str, grid_id: int | None = None, contact_phone: str | None = None,
                contact_name: str = "", photo_ids: list[int] | None = None, quantity: int | None = None) -> dict:
    title = (title or "").strip()
    if not title or len(title) > 30:
        raise Invalid("心愿标题为 1 到 30 个字。", errors={"title": ["1 到 30 个字"]})
    if category not in CATEGORIES:
        raise Invalid("心愿类别无效。", errors={"category": [f"应为以下之一：{'、'.join(CATEGORIES)}"]})
    today = to_local(utcnow()).date()
    if desired_date < today:
        raise Invalid("期望日期不能早于今天。", errors={"desired_date": ["不能早于今天"]})
    if desired_date > today + MAX_DESIRED_AHEAD:
        raise Invalid("期望日期最多在半年之内。", errors={"desired_date": ["最多半年之内"]})
    if category == GOODS:
        quantity = 1 if quantity is None else int(quantity)
        if not 1 <= quantity <= MAX_GOODS_QUANTITY:
            raise Invalid(f"物品数量为 1 到 {MAX_GOODS_QUANTITY} 件。", errors={"quantity": [f"1 到 {MAX_GOODS_QUANTITY}"]})
    else:
        quantity = None
    community = get_area(community_id)
    if community.level != COMMUNITY:
        raise Invalid("请选择心愿所在的社区（村）。", errors={"community_id": ["应为社区或村"]})
    if grid_id is not None:
        grid = get_area(grid_id)
        if grid.level != GRID or grid.parent_id != community.id:
            raise Invalid("所选网格不属于该社区。", errors={"grid_id": ["应为该社区下的网格"]})
    address = (address or "").strip()
    if not address:
        raise Invalid("请填写上门服务的地址。", errors={"address": ["此项为必填项。"]})
    phone = (contact_phone or "").strip() or accounts_phone(actor.user_id)
    if not phone:
        raise Invalid("请填写联系电话，或先授权绑定手机号。", errors={"contact_phone": ["此项为必填项。"]})
    if not PHONE.match(phone):
        raise Invalid("联系电话格式不正确。", errors={"contact_phone": ["格式不正确"]})
    photos = photo_refs(resolve_photos(actor, photo_ids, area_path=community.path))
    detail = (detail or "").strip()
    verdict = policy.check("wish", db.session.get(User, actor.user_id), f"{title}\n{detail}")
    wish = Wish(title=title, detail=detail, category=category, desired_date=desired_date, photos=photos,
                requester_id=actor.user_id, contact_name=(contact_name or "").strip()[:32],
                address_encrypted=crypto.encrypt(address), phone_encrypted=crypto.encrypt(phone),
                community_id=community.id, grid_id=grid_id, area_path=community.path,
                public_title=title, public_detail=detail, status=SUBMITTED, quantity=quantity)
    db.session.add(wish)
    db.session.flush()
    moderation.hold(verdict, wish.id, area_path=wish.area_path, author_id=actor.user_id, text=f"{title}\n{detail}")
    record("wish", wish.id, actor, "resident", "submit", None, SUBMITTED, attachments=photos)
    notify(members.community_admin_ids(community.id), "wish_submitted", title="新的微心愿待审核",
           body=f"{community.name}居民提交了心愿“{title}”，请审核。", page=_page(wish),
           data=_note(wish, "待审核"), subject=("wish", wish.id))
    return present(wish, actor, detail=True)


def accounts_phone(user_id: int | None) -> str | None:
    user = db.session.get(User, user_id) if user_id else None
    return crypto.decrypt(user.phone_encrypted) if user else None


# -- reading ------------------------------------------------------------------------------------

def _privileged(wish: Wish, actor: Actor) -> bool:
    """Who sees the requester's address and phone: the requester, the claimer and the community's admins."""
    return bool(requester(wish, actor) or claimer(wish, actor) or community_admin(wish, actor))


def load_visible(actor: Actor, wish_id: int) -> Wish:
    wish = db.session.get(Wish, wish_id)
    if wish is not None and (_privileged(wish, actor) or offeree(wish, actor)
                             or (wish.status in PUBLIC and community_member(wish, actor))
                             # A goods wish waiting for donors is open to anyone signed in (爱心认捐).
                             or (wish.is_goods and wish.status == APPROVED and actor.user_id is not None)):
        return wish
    raise NotFound("心愿不存在或您无权查看。")


def get_wish(actor: Actor, wish_id: int) -> dict:
    return present(load_visible(actor, wish_id), actor, detail=True)


def list_wishes(actor: Actor, *, pool: bool = False, mine: bool = False, claimed_by_me: bool = False,
                offered_to_me: bool = False, status: str | None = None, community_id: int | None = None, limit: int | None = None,
                cursor: str | None = None) -> Page:
    stmt = select(Wish)
    if pool:
        if not actor.paths([PARTY_MEMBER]) and not actor.is_system_admin:
            raise Forbidden("心愿池仅对已报到的在职党员开放，请先到社区报到。")
        stmt = stmt.where(Wish.status == APPROVED, scope_filter(actor, Wish.area_path, [PARTY_MEMBER]),
                          moderation.shown("wish", Wish.id))
    elif mine:
        stmt = stmt.where(Wish.requester_id == actor.user_id)
    elif claimed_by_me:
        stmt = stmt.where(Wish.claimed_by == actor.user_id)
    elif offered_to_me:
        stmt = stmt.where(Wish.offered_to == actor.user_id, Wish.status == OFFERED)
    elif actor.has_role(*ADMIN_ROLES):
        stmt = stmt.where(scope_filter(actor, Wish.area_path, ADMIN_ROLES))
    else:
        stmt = stmt.where(Wish.requester_id == actor.user_id)
    if status:
        stmt = stmt.where(Wish.status == status)
    if community_id is not None:
        stmt = stmt.where(Wish.community_id == community_id)
    page = paginate(stmt, Wish.id, limit=limit, cursor=cursor)
    names = _area_names(page.items)
    page.items = [present(w, actor, names=names) for w in page.items]
    return page


def _area_names(wishes: list[Wish]) -> dict[int, str]:
    ids = {w.community_id for w in wishes} | {w.grid_id for w in wishes if w.grid_id}
    if not ids:
        return {}
    return dict(db.session.execute(select(Area.id, Area.name).where(Area.id.in_(ids))).all())


def present(wish: Wish, actor: Actor, *, detail: bool = False, names: dict[int, str] | None = None) -> dict:
    names = names if names is not None else _area_names([wish])
    privileged = _privileged(wish, actor)
    own_or_admin = bool(requester(wish, actor) or community_admin(wish, actor))
    data = {
        "id": wish.id, "title": wish.public_title, "detail": wish.public_detail, "category": wish.category,
        "category_label": wish.category_label, "desired_date": wish.desired_date, "photos": wish.photos or [],
        "status": wish.status, "status_label": wish.status_label,
        "community_id": wish.community_id, "community_name": names.get(wish.community_id, ""),
        "grid_id": wish.grid_id, "grid_name": names.get(wish.grid_id) if wish.grid_id else None,
        "requester_name": _requester_name(wish, privileged),
        "claimed": wish.claimed_by is not None, "claimed_by_me": bool(claimer(wish, actor)),
        "offered_to_me": bool(offeree(wish, actor)), "offer_expires_at": wish.offer_expires_at,
        "quantity": wish.quantity,
        "claimed_at": wish.claimed_at, "fulfilled_at": wish.fulfilled_at, "confirmed_at": wish.confirmed_at,
        "hours": wish.hours, "rating": wish.rating, "auto_confirmed": wish.auto_confirmed,
        "created_at": wish.created_at,
        "allowed_actions": [a for a in WORKFLOW.allowed_actions(wish, actor) if a not in INTERNAL_ACTIONS],
        "original_title": wish.title if own_or_admin else None,
        "original_detail": wish.detail if own_or_admin else None,
        "reject_reason": (wish.reject_reason or None) if own_or_admin else None,
    }
    if detail:
        data |= {
            "contact": _contact(wish, actor) if _sees_contact(wish, actor) else None,
            "claimer": _claimer_info(wish) if privileged and wish.claimed_by else None,
            "fulfil_note": wish.fulfil_note or None, "fulfil_photos": wish.fulfil_photos or [],
            "rating_comment": (wish.rating_comment or None),
            "can_rate": bool(requester(wish, actor)) and wish.status == CONFIRMED and wish.rating is None,
            "timeline": _timeline(wish) if privileged else [],
            "dispute_reason": (wish.dispute_reason or None) if privileged else None,
            "pledges": _pledges(wish, actor) if wish.is_goods else [],
            "pledged": _pledged_total(wish.id) if wish.is_goods else None,
        }
    return data


def _requester_name(wish: Wish, privileged: bool) -> str:
    name = wish.contact_name or "居民"
    return name if privileged else (crypto.mask_name(wish.contact_name) if wish.contact_name else "居民")


def _sees_contact(wish: Wish, actor: Actor) -> bool:
    """The requester and the community's admins; the claimer only while the wish is in their hands
    (认领后、完成前): once it is fulfilled or over, the claimer no longer needs the phone or address."""
    if requester(wish, actor) or community_admin(wish, actor):
        return True
    return bool(claimer(wish, actor)) and wish.status == CLAIMED


def _contact(wish: Wish, actor: Actor) -> dict:
    """The requester's phone and address in clear: a read by anyone else is audited."""
    if actor.user_id != wish.requester_id:
        audit.act("personal.read_contact", subject="wish", id=wish.id, user_id=wish.requester_id,
                  reason="办理微心愿（上门服务）")
    return {"name": wish.contact_name or None, "phone": crypto.decrypt(wish.phone_encrypted),
            "address": crypto.decrypt(wish.address_encrypted)}


def _claimer_info(wish: Wish) -> dict:
    member = db.session.scalar(select(PartyMember).where(
        PartyMember.user_id == wish.claimed_by, PartyMember.status == MEMBER_APPROVED)
        .order_by(PartyMember.id.desc()).limit(1))
    user = db.session.get(User, wish.claimed_by)
    return {"user_id": wish.claimed_by, "member_id": member.id if member else None,
            "name": (user.real_name if user and user.real_name else None) or (member.name if member else
                                                                             (user.label if user else "")),
            "org_name": member.org_name if member else None,
            "phone": crypto.mask_phone(crypto.decrypt(user.phone_encrypted)) if user else None}


def _pledges(wish: Wish, actor: Actor) -> list[dict]:
    """Donors see their own pledge; the community sees who pledged; others only the counts."""
    admin = bool(community_admin(wish, actor))
    rows = db.session.scalars(select(WishPledge).where(WishPledge.wish_id == wish.id).order_by(WishPledge.id))
    return [{"id": p.id, "quantity": p.quantity, "status": p.status, "status_label": p.status_label,
             "mine": p.donor_id == actor.user_id, "note": p.note or None,
             "donor_name": p.donor_name if admin or p.donor_id == actor.user_id else crypto.mask_name(p.donor_name),
             "created_at": p.created_at, "handed_over_at": p.handed_over_at} for p in rows]


def _pledged_total(wish_id: int, *statuses: str) -> int:
    statuses = statuses or (PLEDGED, HANDED_OVER)
    return int(db.session.scalar(select(func.coalesce(func.sum(WishPledge.quantity), 0)).where(
        WishPledge.wish_id == wish_id, WishPledge.status.in_(statuses))) or 0)


def _timeline(wish: Wish) -> list[dict]:
    return [{
        "action": e.action, "action_label": ACTION_LABELS.get(e.action, e.action),
        "actor_role": e.actor_role,
        "actor_role_label": "系统" if e.actor_role == SYSTEM else ROLE_LABELS.get(e.actor_role, e.actor_role),
        "from_state": e.from_state, "to_state": e.to_state, "note": e.note or None,
        "attachments": e.attachments or [], "time": e.created_at,
    } for e in timeline("wish", wish.id)]


# -- transitions ----------------------------------------------------------------------------------

def transition(actor: Actor, wish_id: int, action: str, **data) -> dict:
    wish = load_visible(actor, wish_id)
    handler = _HANDLERS.get(action)
    if handler is None:
        raise Invalid(f"未知操作：{action}", errors={"action": [f"应为以下之一：{'、'.join(_HANDLERS)}"]})
    # Permission before content: someone who may not take the step hears so before any word about the body.
    WORKFLOW.check(wish, action, actor)
    handler(wish, actor, data)
    return present(wish, actor, detail=True)


def _reason(data: dict, label: str) -> str:
    reason = (data.get("reason") or data.get("note") or "").strip()
    if not reason:
        raise Invalid(f"请填写{label}。", errors={"reason": ["此项为必填项。"]})
    return reason


def _flush_or(error: Conflict) -> None:
    """The version column turns a lost race into StaleDataError here; report it as the named conflict."""
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise error from exc


def _approve(wish: Wish, actor: Actor, data: dict) -> None:
    _set_public_text(wish, data.get("public_title"), data.get("public_detail"))
    WORKFLOW.apply(wish, "approve", actor, note=(data.get("note") or "").strip())
    _flush_or(Conflict("该心愿刚被其他管理员处理过，请刷新后重试。"))
    notify([wish.requester_id], "wish_approved", title="您的微心愿已通过审核",
           body=f"心愿“{wish.title}”已进入心愿池，等待党员认领。", page=_page(wish),
           data=_note(wish, "已通过"), subject=("wish", wish.id))
    pool = [m.user_id for m in members.approved_members(wish.area_path) if m.user_id != wish.requester_id]
    notify(pool, "wish_pool", title="心愿池有新的微心愿", body=f"{wish.category_label}：{wish.public_title}",
           page=_page(wish), data=_note(wish, "待认领"), subject=("wish", wish.id))


def _set_public_text(wish: Wish, public_title: str | None, public_detail: str | None) -> None:
    if public_title is not None:
        public_title = public_title.strip()
        if not public_title or len(public_title) > 30:
            raise Invalid("公开标题为 1 到 30 个字。", errors={"public_title": ["1 到 30 个字"]})
        wish.public_title = public_title
    if public_detail is not None:
        wish.public_detail = public_detail.strip()


def _reject(wish: Wish, actor: Actor, data: dict) -> None:
    reason = _reason(data, "驳回原因")
    WORKFLOW.apply(wish, "reject", actor, note=reason)
    wish.reject_reason = reason
    _flush_or(Conflict("该心愿刚被其他管理员处理过，请刷新后重试。"))
    notify([wish.requester_id], "wish_rejected", title="您的微心愿未通过审核", body=f"原因：{reason}",
           page=_page(wish), data=_note(wish, "未通过"), subject=("wish", wish.id))


def _cancel(wish: Wish, actor: Actor, data: dict) -> None:
    WORKFLOW.apply(wish, "cancel", actor, note=(data.get("reason") or data.get("note") or "").strip())
    _flush_or(Conflict("该心愿刚被党员认领，不能再撤销，请刷新后查看。"))


def _claim(wish: Wish, actor: Actor, data: dict) -> None:
    if wish.status == APPROVED and community_member(wish, actor):
        open_claims = db.session.scalar(select(func.count(Wish.id)).where(
            Wish.claimed_by == actor.user_id, Wish.status == CLAIMED)) or 0
        if open_claims >= MAX_OPEN_CLAIMS:
            raise Conflict(f"您已有 {open_claims} 个心愿在办，请先完成后再认领。")
    WORKFLOW.apply(wish, "claim", actor, note=(data.get("note") or "").strip())
    wish.claimed_by = actor.user_id
    wish.claimed_at = utcnow()
    _flush_or(WishAlreadyClaimed())
    notify([wish.requester_id], "wish_claimed", title="您的微心愿已被党员认领",
           body=f"心愿“{wish.title}”已有党员认领，将与您联系。", page=_page(wish),
           data=_note(wish, "已认领"), subject=("wish", wish.id))


def _chosen_member(wish: Wish, data: dict) -> PartyMember:
    if not data.get("member_id"):
        raise Invalid("派单时请选择党员。", errors={"member_id": ["此项为必填项。"]})
    member = members.approved_member(data["member_id"], wish.area_path)
    if member.user_id == wish.requester_id:
        raise Invalid("不能把心愿派给提出心愿的居民本人。", errors={"member_id": ["不能派给本人"]})
    return member


def _offer(wish: Wish, member: PartyMember) -> None:
    """派单: the wish waits for this member's 接单 until the offer's time limit."""
    hours = current_app.config["WISH_OFFER_HOURS"]
    wish.offered_to = member.user_id
    wish.offer_expires_at = utcnow() + timedelta(hours=hours)
    wish.claimed_by = None
    wish.claimed_at = None
    wish.stall_reminded_at = None
    notify([member.user_id], "wish_offered", title="社区给您派了一个微心愿",
           body=f"{wish.category_label}：{wish.public_title}。请在 {hours} 小时内接单或说明原因拒绝。",
           page=_page(wish), data=_note(wish, "待接单"), subject=("wish", wish.id))


def _clear_holder(wish: Wish) -> int | None:
    """Empty the offer and the claim; returns who held the wish until now."""
    holder = wish.claimed_by or wish.offered_to
    wish.offered_to = wish.offer_expires_at = wish.claimed_by = wish.claimed_at = wish.stall_reminded_at = None
    return holder


def _dispatch(wish: Wish, actor: Actor, data: dict) -> None:
    member = _chosen_member(wish, data)
    WORKFLOW.apply(wish, "dispatch", actor, note=(data.get("note") or "").strip(),
                   data={"member_id": member.id, "user_id": member.user_id, "name": member.name})
    _offer(wish, member)
    _flush_or(WishAlreadyClaimed("派单失败：这个心愿刚刚被党员认领了。"))


def _accept(wish: Wish, actor: Actor, data: dict) -> None:
    WORKFLOW.apply(wish, "accept", actor, note=(data.get("note") or "").strip())
    wish.claimed_by = wish.offered_to
    wish.claimed_at = utcnow()
    wish.offered_to = wish.offer_expires_at = None
    _flush_or(Conflict("该派单刚刚已失效或被社区收回，请刷新后查看。"))
    notify([wish.requester_id], "wish_claimed", title="您的微心愿已安排党员",
           body=f"社区安排的党员已接单，将为您实现心愿“{wish.title}”。", page=_page(wish),
           data=_note(wish, "已接单"), subject=("wish", wish.id))


def _decline(wish: Wish, actor: Actor, data: dict) -> None:
    reason = _reason(data, "拒绝接单的原因")
    WORKFLOW.apply(wish, "decline", actor, note=reason)
    _clear_holder(wish)
    _flush_or(Conflict("该派单刚刚已失效或被社区收回，请刷新后查看。"))
    notify(members.community_admin_ids(wish.community_id), "wish_declined", title="党员拒绝了派单",
           body=f"心愿“{wish.public_title}”未被接单，原因：{reason}。请重新派单。", page=_page(wish),
           data=_note(wish, "待派单"), subject=("wish", wish.id))


def _take_back(wish: Wish, actor: Actor, data: dict) -> None:
    reason = _reason(data, "收回原因")
    WORKFLOW.apply(wish, "take_back", actor, note=reason)
    holder = _clear_holder(wish)
    _flush_or(Conflict("该心愿状态刚刚发生变化，请刷新后重试。"))
    notify([holder], "wish_taken_back", title="社区收回了一个微心愿",
           body=f"心愿“{wish.public_title}”已由社区收回，原因：{reason}", page=_page(wish),
           data=_note(wish, "已收回"), subject=("wish", wish.id))


def _reassign(wish: Wish, actor: Actor, data: dict) -> None:
    reason = _reason(data, "改派原因")
    member = _chosen_member(wish, data)
    if member.user_id in (wish.claimed_by, wish.offered_to):
        raise Invalid("请改派给另一位党员。", errors={"member_id": ["与当前党员相同"]})
    WORKFLOW.apply(wish, "reassign", actor, note=reason,
                   data={"member_id": member.id, "user_id": member.user_id, "name": member.name})
    holder = _clear_holder(wish)
    _offer(wish, member)
    _flush_or(Conflict("该心愿状态刚刚发生变化，请刷新后重试。"))
    notify([holder], "wish_taken_back", title="社区改派了一个微心愿",
           body=f"心愿“{wish.public_title}”已改派他人，原因：{reason}", page=_page(wish),
           data=_note(wish, "已改派"), subject=("wish", wish.id))


def _dispute(wish: Wish, actor: Actor, data: dict) -> None:
    reason = _reason(data, "异议原因")
    WORKFLOW.apply(wish, "dispute", actor, note=reason)
    wish.dispute_reason = reason
    _flush_or(Conflict("该心愿刚刚已被确认。"))
    notify(members.community_admin_ids(wish.community_id) + [wish.claimed_by], "wish_disputed",
           title="居民对心愿完成情况有异议", body=f"心愿“{wish.public_title}”：{reason}。社区将核实处理。",
           page=_page(wish), data=_note(wish, "有异议"), subject=("wish", wish.id))


def _redo(wish: Wish, actor: Actor, data: dict) -> None:
    note = _reason(data, "核实意见")
    WORKFLOW.apply(wish, "redo", actor, note=note)
    # A fresh start for the claimer: the stall clock and the fulfilment begin again.
    wish.claimed_at = utcnow()
    wish.stall_reminded_at = None
    wish.fulfilled_at = None
    _flush_or(Conflict("该心愿状态刚刚发生变化，请刷新后重试。"))
    notify([wish.claimed_by, wish.requester_id],
           "wish_redo", title="社区核实后请党员重新服务", body=f"心愿“{wish.public_title}”：{note}",
           page=_page(wish), data=_note(wish, "重新服务"), subject=("wish", wish.id))


def _close(wish: Wish, actor: Actor, data: dict) -> None:
    note = _reason(data, "核实意见")
    _complete(wish, actor, "close", note=note)
    _flush_or(Conflict("该心愿状态刚刚发生变化，请刷新后重试。"))
    notify([wish.requester_id], "wish_closed", title="社区核实后已办结您的心愿",
           body=f"心愿“{wish.title}”：{note}", page=_page(wish), data=_note(wish, "已办结"),
           subject=("wish", wish.id))


def _release(wish: Wish, actor: Actor, data: dict) -> None:
    reason = _reason(data, "退回原因")
    WORKFLOW.apply(wish, "release", actor, note=reason)
    wish.claimed_by = None
    wish.claimed_at = None
    _flush_or(Conflict("该心愿状态刚刚发生变化，请刷新后重试。"))
    notify(members.community_admin_ids(wish.community_id), "wish_released", title="党员退回了一个微心愿",
           body=f"心愿“{wish.public_title}”已退回心愿池，原因：{reason}", page=_page(wish),
           data=_note(wish, "待认领"), subject=("wish", wish.id))


def _fulfil(wish: Wish, actor: Actor, data: dict) -> None:
    note = (data.get("note") or "").strip()
    if not note:
        raise Invalid("请简要说明服务情况。", errors={"note": ["此项为必填项。"]})
    hours = data.get("hours")
    if hours is None or not 0 < float(hours) <= MAX_HOURS:
        raise Invalid(f"服务时长应大于 0 且不超过 {MAX_HOURS} 小时。", errors={"hours": [f"0 到 {MAX_HOURS} 小时"]})
    photos = photo_refs(resolve_photos(actor, data.get("photo_ids"), area_path=wish.area_path))
    if not photos:
        raise Invalid("请上传至少一张服务照片作为凭证。", errors={"photo_ids": ["至少一张照片"]})
    WORKFLOW.apply(wish, "fulfil", actor, note=note, attachments=photos, data={"hours": float(hours)})
    wish.fulfil_note = note
    wish.fulfil_photos = photos
    wish.hours = round(float(hours), 1)
    wish.fulfilled_at = utcnow()
    _flush_or(Conflict("该心愿状态刚刚发生变化，请刷新后重试。"))
    notify([wish.requester_id], "wish_fulfilled", title="您的微心愿已完成",
           body=f"党员已完成心愿“{wish.title}”，请确认并评价；7 天内未确认将自动确认。", page=_page(wish),
           data=_note(wish, "待确认"), subject=("wish", wish.id))


def _confirm(wish: Wish, actor: Actor, data: dict) -> None:
    rating = data.get("rating")
    if rating is not None and not 1 <= int(rating) <= 5:
        raise Invalid("评分为 1 到 5 分。", errors={"rating": ["1 到 5 分"]})
    confirm(wish, actor)
    if rating is not None:
        _rate(wish, actor, int(rating), data.get("comment") or "")
    _flush_or(Conflict("该心愿刚刚已被确认。"))


def confirm(wish: Wish, actor: Actor, *, note: str = "", auto: bool = False) -> None:
    """Confirm by the requester or, after 7 silent days, by the system; then credit the hours once."""
    _complete(wish, actor, "confirm", note=note, auto=auto)


def _complete(wish: Wish, actor: Actor, action: str, *, note: str = "", auto: bool = False) -> None:
    """The wish came true (confirmed by the resident or the system, or closed by the community after a dispute)."""
    WORKFLOW.apply(wish, action, actor, note=note)
    wish.confirmed_at = utcnow()
    wish.auto_confirmed = auto
    if wish.claimed_by is None:  # a goods wish: donors gave items, no one served hours
        return
    _credit_hours(wish)
    points.wish_confirmed(wish)
    notify([wish.claimed_by], "wish_confirmed", title="您服务的微心愿已确认",
           body=f"心愿“{wish.public_title}”已确认，服务时长 {wish.hours:g} 小时已记入志愿服务记录，社区审核后计入纪实。", page=_page(wish),
           data=_note(wish, "已确认"), subject=("wish", wish.id))


def _credit_hours(wish: Wish) -> None:
    """The ledger entry of this service; the community decides it like any other (谁记录谁证明)."""
    community = db.session.get(Area, wish.community_id)
    credit_hours(user_id=wish.claimed_by, source_type="wish", source_id=wish.id, hours=wish.hours,
                 area_path=wish.area_path, description=f"微心愿：{wish.public_title}",
                 organiser_area_id=wish.community_id, served_on=to_local(wish.fulfilled_at).date(),
                 place=community.name if community else "", started_at=wish.claimed_at,
                 ended_at=wish.fulfilled_at)


_HANDLERS = {
    "approve": _approve, "reject": _reject, "cancel": _cancel, "claim": _claim, "dispatch": _dispatch,
    "accept": _accept, "decline": _decline, "take_back": _take_back, "reassign": _reassign,
    "release": _release, "fulfil": _fulfil, "confirm": _confirm, "dispute": _dispute, "redo": _redo,
    "close": _close,
}
assert not set(_HANDLERS) & INTERNAL_ACTIONS


# -- rating and public text ----------------------------------------------------------------------

def rate(actor: Actor, wish_id: int, *, score: int, comment: str = "") -> dict:
    wish = load_visible(actor, wish_id)
    if not requester(wish, actor):
        raise Forbidden("只有提出心愿的居民可以评价。")
    if wish.status != CONFIRMED:
        raise Conflict("心愿确认完成后才能评价。", errors={"allowed_actions": WORKFLOW.allowed_actions(wish, actor)})
    _rate(wish, actor, score, comment)
    _flush_or(Conflict("您已经评价过这个心愿了。"))
    return present(wish, actor, detail=True)


def _rate(wish: Wish, actor: Actor, score: int, comment: str) -> None:
    """The one way a rating is stored, with its one timeline event (whether given on confirming or later)."""
    if wish.rating is not None:
        raise Conflict("您已经评价过这个心愿了。")
    if not 1 <= score <= 5:
        raise Invalid("评分为 1 到 5 分。", errors={"score": ["1 到 5 分"]})
    wish.rating = score
    wish.rating_comment = (comment or "").strip()[:200]
    record("wish", wish.id, actor, "resident", "rate", wish.status, wish.status, note=wish.rating_comment,
           data={"score": score})


def edit_public_text(actor: Actor, wish_id: int, *, public_title: str | None = None,
                     public_detail: str | None = None) -> dict:
    wish = load_visible(actor, wish_id)
    role = community_admin(wish, actor)
    if not role:
        raise Forbidden("只有社区管理员可以修改心愿的公开内容。")
    if wish.status not in (SUBMITTED, APPROVED):
        raise Conflict("心愿已被认领，不能再修改公开内容。")
    _set_public_text(wish, public_title, public_detail)
    record("wish", wish.id, actor, role, "edit", wish.status, wish.status,
           data={"public_title": wish.public_title})
    _flush_or(Conflict("该心愿刚被其他人处理过，请刷新后重试。"))
    return present(wish, actor, detail=True)


# -- goods wishes: donors' pledges and the hand-over -------------------------------------------------

def _locked(wish_id: int) -> Wish:
    """The wish row, locked for this transaction, so that pledges against its quantity are taken one by one."""
    return db.session.scalars(select(Wish).where(Wish.id == wish_id).with_for_update()
                              .execution_options(populate_existing=True)).one()


def pledge(actor: Actor, wish_id: int, *, quantity: int, note: str = "", donor_name: str = "") -> dict:
    """A donor pledges some of the items a goods wish asks for; never more than are still wanted."""
    wish = load_visible(actor, wish_id)
    if requester(wish, actor) or actor.user_id is None:
        raise Forbidden("不能认捐自己提出的心愿。")
    if not wish.is_goods:
        raise Conflict("只有物品心愿可以认捐。")
    if wish.status != APPROVED:
        raise Conflict(f"该心愿{wish.status_label}，不能再认捐。")
    if not 1 <= int(quantity) <= MAX_GOODS_QUANTITY:
        raise Invalid("认捐数量至少 1 件。", errors={"quantity": ["至少 1 件"]})
    wish = _locked(wish_id)
    if wish.status != APPROVED:
        raise Conflict(f"该心愿{wish.status_label}，不能再认捐。")
    left = wish.quantity - _pledged_total(wish.id)
    if quantity > left:
        raise Conflict(f"该心愿只剩 {left} 件待认捐。" if left > 0 else "该心愿所需物品已全部认捐，谢谢您的爱心。",
                       errors={"remaining": max(left, 0)})
    user = db.session.get(User, actor.user_id)
    name = (donor_name or "").strip()[:32] or (user.real_name if user and user.real_name else "") or "爱心人士"
    row = WishPledge(wish_id=wish.id, donor_id=actor.user_id, donor_name=name, quantity=int(quantity),
                     note=(note or "").strip()[:200], status=PLEDGED)
    db.session.add(row)
    db.session.flush()
    record("wish", wish.id, actor, "resident", "pledge", wish.status, wish.status, note=row.note,
           data={"pledge_id": row.id, "quantity": row.quantity})
    notify(members.community_admin_ids(wish.community_id), "wish_pledged", title="物品心愿有新的认捐",
           body=f"心愿“{wish.public_title}”：{name}认捐 {row.quantity} 件，请安排交接。", page=_page(wish),
           data=_note(wish, "已认捐"), subject=("wish", wish.id))
    return present(wish, actor, detail=True)


def confirm_handover(actor: Actor, wish_id: int, pledge_id: int, *, note: str = "") -> dict:
    """The community confirms it received (or passed on) a pledge's items; the last one fulfils the wish."""
    wish = load_visible(actor, wish_id)
    role = community_admin(wish, actor)
    if not role:
        raise Forbidden("只有社区管理员可以确认物品交接。")
    row = db.session.get(WishPledge, pledge_id)
    if row is None or row.wish_id != wish.id:
        raise NotFound("认捐记录不存在。")
    if row.status != PLEDGED:
        raise Conflict(f"该认捐{row.status_label}，无需再确认。")
    wish = _locked(wish_id)
    row.status = HANDED_OVER
    row.handed_over_at = utcnow()
    row.confirmed_by = actor.user_id
    record("wish", wish.id, actor, role, "handover", wish.status, wish.status, note=(note or "").strip(),
           data={"pledge_id": row.id, "quantity": row.quantity, "donor": row.donor_name})
    db.session.flush()
    notify([row.donor_id], "wish_handover", title="您认捐的物品已交接",
           body=f"心愿“{wish.public_title}”：您认捐的 {row.quantity} 件物品社区已确认收到，谢谢！", page=_page(wish),
           data=_note(wish, "已交接"), subject=("wish", wish.id))
    if wish.status == APPROVED and _pledged_total(wish.id, HANDED_OVER) >= wish.quantity:
        WORKFLOW.apply(wish, "deliver", actor, note="所需物品已全部交接。")
        wish.fulfilled_at = utcnow()
        notify([wish.requester_id], "wish_fulfilled", title="您的物品心愿已实现",
               body=f"心愿“{wish.title}”所需物品已全部交接，请确认；7 天内未确认将自动确认。", page=_page(wish),
               data=_note(wish, "待确认"), subject=("wish", wish.id))
    _flush_or(Conflict("该心愿状态刚刚发生变化，请刷新后重试。"))
    return present(wish, actor, detail=True)


# -- periodic sweeps --------------------------------------------------------------------------------

def auto_confirm_due(limit: int = 500) -> int:
    """Confirm wishes whose requester stayed silent for 7 days after fulfilment."""
    due = db.session.scalars(select(Wish).where(
        Wish.status == FULFILLED, Wish.fulfilled_at <= utcnow() - AUTO_CONFIRM_AFTER)
        .order_by(Wish.id).limit(limit).with_for_update(skip_locked=True)).all()
    for wish in due:
        confirm(wish, SYSTEM_ACTOR, note="居民 7 天内未确认，系统自动确认。", auto=True)
    db.session.flush()
    return len(due)


def expire_due(limit: int = 500) -> int:
    """Expire approved wishes nobody claimed by their desired date plus the grace period."""
    last_day = to_local(utcnow() - EXPIRY_GRACE).date()
    due = db.session.scalars(select(Wish).where(Wish.status == APPROVED, Wish.desired_date < last_day)
                             .order_by(Wish.id).limit(limit).with_for_update(skip_locked=True)).all()
    for wish in due:
        WORKFLOW.apply(wish, "expire", SYSTEM_ACTOR, note="超过期望日期仍无人认领，心愿已过期。")
        notify([wish.requester_id], "wish_expired", title="您的微心愿已过期",
               body=f"心愿“{wish.title}”超过期望日期仍未被认领，已过期。您可以重新提交。", page=_page(wish),
               data=_note(wish, "已过期"), subject=("wish", wish.id))
    db.session.flush()
    return len(due)


def candidates(actor: Actor, wish_id: int, limit: int = 10) -> dict:
    wish = load_visible(actor, wish_id)
    if not community_admin(wish, actor):
        raise Forbidden("只有社区管理员可以查看派单推荐。")
    if wish.status not in (SUBMITTED, APPROVED, OFFERED, CLAIMED) or wish.is_goods:
        raise Conflict(f"该心愿{wish.status_label}，无需派单。")
    pool = [m for m in members.approved_members(wish.area_path) if m.user_id != wish.requester_id]
    return {"wish_id": wish.id, "items": rank_candidates(wish, pool)[:max(1, min(limit, 50))]}


def return_claims_of(user_id: int) -> int:
    """A claimer whose account is cancelled: the wishes in their hands go back to the pool, and the
    community is told (a release the claimer can no longer make themselves)."""
    wishes = list(db.session.scalars(select(Wish).where(Wish.claimed_by == user_id, Wish.status == CLAIMED)))
    for wish in wishes:
        record("wish", wish.id, SYSTEM_ACTOR, SYSTEM, "release", CLAIMED, APPROVED, note="认领的党员已注销账号，心愿退回心愿池。")
        wish.status, wish.claimed_by, wish.claimed_at = APPROVED, None, None
        notify(members.community_admin_ids(wish.community_id), "wish_released", title="党员退回了一个微心愿",
               body=f"心愿“{wish.public_title}”已退回心愿池，原因：认领的党员已注销账号", page=_page(wish),
               data=_note(wish, "待认领"), subject=("wish", wish.id))
    # Offers (派单) waiting for their answer go back to the community, as when they lapse.
    offered = list(db.session.scalars(select(Wish).where(Wish.offered_to == user_id, Wish.status == OFFERED)))
    for wish in offered:
        WORKFLOW.apply(wish, "offer_lapse", SYSTEM_ACTOR, note="被派单的党员已注销账号，心愿回到社区。")
        _clear_holder(wish)
        notify(members.community_admin_ids(wish.community_id), "wish_offer_lapsed", title="派单已失效",
               body=f"心愿“{wish.public_title}”被派单的党员已注销账号，请重新派单。", page=_page(wish),
               data=_note(wish, "待派单"), subject=("wish", wish.id))
    db.session.flush()
    return len(wishes) + len(offered)


# -- moderation ---------------------------------------------------------------------------------

def _held_subject(wish_id: int) -> moderation.Subject | None:
    wish = db.session.get(Wish, wish_id)
    if wish is None:
        return None
    return moderation.Subject(area_path=wish.area_path, author_id=wish.requester_id,
                              text=f"{wish.public_title}\n{wish.public_detail}", page=_page(wish),
                              public=wish.status == APPROVED)


# A held wish is still reviewed by its community as usual; the pool shows it once released.
moderation.register("wish", _held_subject)
def lapse_offers_due(limit: int = 500) -> int:
    """Offers nobody answered within the time limit go back to the community, which is told."""
    due = db.session.scalars(select(Wish).where(Wish.status == OFFERED, Wish.offer_expires_at <= utcnow())
                             .order_by(Wish.id).limit(limit).with_for_update(skip_locked=True)).all()
    for wish in due:
        hours = current_app.config["WISH_OFFER_HOURS"]
        WORKFLOW.apply(wish, "offer_lapse", SYSTEM_ACTOR, note=f"党员 {hours} 小时内未接单，派单已失效，心愿回到社区。")
        member = _clear_holder(wish)
        notify(members.community_admin_ids(wish.community_id), "wish_offer_lapsed", title="派单超时未接",
               body=f"心愿“{wish.public_title}”派单后 {hours} 小时无人接单，已回到社区，请重新派单。",
               page=_page(wish), data=_note(wish, "待派单"), subject=("wish", wish.id))
        notify([member], "wish_offer_lapsed", title="派单已失效", body=f"心愿“{wish.public_title}”的派单已超时失效。",
               page=_page(wish), data=_note(wish, "已失效"), subject=("wish", wish.id))
    db.session.flush()
    return len(due)


def sweep_stalled_claims(limit: int = 500) -> dict:
    """A claim with no progress: reminded after WISH_STALL_REMIND_DAYS, back in the pool after WISH_STALL_RETURN_DAYS."""
    now = utcnow()
    remind_after = timedelta(days=current_app.config["WISH_STALL_REMIND_DAYS"])
    return_after = timedelta(days=current_app.config["WISH_STALL_RETURN_DAYS"])
    stalled = db.session.scalars(select(Wish).where(Wish.status == CLAIMED, Wish.claimed_at <= now - remind_after)
                                 .order_by(Wish.id).limit(limit).with_for_update(skip_locked=True)).all()
    reminded = returned = 0
    for wish in stalled:
        if wish.claimed_at <= now - return_after:
            WORKFLOW.apply(wish, "stall_return", SYSTEM_ACTOR,
                           note=f"认领后 {return_after.days} 天未办理，心愿已退回心愿池。")
            member = _clear_holder(wish)
            notify([member], "wish_stall_returned", title="认领的心愿已退回心愿池",
                   body=f"心愿“{wish.public_title}”认领后 {return_after.days} 天未办理，已退回心愿池。",
                   page=_page(wish), data=_note(wish, "已退回"), subject=("wish", wish.id))
            notify(members.community_admin_ids(wish.community_id), "wish_stall_returned",
                   title="超期未办的心愿已退回心愿池", body=f"心愿“{wish.public_title}”已退回，可重新派单。",
                   page=_page(wish), data=_note(wish, "待认领"), subject=("wish", wish.id))
            returned += 1
        elif wish.stall_reminded_at is None:
            wish.stall_reminded_at = now
            left = (wish.claimed_at + return_after - now).days
            record("wish", wish.id, SYSTEM_ACTOR, SYSTEM, "stall_remind", CLAIMED, CLAIMED,
                   note=f"认领已 {remind_after.days} 天未办理，已提醒党员。")
            notify([wish.claimed_by], "wish_stall_reminder", title="您认领的心愿尚未办理",
                   body=f"心愿“{wish.public_title}”认领已 {remind_after.days} 天，请尽快联系居民；"
                        f"约 {max(left, 1)} 天后仍未办理将退回心愿池。",
                   page=_page(wish), data=_note(wish, "请办理"), subject=("wish", wish.id))
            reminded += 1
    db.session.flush()
    return {"reminded": reminded, "returned": returned}
