"""Micro-wishes (微心愿): a resident's small wish, reviewed by the community and fulfilled by a party member."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import AreaPath, Model, UTCDateTime

SUBMITTED, APPROVED, CLAIMED, FULFILLED, CONFIRMED = "submitted", "approved", "claimed", "fulfilled", "confirmed"
REJECTED, CANCELLED, EXPIRED = "rejected", "cancelled", "expired"
# 派单 waits for the member's 接单; a resident's objection to a fulfilment waits for the community.
OFFERED, DISPUTED = "offered", "disputed"
STATUS_LABELS = {
    SUBMITTED: "待审核", APPROVED: "待认领", OFFERED: "待接单", CLAIMED: "已认领", FULFILLED: "已完成",
    DISPUTED: "有异议", CONFIRMED: "已确认", REJECTED: "未通过", CANCELLED: "已撤销", EXPIRED: "已过期",
}
# Groups callers ask for instead of lists of states.
OPEN = (SUBMITTED, APPROVED, OFFERED, CLAIMED, FULFILLED, DISPUTED)
DONE = (FULFILLED, CONFIRMED)
PUBLIC = (APPROVED, OFFERED, CLAIMED, FULFILLED, DISPUTED, CONFIRMED)
GOODS = "goods"

PLEDGED, HANDED_OVER, WITHDRAWN = "pledged", "handed_over", "withdrawn"
PLEDGE_LABELS = {PLEDGED: "已认捐", HANDED_OVER: "已交接", WITHDRAWN: "已撤回"}

# key: (label, words that, found in a member's skill tag, mean the member suits the wish)
CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "daily": ("生活帮扶", ("生活", "家政", "跑腿", "代购", "买菜", "做饭", "保洁")),
    "repair": ("维修帮忙", ("维修", "水电", "电工", "家电", "木工", "管道", "修理")),
    "study": ("学业辅导", ("辅导", "教育", "教师", "作业", "数学", "英语", "语文", "书法")),
    "health": ("医疗健康", ("医疗", "医生", "护理", "护士", "健康", "康复", "义诊")),
    "companion": ("陪伴关爱", ("陪伴", "聊天", "助老", "关爱", "心理", "探访")),
    "legal": ("法律咨询", ("法律", "律师", "维权", "调解", "咨询")),
    "digital": ("智能设备", ("手机", "电脑", "网络", "智能", "软件")),
    "goods": ("物品心愿", ("物资", "捐赠", "采购", "书包", "文具")),
}


class Wish(Model):
    __tablename__ = "wishes"

    title: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(16))
    desired_date: Mapped[date] = mapped_column(Date)
    photos: Mapped[list] = mapped_column(JSON, default=list)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    contact_name: Mapped[str] = mapped_column(String(32), default="")
    # Encrypted at rest; decrypted only for the claimer, the requester and the community's admins.
    address_encrypted: Mapped[str | None] = mapped_column(String(512))
    phone_encrypted: Mapped[str | None] = mapped_column(String(255))
    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    area_path: Mapped[str] = mapped_column(AreaPath, active_history=True)  # (old days: statistics rollups)
    # What the pool shows: the admin may edit it, e.g. to remove a phone number from the text.
    public_title: Mapped[str] = mapped_column(String(30))
    public_detail: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=SUBMITTED)
    reject_reason: Mapped[str] = mapped_column(Text, default="")
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, active_history=True)
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, active_history=True)
    fulfil_note: Mapped[str] = mapped_column(Text, default="")
    fulfil_photos: Mapped[list] = mapped_column(JSON, default=list)
    hours: Mapped[float | None] = mapped_column(Numeric(5, 1, asdecimal=False))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    auto_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str] = mapped_column(String(200), default="")
    # 派单: the member it is offered to, until they accept, decline or the offer lapses.
    offered_to: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A claim with no progress is reminded once, then returned to the pool.
    stall_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispute_reason: Mapped[str] = mapped_column(Text, default="")
    # 物品心愿: how many items the wish asks for; donors pledge parts of it.
    quantity: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_wishes_area_status", "area_path", "status"),
        Index("ix_wishes_area_created", "area_path", "created_at"),
        Index("ix_wishes_area_claimed", "area_path", "claimed_at"),  # the daily rollups
        Index("ix_wishes_area_fulfilled", "area_path", "fulfilled_at"),
        Index("ix_wishes_status_fulfilled_at", "status", "fulfilled_at"),
    )

    @property
    def status_label(self) -> str:
        if self.is_goods and self.status == APPROVED:
            return "待认捐"  # a goods wish waits for donors, not for a member's claim
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def is_goods(self) -> bool:
        return self.category == GOODS

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, (self.category,))[0]


class WishPledge(Model):
    """A donor's pledge of items to a goods wish; the community confirms the hand-over."""
    __tablename__ = "wish_pledges"

    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id"), index=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    donor_name: Mapped[str] = mapped_column(String(32), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default=PLEDGED)
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def status_label(self) -> str:
        return PLEDGE_LABELS.get(self.status, self.status)
