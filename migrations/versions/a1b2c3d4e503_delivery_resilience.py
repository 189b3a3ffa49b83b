"""delivery resilience: who took a notification, and when the periodic jobs last ran

Revision ID: a1b2c3d4e503
Revises: a1b2c3d4e504
Create Date: 2026-12-01 18:40:00

"""
from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401 - custom column types used below


# revision identifiers, used by Alembic.
revision = 'a1b2c3d4e503'
down_revision = 'a1b2c3d4e504'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('taken_by', sa.String(length=64), nullable=True))

    op.create_table('periodic_runs',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('ran_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_periodic_runs')),
    sa.UniqueConstraint('name', name=op.f('uq_periodic_runs_name'))
    )


def downgrade():
    op.drop_table('periodic_runs')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('taken_by')
