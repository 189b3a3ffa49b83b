"""canned replies belong to an area; wrong tracking attempts are counted per number

Revision ID: a1b2c3d4e501
Revises: a1b2c3d4e500
Create Date: 2026-12-01 18:40:00

"""
from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401 - custom column types used below


# revision identifiers, used by Alembic.
revision = 'a1b2c3d4e501'
down_revision = "a1b2c3d4e500"
branch_labels = None
depends_on = None

AREA_PATH = sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql')


def upgrade():
    # Replies made before areas owned them were kept by the system for the whole county: "/".
    with op.batch_alter_table('case_canned_replies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('area_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('area_path', AREA_PATH, nullable=False, server_default='/'))
        batch_op.create_foreign_key(batch_op.f('fk_case_canned_replies_area_id_areas'), 'areas', ['area_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_case_canned_replies_area_path'), ['area_path'], unique=False)
    with op.batch_alter_table('case_canned_replies', schema=None) as batch_op:
        batch_op.alter_column('area_path', server_default=None)

    op.create_table('case_tracking_attempts',
    sa.Column('tracking_no', sa.String(length=32), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_tracking_attempts'))
    )
    with op.batch_alter_table('case_tracking_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_case_tracking_attempts_tracking_no_created_at', ['tracking_no', 'created_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('case_tracking_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_case_tracking_attempts_tracking_no_created_at')
    op.drop_table('case_tracking_attempts')
    with op.batch_alter_table('case_canned_replies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_canned_replies_area_path'))
        batch_op.drop_constraint(batch_op.f('fk_case_canned_replies_area_id_areas'), type_='foreignkey')
        batch_op.drop_column('area_path')
        batch_op.drop_column('area_id')
