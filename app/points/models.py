"""积分制: schemes and items, households, the append-only points ledger and balances, applications, monthly evaluations, the points supermarket and the yearly cash-out."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import AreaPath, Model, UTCDateTime

# Scheme states: a draft is edited; a published version applies from its effective date on.
DRAFT, PUBLISHED = "draft", "published"
SCHEME_LABELS = {DRAFT: "草稿", PUBLISHED: "已发布"}

# How an item earns: on its own from a source event, by a resident's application, by the monthly evaluation.
AUTO, APPLIED, EVALUATED = "auto", "applied", "evaluated"
ITEM_KINDS = {AUTO: "自动计分", APPLIED: "申请审核", EVALUATED: "月度评议"}
# The source events an automatic item may name; `per_unit` items multiply by the event's quantity (hours).
SOURCES = {
    "service_hours": "志愿服务时长（每小时）",
    "wish": "完成微心愿",
    "case": "上报问题经核查属实",
    "praise": "收到点赞",
}
PER_UNIT_SOURCES = ("service_hours",)
APPROVER_ROLES = {"community_admin": "社区管理员", "grid_worker": "网格员"}

# Kinds of ledger entry. Earnings count in rankings; spending and refunds move the balance only.
EARN, REVERSE, SPEND, REFUND = "earn", "reverse", "spend", "refund"
ENTRY_LABELS = {EARN: "获得", REVERSE: "冲正", SPEND: "兑换", REFUND: "退还"}
RANKED_KINDS = (EARN, REVERSE)

# Applications.
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
APPLICATION_LABELS = {PENDING: "待审核", APPROVED: "已通过", REJECTED: "未通过"}

# Monthly evaluations (月度评议): scored, published for notice (公示), final.
EVAL_DRAFT, NOTICE, FINAL = "draft", "notice", "final"
EVALUATION_LABELS = {EVAL_DRAFT: "评议中", NOTICE: "公示中", FINAL: "已确认"}
OPEN, UPHELD, DISMISSED = "open", "upheld", "dismissed"
OBJECTION_LABELS = {OPEN: "待答复", UPHELD: "已采纳", DISMISSED: "未采纳"}

# Redemptions.
RESERVED, PICKED_UP, EXPIRED = "reserved", "picked_up", "expired"
REDEMPTION_LABELS = {RESERVED: "待领取", PICKED_UP: "已领取", EXPIRED: "已过期"}


class PointScheme(Model):
    """One version of a community's 积分方案, agreed at its representatives' meeting."""

    __tablename__ = "point_schemes"

    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    # The first day (Asia/Shanghai) from which it applies: the first of the month after publication,
    # so a change never rewrites the month under way.
    effective_from: Mapped[date | None] = mapped_column(Date)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The monthly evaluation's indicators [{code, name, weight}] (weights add up to 100) and its tiers
    # [{name, min}] from the highest down; empty when the community does not evaluate monthly.
    indicators: Mapped[list] = mapped_column(JSON, default=list)
    tiers: Mapped[list] = mapped_column(JSON, default=list)
    # 年兑现: the share of the collective's yearly income paid out by points ("4321": 20 %).
    dividend_percent: Mapped[int] = mapped_column(Integer, default=20)

    items: Mapped[list[PointItem]] = relationship(back_populates="scheme", lazy="selectin",
                                                  order_by="PointItem.code", cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("community_id", "version"),)


class PointItem(Model):
    """积分项目: what earns how many points, how, capped how much a month, approved by whom."""

    __tablename__ = "point_items"

    scheme_id: Mapped[int] = mapped_column(ForeignKey("point_schemes.id"))
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    points: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(32))
    # The most one person may earn from this item in a month; None for no cap.
    monthly_cap: Mapped[int | None] = mapped_column(Integer)
    approver_role: Mapped[str] = mapped_column(String(32), default="community_admin")

    scheme: Mapped[PointScheme] = relationship(back_populates="items")

    __table_args__ = (UniqueConstraint("scheme_id", "code"),)


class Household(Model):
    """户: a home at one place (楼栋/单元) with a head; its points are its members' points (一户一账)."""

    __tablename__ = "households"

    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    room: Mapped[str] = mapped_column(String(32))
    head_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Given by the head to the people of the home, who join with it.
    join_code: Mapped[str] = mapped_column(String(8), unique=True)

    __table_args__ = (UniqueConstraint("place_id", "room"),)


class HouseholdMember(Model):
    """A person belongs to at most one household."""

    __tablename__ = "household_members"

    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)


