"""personal data through its life: consents to the notice, residents' requests, cancelled accounts, when an upload was claimed by a record; the WeChat session key is no longer stored

Revision ID: b1000000021a
Revises: a1b2c3d4e503
Create Date: 2026-12-01 19:36:47.172676

"""
from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401 - custom column types used below


# revision identifiers, used by Alembic.
revision = 'b1000000021a'
down_revision = 'b1000000018a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('privacy_consents',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('notice_version', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_privacy_consents_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_consents'))
    )
    with op.batch_alter_table('privacy_consents', schema=None) as batch_op:
        batch_op.create_index('ix_privacy_consents_user_id_id', ['user_id', 'id'], unique=False)

    op.create_table('privacy_requests',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('area_path', sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('due_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('handled_by', sa.Integer(), nullable=True),
    sa.Column('handled_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['handled_by'], ['users.id'], name=op.f('fk_privacy_requests_handled_by_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_privacy_requests_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_requests'))
    )
    with op.batch_alter_table('privacy_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_privacy_requests_area_path'), ['area_path'], unique=False)
        batch_op.create_index(batch_op.f('ix_privacy_requests_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', app.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_column('wechat_session_key_encrypted')

    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', app.core.db.UTCDateTime(timezone=True), nullable=True))
    # Photos uploaded before this release may belong to records: count them as claimed, never delete them.
    op.execute("UPDATE uploads SET claimed_at = created_at")



def downgrade():
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wechat_session_key_encrypted', sa.VARCHAR(length=255), nullable=True))
        batch_op.drop_column('cancelled_at')

    with op.batch_alter_table('privacy_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_privacy_requests_user_id'))
        batch_op.drop_index(batch_op.f('ix_privacy_requests_area_path'))

    op.drop_table('privacy_requests')
    with op.batch_alter_table('privacy_consents', schema=None) as batch_op:
        batch_op.drop_index('ix_privacy_consents_user_id_id')

    op.drop_table('privacy_consents')
