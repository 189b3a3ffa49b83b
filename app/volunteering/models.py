"""Activities and enrollments, the service-hours ledger, and the certificates issued from it."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
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

HOURS = Numeric(8, 2)


class Activity(Model):
    """A volunteer activity published by a community or a party organisation within it."""

    __tablename__ = "activities"

    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place_text: Mapped[str] = mapped_column(String(200), default="")
    capacity: Mapped[int] = mapped_column(Integer)
    enroll_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    organiser_name: Mapped[str] = mapped_column(String(100))
    # Printed on the activity's QR code; only organisers see it, so check-in needs the code on site.
    scene: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="published")
    # Kept under the activity's row lock: places taken (enrolled or later marked absent) and waiting.
    enrolled_count: Mapped[int] = mapped_column(Integer, default=0)
    waitlist_count: Mapped[int] = mapped_column(Integer, default=0)
    next_position: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The printed code (the scene above) checks people in only when the organiser enables it; otherwise
    # only the code that changes every minute does (app.volunteering.checkin_codes).
    fallback_code_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Optional place of the activity in GCJ-02 (as wx.getLocation gives it) and a radius in metres:
    # a check-in from farther away waits for the organiser's confirmation.
    place_lat: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    place_lng: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    place_radius_m: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_activities_starts_at", "starts_at"),)


class Enrollment(Model):
    """One person's place in an activity: enrolled | waitlisted | cancelled | absent."""

    __tablename__ = "enrollments"

    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    # Order of arrival; the waitlist moves up in this order.
    position: Mapped[int] = mapped_column(Integer)
    check_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    check_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hours: Mapped[Decimal | None] = mapped_column(HOURS)
    corrected_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    correction_reason: Mapped[str] = mapped_column(Text, default="")
    # How the check-in was made: code (the rotating code) | fallback (the printed code) | manual (organiser).
    check_in_method: Mapped[str] = mapped_column(String(16), default="")
    # Only the distance from the activity's place is kept, never the phone's coordinates.
    check_in_distance_m: Mapped[int | None] = mapped_column(Integer)
    # "" (nothing to confirm) | pending (away from the place or no location) | confirmed by the organiser.
    presence: Mapped[str] = mapped_column(String(16), default="")

    activity: Mapped[Activity] = relationship(lazy="joined", innerjoin=True)
    user = relationship("User", foreign_keys=[user_id], lazy="joined", innerjoin=True)

    __table_args__ = (
        UniqueConstraint("activity_id", "user_id"),
        Index("ix_enrollments_activity_status_position", "activity_id", "status", "position"),
    )


class ServiceHours(Model):
    """One ledger entry: hours one person served for one source. 谁组织谁记录、谁记录谁证明."""

    __tablename__ = "service_hours"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    source_type: Mapped[str] = mapped_column(String(16))  # activity | wish
    source_id: Mapped[int] = mapped_column(Integer)
    hours: Mapped[Decimal] = mapped_column(HOURS)
    # active_history: a change always knows the old value, so the statistics rollups re-count its old day.
    area_path: Mapped[str] = mapped_column(AreaPath, index=True, active_history=True)
    organiser_area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    organiser_name: Mapped[str] = mapped_column(String(100), default="")
    # 服务内容, 服务地点 and the time served, as 《志愿服务记录与证明出具办法》 names them.
    description: Mapped[str] = mapped_column(String(200), default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    served_on: Mapped[date] = mapped_column(Date, active_history=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The staff member of the recording organisation who recorded the entry, and when.
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    evaluation: Mapped[str] = mapped_column(Text, default="")
    # Why it was rejected (or corrected); shown to the volunteer.
    decision_note: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    user = relationship("User", foreign_keys=[user_id], lazy="joined", innerjoin=True)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("user_id", "source_type", "source_id"),
        Index("ix_service_hours_user_status", "user_id", "status"),
        Index("ix_service_hours_status_path", "status", "area_path"),
        Index("ix_service_hours_area_served_on", "area_path", "served_on"),  # the daily rollups
    )


class LedgerCorrection(Model):
    """A correction of an approved entry (old and new values kept), or a volunteer's request for one (申请更正)."""

    __tablename__ = "ledger_corrections"

    service_hours_id: Mapped[int] = mapped_column(ForeignKey("service_hours.id"), index=True)
    # Set when the volunteer asked; empty when the organisation corrected on its own.
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    request_reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))  # requested | corrected | declined
    old_values: Mapped[dict] = mapped_column(JSON, default=dict)
    new_values: Mapped[dict] = mapped_column(JSON, default=dict)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    service_hours: Mapped[ServiceHours] = relationship(lazy="joined", innerjoin=True)


class Certificate(Model):
    """A proof of volunteer service (志愿服务证明) that anyone can verify by its code."""

    __tablename__ = "certificates"

    code: Mapped[str] = mapped_column(String(16), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    holder_name: Mapped[str] = mapped_column(String(64))
    # Only the masked form is kept on the proof: first 3 and last 4 characters.
    holder_id_masked: Mapped[str] = mapped_column(String(32), default="")
    # 谁记录谁证明: the one recording organisation that issues it, and its staff member who did.
    issuer_area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    total_hours: Mapped[Decimal] = mapped_column(HOURS)
    issuer: Mapped[str] = mapped_column(String(255))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str] = mapped_column(String(255), default="")

    items: Mapped[list[CertificateItem]] = relationship(
        back_populates="certificate", lazy="selectin", cascade="all, delete-orphan",
        order_by="CertificateItem.id",
    )

    @property
    def service_hours_ids(self) -> list[int]:
        return [item.service_hours_id for item in self.items]


class CertificateItem(Model):
    """Which ledger entries a certificate covers, so a later rejection finds the certificate."""

    __tablename__ = "certificate_items"

    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"))
    service_hours_id: Mapped[int] = mapped_column(ForeignKey("service_hours.id"), index=True)

    certificate: Mapped[Certificate] = relationship(back_populates="items")
    service_hours: Mapped[ServiceHours] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (UniqueConstraint("certificate_id", "service_hours_id"),)


class CertificateRequest(Model):
    """A volunteer's request for a proof from one recording organisation; its staff issue it."""

    __tablename__ = "certificate_requests"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    date_from: Mapped[date | None] = mapped_column(Date)
    date_to: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="requested")  # requested | issued
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user = relationship("User", foreign_keys=[user_id], lazy="joined", innerjoin=True)
    certificate: Mapped[Certificate | None] = relationship(lazy="joined")


class ProofPolicy(Model):
    """What a recording organisation (a community) has said about its proofs: issue them at once, or by hand."""

    __tablename__ = "proof_policies"

    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), unique=True)
    auto_issue: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
