"""daily and monthly rollups of the statistics (cases, wishes, approved service hours), their dirty days, and the
indexes that recompute one community's day

After upgrading, run `flask --app wsgi rebuild-rollups` once; the periodic job keeps them from then on.

Revision ID: b1000000027a
Revises: a1b2c3d4e503
Create Date: 2026-12-01 20:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1000000027a'
down_revision = 'b1000000022a'
branch_labels = None
depends_on = None


def _area_path():
    return sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql')


def upgrade():
    op.create_table('case_rollups',
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('dimension', sa.String(length=8), nullable=False),
    sa.Column('area_path', _area_path(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('value', sa.String(length=16), nullable=False),
    sa.Column('cases_in', sa.Integer(), nullable=False),
    sa.Column('overdue_in', sa.Integer(), nullable=False),
    sa.Column('reopened_in', sa.Integer(), nullable=False),
    sa.Column('closed_in', sa.Integer(), nullable=False),
    sa.Column('rated_in', sa.Integer(), nullable=False),
    sa.Column('rating_sum', sa.Integer(), nullable=False),
    sa.Column('satisfied_in', sa.Integer(), nullable=False),
    sa.Column('accepted_in', sa.Integer(), nullable=False),
    sa.Column('accept_hours_sum', sa.Float(), nullable=False),
    sa.Column('close_hours_sum', sa.Float(), nullable=False),
    sa.Column('cases_out', sa.Integer(), nullable=False),
    sa.Column('out_on_time', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('grain', 'dimension', 'area_path', 'day', 'value', name=op.f('pk_case_rollups'))
    )
    op.create_table('area_rollups',
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('area_path', _area_path(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('cases_in', sa.Integer(), nullable=False),
    sa.Column('wishes_posted', sa.Integer(), nullable=False),
    sa.Column('wishes_claimed', sa.Integer(), nullable=False),
    sa.Column('claim_hours_sum', sa.Float(), nullable=False),
    sa.Column('wishes_fulfilled', sa.Integer(), nullable=False),
    sa.Column('service_hours', sa.Float(), nullable=False),
    sa.Column('service_entries', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('grain', 'area_path', 'day', name=op.f('pk_area_rollups'))
    )
    with op.batch_alter_table('case_rollups', schema=None) as batch_op:
        batch_op.create_index('ix_case_rollups_period', ['grain', 'dimension', 'day', 'area_path'], unique=False)
    with op.batch_alter_table('area_rollups', schema=None) as batch_op:
        batch_op.create_index('ix_area_rollups_period', ['grain', 'day', 'area_path'], unique=False)
    op.create_table('rollup_dirty',
    sa.Column('area_path', _area_path(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('area_path', 'day', name=op.f('pk_rollup_dirty'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_area_closed', ['area_path', 'closed_at'], unique=False)
    with op.batch_alter_table('wishes', schema=None) as batch_op:
        batch_op.create_index('ix_wishes_area_claimed', ['area_path', 'claimed_at'], unique=False)
        batch_op.create_index('ix_wishes_area_fulfilled', ['area_path', 'fulfilled_at'], unique=False)
    with op.batch_alter_table('service_hours', schema=None) as batch_op:
        batch_op.create_index('ix_service_hours_area_served_on', ['area_path', 'served_on'], unique=False)


def downgrade():
    with op.batch_alter_table('service_hours', schema=None) as batch_op:
        batch_op.drop_index('ix_service_hours_area_served_on')
    with op.batch_alter_table('wishes', schema=None) as batch_op:
        batch_op.drop_index('ix_wishes_area_fulfilled')
        batch_op.drop_index('ix_wishes_area_claimed')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_area_closed')
    op.drop_table('rollup_dirty')
    op.drop_table('area_rollups')
    op.drop_table('case_rollups')
