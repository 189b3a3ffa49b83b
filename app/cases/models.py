"""Reports (事件) from residents, their categories with time limits, canned replies and the holiday calendar."""
from __future__ import annotations

import datetime as dt
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import AreaPath, Model, UTCDateTime

MODERATION_PASS, MODERATION_REVIEW, MODERATION_RISKY = "pass", "review", "risky"


class Category(Model):
    """A kind of report, with its time limits in hours (of working days when `working_days`)."""

    __tablename__ = "case_categories"

    name: Mapped[str] = mapped_column(String(32), unique=True)
    accept_hours: Mapped[int] = mapped_column(Integer, default=24)
    handle_hours: Mapped[int] = mapped_column(Integer, default=72)
    working_days: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    canned_replies: Mapped[list[CannedReply]] = relationship(
        back_populates="category", lazy="raise_on_sql", order_by="CannedReply.id", cascade="all, delete-orphan")


class CannedReply(Model):
    """A response template staff pick for common answers (e.g. when rejecting or handling)."""

    __tablename__ = "case_canned_replies"

    category_id: Mapped[int] = mapped_column(ForeignKey("case_categories.id"), index=True)
    title: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(String(500))
    # The area the reply belongs to: offered on cases in its subtree, managed by admins over it.
    # None and "/" are county-wide replies, kept by system admins.
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    area_path: Mapped[str] = mapped_column(AreaPath, default="/", index=True)

    category: Mapped[Category] = relationship(back_populates="canned_replies", lazy="raise_on_sql")


class Holiday(Model):
    """A day that differs from the Monday–Friday week: a public holiday, or a weekend workday (调休)."""

    __tablename__ = "holidays"

    date: Mapped[dt.date] = mapped_column(Date, unique=True)
    is_workday: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str] = mapped_column(String(32), default="")


class Case(Model):
    __tablename__ = "cases"

    tracking_no: Mapped[str] = mapped_column(String(32), unique=True)
    # None for a report located by a point alone (no coded place near it).
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id"))
    # The grid's path: scoping is one indexed prefix match. On PostgreSQL the "C" collation lets
    # `LIKE '/1/2/%'` use the (area_path, status, id) index as a range whatever the database locale.
    # active_history: a change always knows the old value, so the statistics rollups re-count its old day.
    area_path: Mapped[str] = mapped_column(AreaPath, active_history=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("case_categories.id"))
    description: Mapped[str] = mapped_column(String(500))
    photos: Mapped[list] = mapped_column(JSON, default=list)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the responsible people get their one reminder; cleared once it is sent.
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, active_history=True)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    moderation: Mapped[str] = mapped_column(String(8), default=MODERATION_PASS)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str] = mapped_column(String(200), default="")
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the retention job cut the link to the reporter (PIPL art. 19).
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Where the reporter stood, as wx.getLocation gives it: GCJ-02 (app/geo/datum.py converts at the edges),
    # the accuracy in metres and the address text of the map picker. None when reported by code only.
    location_lat: Mapped[float | None] = mapped_column(Float)
    location_lng: Mapped[float | None] = mapped_column(Float)
    location_accuracy: Mapped[float | None] = mapped_column(Float)
    location_address: Mapped[str] = mapped_column(String(200), default="")

    category: Mapped[Category] = relationship(lazy="raise_on_sql")
    place = relationship("Place", lazy="raise_on_sql")
    department = relationship("Department", lazy="raise_on_sql")
    assignee = relationship("User", foreign_keys=[assignee_id], lazy="raise_on_sql")
    reporter = relationship("User", foreign_keys=[reporter_id], lazy="raise_on_sql")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_cases_area_status_id", "area_path", "status", "id"),
        Index("ix_cases_assignee_status_id", "assignee_id", "status", "id"),
        Index("ix_cases_department_status_id", "department_id", "status", "id"),
        Index("ix_cases_reporter_id_id", "reporter_id", "id"),
        Index("ix_cases_status_due_at", "status", "due_at"),
        Index("ix_cases_place_category_id", "place_id", "category_id", "id"),
        # Statistics filter an area's subtree by report date.
        Index("ix_cases_area_created", "area_path", "created_at"),
        # The daily rollups recompute a community's day by report date and by closing date.
        Index("ix_cases_area_closed", "area_path", "closed_at"),
        # "Similar nearby": one category's recent cases, then a box around the point.
        Index("ix_cases_category_created", "category_id", "created_at"),
    )

    @property
    def where(self) -> str:
        """Where the case is, in words: its place, else the address of its location."""
        if self.place_id is not None and self.place is not None:
            return self.place.name
        return self.location_address or "定位上报"


class CaseFollower(Model):
    """A resident who follows someone else's case instead of filing a duplicate."""

    __tablename__ = "case_followers"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)

    __table_args__ = (UniqueConstraint("case_id", "user_id"),)


class TrackingAttempt(Model):
    """A wrong guess at the portal's tracking form (number plus phone digits), counted per number.

    Kept in the database, not Redis, so the limit holds when Redis is down (Redis is never a gate)."""

    __tablename__ = "case_tracking_attempts"

    tracking_no: Mapped[str] = mapped_column(String(32))

    __table_args__ = (Index("ix_case_tracking_attempts_tracking_no_created_at", "tracking_no", "created_at"),)
