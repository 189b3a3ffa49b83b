"""moderation: held content awaiting review, residents' abuse reports, and image checks

Revision ID: b1000000018a
Revises: a1b2c3d4e503
Create Date: 2026-12-01 19:40:00

"""
from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401 - custom column types used below


# revision identifiers, used by Alembic.
revision = 'b1000000018a'
down_revision = 'b1000000017a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('moderation_holds',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('area_path', sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql'),
              nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('suggest', sa.String(length=8), nullable=False),
    sa.Column('label', sa.Integer(), nullable=True),
    sa.Column('excerpt', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_moderation_holds_author_id_users')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_moderation_holds_decided_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_holds')),
    sa.UniqueConstraint('kind', 'subject_id', name=op.f('uq_moderation_holds_kind_subject_id')),
    )
    op.create_index('ix_moderation_holds_status_area', 'moderation_holds', ['status', 'area_path'], unique=False)
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        # Images uploaded before the checks existed stay as they were shown: passed.
        batch_op.add_column(sa.Column('check', sa.String(length=16), server_default='pass', nullable=False))
        batch_op.add_column(sa.Column('trace_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('area_path', sa.String(length=255).with_variant(
            sa.String(length=255, collation='C'), 'postgresql'), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_uploads_trace_id'), ['trace_id'])
    op.create_table('moderation_reports',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_moderation_reports_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_reports')),
    sa.UniqueConstraint('kind', 'subject_id', 'user_id', name=op.f('uq_moderation_reports_kind_subject_id_user_id')),
    )


def downgrade():
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_uploads_trace_id'), type_='unique')
        batch_op.drop_column('area_path')
        batch_op.drop_column('trace_id')
        batch_op.drop_column('check')
    op.drop_table('moderation_reports')
    op.drop_index('ix_moderation_holds_status_area', table_name='moderation_holds')
    op.drop_table('moderation_holds')
