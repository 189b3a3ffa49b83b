"""Contacts shown on a scan, and the 我要联系 threads between a resident and the staff of a place."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Integer, cast, func, literal, null, or_, select, union_all
from sqlalchemy.orm import selectinload

from app.accounts.models import COMMUNITY_ADMIN, GRID_WORKER, STREET_ADMIN, User
from app.accounts.responsible import ancestor_ids, grid_workers_of, holders_of
from app.areas.models import Area
from app.codes.scenes import place_for_scene
from app.contact.models import CONTACT_ROLES, POLICE, PROPERTY, AreaContact, Message, MessageThread
from app.content_safety import policy
from app.core import audit, crypto
from app.core.errors import Forbidden, Invalid, NotFound
from app.core.ids import new_tracking_no
from app.core.pagination import Page, paginate
from app.core.scoping import AREA_ADMIN_ROLES, Actor, require_scope, scope_filter
from app.core.time import local_display, utcnow
from app.extensions import db
from app.notifications.service import notify

# Who sees every thread of an area besides its recipient: the staff responsible for it.
THREAD_ROLES = (GRID_WORKER, COMMUNITY_ADMIN, STREET_ADMIN)
MAX_BODY = 500


@dataclass
class Contact:
    role: str
    name: str
    phone: str | None  # masked
    user_id: int | None
    contact_id: int | None
    dial: str | None = None  # the whole number, only for a service line posted on the board (see PUBLIC_LINES)

    @property
    def role_label(self) -> str:
        return CONTACT_ROLES[self.role]


_contacts = AreaContact.__table__
# The numbers a board posts for anyone to call, as street notice boards do: the 网格民警 and the 物业 an admin
# set for the grid (AreaContact rows). A grid worker's phone is their own and stays masked.
PUBLIC_LINES = (POLICE, PROPERTY)
_NOT_DIALLED = re.compile(r"[^\d+\-]")


def dial_number(role: str, contact_id: int | None, phone: str | None) -> str | None:
    """The number a `tel:` link may carry, or None: only a posted service line, digits, + and - only."""
    if contact_id is None or role not in PUBLIC_LINES or not phone:
        return None
    return _NOT_DIALLED.sub("", phone) or None


def people_on(area_ids) -> list:
    """SELECTs (to UNION ALL) of everyone who is a contact on one of `area_ids`: named contacts, and
    the grid workers who answer for them (app.accounts.responsible). Their columns are `CONTACT_COLUMNS`."""
    workers = holders_of(GRID_WORKER, area_ids)
    held = workers.selected_columns
    return [
        select(_contacts.c.role, _contacts.c.name, _contacts.c.phone_encrypted, _contacts.c.user_id,
               _contacts.c.id.label("contact_id"), func.length(_contacts.c.area_path).label("depth"))
        .where(_contacts.c.area_id.in_(area_ids)),
        workers.with_only_columns(literal(GRID_WORKER).label("role"), held.name, held.phone_encrypted, held.user_id,
                                  cast(null(), Integer).label("contact_id"), held.depth),
    ]


CONTACT_COLUMNS = ("role", "name", "phone_encrypted", "user_id", "contact_id", "depth")


def contacts_for(area_path: str) -> list[Contact]:
    """The grid's contacts in one query: named contacts of the grid or its ancestors, plus the
    users holding grid_worker over it. For each role the contacts set nearest the grid win."""
    rows = db.session.execute(union_all(*people_on(ancestor_ids(area_path))))
    return pick_contacts(tuple(row) for row in rows)


def pick_contacts(rows) -> list[Contact]:
    """Contacts from (role, name, phone_encrypted, user_id, contact_id, depth) rows: for each named
    role the contacts set nearest the grid, and every grid worker once."""
    rows = [row for row in rows if row[0] is not None]
    deepest: dict[str, int] = {}
    for role, _name, _phone, _user_id, contact_id, depth in rows:
        if contact_id is not None or role == GRID_WORKER:
            deepest[role] = max(deepest.get(role, 0), depth)
    contacts: list[Contact] = []
    seen_users: set[int] = set()
    order = {role: i for i, role in enumerate(CONTACT_ROLES)}
    for role, name, phone, user_id, contact_id, depth in sorted(
            rows, key=lambda r: (order.get(r[0], 9), -r[5], r[4] is None)):
        if role != GRID_WORKER and depth != deepest[role]:
            continue
        if user_id is not None and role == GRID_WORKER:
            if user_id in seen_users:
                continue
            seen_users.add(user_id)
        plain = crypto.decrypt(phone)
        contacts.append(Contact(role=role, name=name or "", user_id=user_id, phone=crypto.mask_phone(plain),
                                contact_id=contact_id, dial=dial_number(role, contact_id, plain)))
    return contacts


# -- managing contacts ----------------------------------------------------------------------

def set_contact(actor: Actor, *, area_id: int, role: str, name: str, phone: str | None = None,
                user_id: int | None = None) -> AreaContact:
    """Create or replace the contact of `role` for an area (a grid, or a community for all its grids)."""
    if role not in CONTACT_ROLES:
        raise Invalid("联系人类型无效。", errors={"role": [f"应为以下之一：{'、'.join(CONTACT_ROLES)}"]})
    area = db.session.get(Area, area_id)
    if area is None:
        raise NotFound("区域不存在。")
    require_scope(actor, area.path, AREA_ADMIN_ROLES)
    contact = db.session.scalar(select(AreaContact).where(AreaContact.area_id == area.id,
                                                          AreaContact.role == role))
    if contact is None:
        contact = AreaContact(area_id=area.id, area_path=area.path, role=role)
        db.session.add(contact)
    contact.name = name.strip()
    contact.phone_encrypted = crypto.encrypt(phone) if phone else None
    contact.user_id = user_id
    db.session.flush()
    return contact


# -- threads --------------------------------------------------------------------------------

def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise Invalid("消息内容不能为空。", errors={"body": ["必填"]})
    if len(body) > MAX_BODY:
        raise Invalid(f"消息内容不能超过 {MAX_BODY} 字。", errors={"body": [f"最多 {MAX_BODY} 字"]})
    return body


def start_thread(actor: Actor, *, scene: str, to_role: str, body: str,
                 callback_phone: str | None = None) -> MessageThread:
    """我要联系: a message to a place's contact. `callback_phone` is the number the resident chose to leave
    for a call back (the web portal asks for it); the recipient reads it in clear, audited."""
    if to_role not in CONTACT_ROLES:
        raise Invalid("联系对象无效。", errors={"to_role": [f"应为以下之一：{'、'.join(CONTACT_ROLES)}"]})
    body = _clean_body(body)
    place = place_for_scene(scene)
    contacts = contacts_for(place.area_path)
    chosen = [c for c in contacts if c.role == to_role]
    if not chosen:
        missing = "该网格暂未配备网格员。" if to_role == GRID_WORKER else f"该场所暂未设置{CONTACT_ROLES[to_role]}联系人。"
        raise Invalid(missing, errors={"to_role": [missing]})
    policy.screen("message", db.session.get(User, actor.user_id), body, "body")
    contact = next((c for c in chosen if c.user_id), chosen[0])
    now = utcnow()
    thread = MessageThread(place_id=place.id, place=place, area_path=place.area_path, resident_id=actor.user_id,
                           to_role=to_role, contact_id=contact.contact_id, recipient_id=contact.user_id,
                           contact_name=contact.name, last_message_at=now, message_count=1,
                           tracking_no=new_tracking_no("LY"), awaiting_reply=True,
                           callback_phone_encrypted=crypto.encrypt(callback_phone) if callback_phone else None,
                           callback_phone_last4=callback_phone[-4:] if callback_phone else None)
    db.session.add(thread)
    db.session.flush()
    db.session.add(Message(thread_id=thread.id, author_id=actor.user_id, from_resident=True, body=body))
    db.session.flush()
    recipients = [contact.user_id] if contact.user_id else grid_workers_of(place.area_path)
    _notify(recipients, "message_received", f"新留言：{place.name}", thread, body)
    return thread_detail(actor, thread.id)


def reply(actor: Actor, thread_id: int, body: str) -> MessageThread:
    body = _clean_body(body)
    thread = get_thread(actor, thread_id)
    from_resident = actor.user_id == thread.resident_id
    audit.act("message.reply", subject="message_thread", id=thread.id, by_resident=from_resident)
    policy.screen("message", db.session.get(User, actor.user_id), body, "body")
    message = Message(thread_id=thread.id, author_id=actor.user_id, from_resident=from_resident, body=body)
    db.session.add(message)
    thread.last_message_at = utcnow()
    thread.message_count += 1
    thread.awaiting_reply = from_resident
    db.session.flush()
    if from_resident:
        recipients = [thread.recipient_id] if thread.recipient_id else grid_workers_of(thread.area_path)
        _notify(recipients, "message_received", f"居民追加留言：{thread.place.name}", thread, body)
    else:
        _notify([thread.resident_id], "message_replied", f"{thread.to_role_label}回复了您的留言", thread, body)
    return thread_detail(actor, thread.id)


def _notify(user_ids, kind: str, title: str, thread: MessageThread, body: str) -> None:
    notify(user_ids, kind, title=title, body=body, page=f"pages/messages/detail?id={thread.id}",
           data={"thing1": thread.place.name[:20], "thing2": body[:20], "time3": local_display(utcnow())},
           subject=("message_thread", thread.id))


def visible_to(actor: Actor):
    return or_(MessageThread.resident_id == actor.user_id, MessageThread.recipient_id == actor.user_id,
               scope_filter(actor, MessageThread.area_path, THREAD_ROLES))


def _require_access(actor: Actor, thread: MessageThread | None) -> MessageThread:
    if thread is None:
        raise NotFound("留言不存在。")
    if actor.user_id not in (thread.resident_id, thread.recipient_id) and not actor.covers(
            thread.area_path, THREAD_ROLES):
        raise Forbidden("无权查看该留言。")
    return thread


def get_thread(actor: Actor, thread_id: int) -> MessageThread:
    return _require_access(actor, db.session.get(MessageThread, thread_id))


def thread_detail(actor: Actor, thread_id: int) -> MessageThread:
    """The thread with its messages and their authors loaded up front."""
    thread = db.session.scalar(select(MessageThread).where(MessageThread.id == thread_id).options(
        selectinload(MessageThread.resident),
        selectinload(MessageThread.messages).selectinload(Message.author),
    ).execution_options(populate_existing=True))
    return _require_access(actor, thread)


def list_threads(actor: Actor, *, mine: bool = False, place_id: int | None = None,
                 limit: int | None = None, cursor: str | None = None) -> Page:
    """Residents: the threads they started. Staff: also those sent to them or in their scope."""
    stmt = select(MessageThread)
    stmt = stmt.where(MessageThread.resident_id == actor.user_id) if mine else stmt.where(visible_to(actor))
    if place_id is not None:
        stmt = stmt.where(MessageThread.place_id == place_id)
    return paginate(stmt.options(selectinload(MessageThread.resident)), MessageThread.id, limit=limit, cursor=cursor)
