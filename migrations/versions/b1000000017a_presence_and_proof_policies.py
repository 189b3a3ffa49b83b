"""presence at check-in (rotating code, printed fallback, place and radius) and proof policies

Revision ID: b1000000017a
Revises: a1b2c3d4e503
Create Date: 2026-12-01 20:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401 - custom column types used below


# revision identifiers, used by Alembic.
revision = 'b1000000017a'
down_revision = 'a1b2c3d4e503'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fallback_code_enabled', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('place_lat', sa.Numeric(precision=9, scale=6), nullable=True))
        batch_op.add_column(sa.Column('place_lng', sa.Numeric(precision=9, scale=6), nullable=True))
        batch_op.add_column(sa.Column('place_radius_m', sa.Integer(), nullable=True))

    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('check_in_method', sa.String(length=16), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('check_in_distance_m', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('presence', sa.String(length=16), nullable=False, server_default=''))

    op.create_table('proof_policies',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('auto_issue', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_proof_policies_area_id_areas')),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_proof_policies_updated_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proof_policies')),
    sa.UniqueConstraint('area_id', name=op.f('uq_proof_policies_area_id'))
    )


def downgrade():
    op.drop_table('proof_policies')
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_column('presence')
        batch_op.drop_column('check_in_distance_m')
        batch_op.drop_column('check_in_method')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_column('place_radius_m')
        batch_op.drop_column('place_lng')
        batch_op.drop_column('place_lat')
        batch_op.drop_column('fallback_code_enabled')
