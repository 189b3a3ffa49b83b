"""The staff side of 我要联系 on the web: the messages inbox, what a message reads like to each side, and
the resident's call-back number read in clear (audited)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.models import ROLE_LABELS
from app.contact.models import MessageThread
from app.contact.service import thread_detail, visible_to
from app.core import audit, crypto
from app.core.pagination import Page, paginate
from app.core.scoping import Actor

WAITING, ALL = "waiting", "all"
INBOX_TABS = {WAITING: "待回复", ALL: "全部"}


def inbox(actor: Actor, *, tab: str = WAITING, limit: int | None = None, cursor: str | None = None) -> Page:
    """Threads sent to the staff member or in their scope (never the ones they wrote as a resident),
    newest first; 待回复 keeps those whose last word is the resident's."""
    stmt = select(MessageThread).where(visible_to(actor), MessageThread.resident_id != actor.user_id)
    if tab == WAITING:
        stmt = stmt.where(MessageThread.awaiting_reply.is_(True))
    return paginate(stmt.options(selectinload(MessageThread.resident)), MessageThread.id, limit=limit, cursor=cursor)


@dataclass
class Line:
    """One message as a reader sees it: who wrote it (the resident masked for staff, the staff member by
    name and role for the resident, so a resident knows which person answered), what and when."""

    author: str
    from_resident: bool
    body: str
    at: datetime


def _staff_label(user) -> str:
    roles = sorted({ROLE_LABELS.get(g.role, g.role) for g in user.grants}) if user.grants else []
    return f"{user.label}（{'、'.join(roles) or '工作人员'}）"


def lines(thread: MessageThread, *, for_staff: bool) -> list[Line]:
    result = []
    for message in thread.messages:
        if message.from_resident:
            author = (crypto.mask_name(message.author.label) or "居民") if for_staff else "我"
        else:
            author = _staff_label(message.author)
        result.append(Line(author, message.from_resident, message.body, message.created_at))
    return result


def masked_callback(thread: MessageThread) -> str | None:
    return crypto.mask_phone(crypto.decrypt(thread.callback_phone_encrypted)) if thread.callback_phone_encrypted \
        else None


def callback_phone(actor: Actor, thread_id: int) -> str | None:
    """The number the resident left, in clear, to call them back: only those who may read the thread,
    and every read is audited with whose number it was and why."""
    thread = thread_detail(actor, thread_id)
    audit.act("personal.read_phone", subject="message_thread", id=thread.id, user_id=thread.resident_id,
              reason="回电留言居民")
    return crypto.decrypt(thread.callback_phone_encrypted) if thread.callback_phone_encrypted else None
