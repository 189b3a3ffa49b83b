"""Users (residents by openid, staff by username), role grants and revocable login sessions."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import AreaPath, Model, UTCDateTime

# The role names are defined with the rules that read them (app/core/scoping.py).
from app.core.scoping import (  # noqa: F401 - re-exported with the model that stores them
    ADMIN_ROLES,
    COMMUNITY_ADMIN,
    DEPARTMENT,
    GRID_WORKER,
    PARTY_MEMBER,
    REPRESENTATIVE,
    ROLES,
    STAFF_ROLES,
    STREET_ADMIN,
    SYSTEM_ADMIN,
)

ROLE_LABELS = {
    SYSTEM_ADMIN: "系统管理员",
    STREET_ADMIN: "街道管理员",
    COMMUNITY_ADMIN: "社区管理员",
    GRID_WORKER: "网格员",
    DEPARTMENT: "职能部门",
    REPRESENTATIVE: "代表委员",
    PARTY_MEMBER: "在职党员",
    "resident": "居民",
    # Posts of the new groups (app/newgroups), named on the timeline of a report made on duty.
    "collector": "民情收集员",
    "roving": "流动网格员",
}


class User(Model):
    __tablename__ = "users"

    openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    unionid: Mapped[str | None] = mapped_column(String(64), index=True)
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(64), default="")
    # 姓名 as the person gives it (2–20 Chinese characters or ·); staff who need it see it, the public masked.
    real_name: Mapped[str] = mapped_column(String(20), default="")
    # 居民身份证号, asked only when a proof of service is requested; encrypted, shown masked (first 3, last 4).
    id_number_encrypted: Mapped[str | None] = mapped_column(String(255))
    phone_encrypted: Mapped[str | None] = mapped_column(String(255))
    phone_last4: Mapped[str | None] = mapped_column(String(4))
    # A keyed hash, so a resident of the web portal can be found by phone without decrypting every row.
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # 注销: the account is closed and its personal data erased; the row stays as the pseudonym that
    # governance records (timelines, the ledger, proofs already issued) still point to (app/privacy/rights.py).
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", lazy="selectin", cascade="all, delete-orphan"
    )

    @property
    def label(self) -> str:
        return self.display_name or self.username or f"居民{self.id}"

    @property
    def person_name(self) -> str:
        """The real name when given: what a proof, a roster or a reviewer needs."""
        return self.real_name or self.label


class VolunteerProfile(Model):
    """What a volunteer offers: skills, when they are free, the communities they serve in."""

    __tablename__ = "volunteer_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    skills: Mapped[list] = mapped_column(JSON, default=list)
    availability: Mapped[str] = mapped_column(String(200), default="")
    community_ids: Mapped[list] = mapped_column(JSON, default=list)


class RoleGrant(Model):
    """A role over one node of the area tree; it covers that node's whole subtree."""

    __tablename__ = "role_grants"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    area_path: Mapped[str] = mapped_column(AreaPath, default="/")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))

    user: Mapped[User] = relationship(back_populates="grants")

    __table_args__ = (
        UniqueConstraint("user_id", "role", "area_id", "department_id"),
        # "who holds this role over this area": notifications to supervisors, contacts of a grid
        Index("ix_role_grants_role_area_path", "role", "area_path"),
        Index("ix_role_grants_role_area_id", "role", "area_id"),
    )


class AuthSession(Model):
    """One issued token. Logging out revokes it; the token alone is not enough."""

    __tablename__ = "auth_sessions"

    token_id: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    client: Mapped[str] = mapped_column(String(16), default="mp")
    # The console's sessions end after CONSOLE_IDLE_SECONDS without a request (updated at most once a minute).
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class LoginThrottle(Model):
    """Failed sign-ins for one username from one client address (keyed by a hash of both).

    Kept for any username, existing or not, so that the answers cannot tell them apart; keyed by the
    client too, so that nobody can keep another person out by failing on purpose from elsewhere."""

    __tablename__ = "login_throttles"

    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
