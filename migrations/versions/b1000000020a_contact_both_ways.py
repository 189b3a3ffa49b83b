"""contact both ways: a thread keeps the phone the resident left and a number to read replies by on the web

Revision ID: b1000000020a
Revises: b1000000021a
Create Date: 2026-12-01 20:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1000000020a'
down_revision = 'b1000000023a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('message_threads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tracking_no', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('callback_phone_encrypted', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('callback_phone_last4', sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column('awaiting_reply', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_unique_constraint(batch_op.f('uq_message_threads_tracking_no'), ['tracking_no'])


def downgrade():
    with op.batch_alter_table('message_threads', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_message_threads_tracking_no'), type_='unique')
        batch_op.drop_column('awaiting_reply')
        batch_op.drop_column('callback_phone_last4')
        batch_op.drop_column('callback_phone_encrypted')
        batch_op.drop_column('tracking_no')
