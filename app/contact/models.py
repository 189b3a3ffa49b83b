"""Who to contact at a grid (police, property, grid worker) and the resident ↔ staff threads."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import AreaPath, Model, UTCDateTime

GRID_WORKER, POLICE, PROPERTY = "grid_worker", "police", "property"
CONTACT_ROLES = {GRID_WORKER: "网格员", POLICE: "网格民警", PROPERTY: "物业"}


class AreaContact(Model):
    """A named contact for a grid (or a community, for every grid below it)."""

    __tablename__ = "area_contacts"

    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    phone_encrypted: Mapped[str | None] = mapped_column(String(255))
    # The contact's own account, when they have one: messages then go to them.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def role_label(self) -> str:
        return CONTACT_ROLES.get(self.role, self.role)


class MessageThread(Model):
    """One 我要联系 conversation, started by a resident at a place."""

    __tablename__ = "message_threads"

    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"))
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    to_role: Mapped[str] = mapped_column(String(16))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("area_contacts.id"))
    # None: the grid's grid workers receive it (and see it through their scope).
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    contact_name: Mapped[str] = mapped_column(String(64), default="")
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime)
    message_count: Mapped[int] = mapped_column(Integer, default=1)
    # The number a web resident reads the thread by (with the last four digits of the phone they left).
    tracking_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    # The phone the resident chose to leave for a call back (encrypted; staff read it in clear, audited).
    callback_phone_encrypted: Mapped[str | None] = mapped_column(String(255))
    callback_phone_last4: Mapped[str | None] = mapped_column(String(4))
    # The resident wrote last and nobody has answered yet: the console's 待回复 tab.
    awaiting_reply: Mapped[bool] = mapped_column(default=True, server_default=false())

    place = relationship("Place", lazy="joined", innerjoin=True)
    resident = relationship("User", foreign_keys=[resident_id], lazy="raise_on_sql")
    messages: Mapped[list[Message]] = relationship(
        back_populates="thread", lazy="raise_on_sql", order_by="Message.id")

    @property
    def to_role_label(self) -> str:
        return CONTACT_ROLES.get(self.to_role, self.to_role)


class Message(Model):
    __tablename__ = "messages"

    thread_id: Mapped[int] = mapped_column(ForeignKey("message_threads.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    from_resident: Mapped[bool] = mapped_column(default=True)
    body: Mapped[str] = mapped_column(Text)

    thread: Mapped[MessageThread] = relationship(back_populates="messages", lazy="raise_on_sql")
    author = relationship("User", lazy="raise_on_sql")

    __table_args__ = (Index("ix_messages_thread_id_id", "thread_id", "id"),)