class PointAccount(Model):
    """One person's balance, kept beside the ledger under a conditional update so that it never goes
    below zero, whatever runs at the same time. It always equals the sum of the person's entries."""

    __tablename__ = "point_accounts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    balance: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)


class PointEntry(Model):
    """One line of the append-only ledger: never edited; a correction is a reversing line.

    The lines of one source event for one person are numbered (`revision`) and unique, so that two
    requests paying the same event at the same moment cannot both write line 0: it pays once."""

    __tablename__ = "point_entries"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    area_path: Mapped[str] = mapped_column(AreaPath)
    points: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    source_type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    # The rule it was earned under: the scheme version and the item's code, as they were.
    scheme_id: Mapped[int | None] = mapped_column(ForeignKey("point_schemes.id"))
    item_code: Mapped[str] = mapped_column(String(16), default="")
    item_name: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(String(200), default="")
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The Asia/Shanghai month it counts in, "2026-11".
    period: Mapped[str] = mapped_column(String(7))

    __table_args__ = (
        UniqueConstraint("user_id", "source_type", "source_id", "revision"),
        Index("ix_point_entries_user_id_id", "user_id", "id"),
        Index("ix_point_entries_period_path", "period", "area_path"),
    )


class PointApplication(Model):
    """A resident applies for an item with evidence; the item's approver decides."""

    __tablename__ = "point_applications"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("point_items.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    note: Mapped[str] = mapped_column(Text)
    photos: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")

    item: Mapped[PointItem] = relationship(lazy="joined", innerjoin=True)


class ShopItem(Model):
    """积分超市: a good or service with a price in points and a stock."""

    __tablename__ = "shop_items"

    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(200), default="")
    price: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (CheckConstraint("stock >= 0", name="stock_not_negative"),
                      CheckConstraint("price > 0", name="price_positive"))


class Redemption(Model):
    """A redemption reserves the points and one of the stock, and gives a pick-up code."""

    __tablename__ = "redemptions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    shop_item_id: Mapped[int] = mapped_column(ForeignKey("shop_items.id"), index=True)
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    price: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=RESERVED)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    shop_item: Mapped[ShopItem] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (Index("ix_redemptions_status_expires_at", "status", "expires_at"),)


class Evaluation(Model):
    """The evaluation group's scores of a community's households for one month. Whoever scores (maker)
    cannot publish or finalise it (checker); it is shown for a notice period in which residents may object."""

    __tablename__ = "point_evaluations"

    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("point_schemes.id"))
    period: Mapped[str] = mapped_column(String(7))
    status: Mapped[str] = mapped_column(String(16), default=EVAL_DRAFT)
    made_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    checked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    notice_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    scores: Mapped[list[EvaluationScore]] = relationship(back_populates="evaluation", lazy="selectin",
                                                         order_by="EvaluationScore.total.desc()",
                                                         cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("community_id", "period"),)


class EvaluationScore(Model):
    """One household's scores on the indicators, its total on the 100-point scale and its tier."""

    __tablename__ = "point_evaluation_scores"

    evaluation_id: Mapped[int] = mapped_column(ForeignKey("point_evaluations.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    scores: Mapped[dict] = mapped_column(JSON, default=dict)
    total: Mapped[int] = mapped_column(Integer)
    tier: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(200), default="")

    evaluation: Mapped[Evaluation] = relationship(back_populates="scores")

    __table_args__ = (UniqueConstraint("evaluation_id", "household_id"),)


class Objection(Model):
    """A household member's objection during the notice period, answered by the community."""

    __tablename__ = "point_objections"

    evaluation_id: Mapped[int] = mapped_column(ForeignKey("point_evaluations.id"), index=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("point_evaluation_scores.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    answer: Mapped[str] = mapped_column(String(500), default="")
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    score: Mapped[EvaluationScore] = relationship(lazy="joined", innerjoin=True)


class Cashout(Model):
    """年兑现: a year's dividend pool shared among the community's households by their points that year.

    The inputs and the result are kept; the result is recomputed from the ledger whenever it is shown, so
    anyone can check that it still follows from the entries."""

    __tablename__ = "point_cashouts"

    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("point_schemes.id"))
    year: Mapped[int] = mapped_column(Integer)
    income: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    percent: Mapped[int] = mapped_column(Integer)
    pool: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    total_points: Mapped[int] = mapped_column(Integer)
    # [{household_id, points, share}] with share in yuan as a string ("1234.56").
    rows: Mapped[list] = mapped_column(JSON, default=list)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    notice_until: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("community_id", "year"),)
