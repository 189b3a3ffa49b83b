"""public updates kept apart from internal notes: staff choose per timeline note whether the resident reads it

Revision ID: b1000000028a
Revises: b1000000024a
Create Date: 2026-12-08 10:00:00

Existing rows keep what residents read until now: on cases, the notes of the reporter's own steps and of
accept, reject, handle and verify were public; every other note (dispatch, escalate, overdue, the hotline's)
stayed internal, and so did every other flow's.
"""
from alembic import op
import sqlalchemy as sa

revision = 'b1000000028a'
down_revision = 'b1000000024a'
branch_labels = None
depends_on = None

# The fixed rule this revision replaces (app/cases/progress.py before it), frozen here.
PUBLIC_BEFORE = ('report', 'withdraw', 'reopen', 'rate', 'accept', 'reject', 'handle', 'verify')


def upgrade():
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note_public', sa.Boolean(), nullable=False, server_default=sa.false()))
    events = sa.table('timeline_events', sa.column('subject_type', sa.String), sa.column('action', sa.String),
                      sa.column('note_public', sa.Boolean))
    op.execute(events.update()
               .where(events.c.subject_type == 'case', events.c.action.in_(PUBLIC_BEFORE))
               .values(note_public=True))


def downgrade():
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.drop_column('note_public')
