"""One request edge: idempotency bound to its request, console sessions with an idle timeout,
sign-in throttles instead of account lockout.

Revision ID: a1b2c3d4e500
Revises: 3d9799296da0
Create Date: 2026-12-01 19:30:00
"""
from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401 - custom column types used below

revision = "a1b2c3d4e500"
down_revision = "3d9799296da0"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_throttles",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_try_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_throttles")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_login_throttles_key_hash")),
    )
    # Stored answers were plain text and bound to no request; they live 24 h at most: forget them.
    op.execute("DELETE FROM idempotency_records")
    with op.batch_alter_table("idempotency_records") as batch:
        batch.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=False))
    with op.batch_alter_table("auth_sessions") as batch:
        batch.add_column(sa.Column("last_seen_at", app.core.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.drop_column("failed_logins")
        batch.drop_column("locked_until")


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("locked_until", app.core.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("auth_sessions") as batch:
        batch.drop_column("last_seen_at")
    with op.batch_alter_table("idempotency_records") as batch:
        batch.drop_column("fingerprint")
    op.drop_table("login_throttles")
