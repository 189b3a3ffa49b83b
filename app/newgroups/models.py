"""Registrations of new-group workers, the community's service posts, claims of posts, and the reports made on a post."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import AreaPath, Model, UTCDateTime

COURIER, RIDER, DRIVER, OTHER = "courier", "rider", "driver", "other"
KIND_LABELS = {COURIER: "快递员", RIDER: "外卖骑手", DRIVER: "网约车司机", OTHER: "其他新就业形态"}

PENDING, APPROVED, REJECTED, WITHDRAWN, LEFT = "pending", "approved", "rejected", "withdrawn", "left"
REGISTRATION_LABELS = {PENDING: "待审核", APPROVED: "已报到", REJECTED: "未通过"}
CLAIM_LABELS = {PENDING: "待审核", APPROVED: "在岗", REJECTED: "未通过", WITHDRAWN: "已撤回", LEFT: "已离岗"}

# The posts 沁源 (seed 000) lists for the new groups.
POLICY, COLLECTOR, ROVING, CIVILITY, VOLUNTEER = "policy", "collector", "roving", "civility", "volunteer"
POST_KINDS = {POLICY: "政策宣传员", COLLECTOR: "民情收集员", ROVING: "流动网格员", CIVILITY: "文明示范员",
              VOLUNTEER: "志愿服务员"}
# Holders of these posts may report at any place of the community, not only where a code hangs.
REPORTING_POSTS = (COLLECTOR, ROVING)
OPEN, CLOSED = "open", "closed"
POST_LABELS = {OPEN: "招募中", CLOSED: "已停止"}


class GroupWorker(Model):
    """A courier, rider or driver's registration (报到) with a community."""
    __tablename__ = "group_workers"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    platform: Mapped[str] = mapped_column(String(60))  # 平台或企业: 美团、饿了么、顺丰、滴滴……
    work_area: Mapped[str] = mapped_column(String(100))  # 日常跑单、配送的片区
    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    reject_reason: Mapped[str] = mapped_column(Text, default="")
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        return REGISTRATION_LABELS.get(self.status, self.status)


class ServicePost(Model):
    """A service post (岗位) a community publishes, with its duties and a number of places."""
    __tablename__ = "service_posts"

    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(30))
    duties: Mapped[str] = mapped_column(Text, default="")
    places: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def kind_label(self) -> str:
        return POST_KINDS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        return POST_LABELS.get(self.status, self.status)


class PostClaim(Model):
    """A registered worker's claim of a post; the community approves it within the post's places."""
    __tablename__ = "post_claims"

    post_id: Mapped[int] = mapped_column(ForeignKey("service_posts.id"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("group_workers.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    area_path: Mapped[str] = mapped_column(AreaPath)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    reason: Mapped[str] = mapped_column(Text, default="")
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return CLAIM_LABELS.get(self.status, self.status)


class PostReport(Model):
    """A case reported by a post holder on duty (民情收集员、流动网格员): whose it is, and its ledger entry."""
    __tablename__ = "post_reports"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("post_claims.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    post_kind: Mapped[str] = mapped_column(String(16))
    area_path: Mapped[str] = mapped_column(AreaPath, index=True)
    # Whether the reporter stood at a scanned code or named the place from the list (流动上报).
    by_code: Mapped[bool] = mapped_column(default=False)
