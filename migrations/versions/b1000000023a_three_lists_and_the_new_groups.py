"""three lists (offers, disputes, goods pledges, yearly service targets) and the new groups (registrations, service posts, claims, reports on duty)

Revision ID: b1000000023a
Revises: b1000000017a
Create Date: 2026-12-01 20:10:55.880198

"""
from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401 - custom column types used below


# revision identifiers, used by Alembic.
revision = 'b1000000023a'
down_revision = 'b1000000027a'
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('group_workers',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('platform', sa.String(length=60), nullable=False),
    sa.Column('work_area', sa.String(length=100), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('area_path', sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reject_reason', sa.Text(), nullable=False),
    sa.Column('reviewed_by', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['areas.id'], name=op.f('fk_group_workers_community_id_areas')),
    sa.ForeignKeyConstraint(['reviewed_by'], ['users.id'], name=op.f('fk_group_workers_reviewed_by_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_group_workers_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_workers'))
    )
    with op.batch_alter_table('group_workers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_workers_area_path'), ['area_path'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_workers_user_id'), ['user_id'], unique=False)

    op.create_table('service_posts',
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('area_path', sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=30), nullable=False),
    sa.Column('duties', sa.Text(), nullable=False),
    sa.Column('places', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['areas.id'], name=op.f('fk_service_posts_community_id_areas')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_service_posts_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_posts'))
    )
    with op.batch_alter_table('service_posts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_posts_area_path'), ['area_path'], unique=False)

    op.create_table('service_targets',
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('area_path', sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql'), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('services', sa.Integer(), nullable=False),
    sa.Column('set_by', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['areas.id'], name=op.f('fk_service_targets_community_id_areas')),
    sa.ForeignKeyConstraint(['set_by'], ['users.id'], name=op.f('fk_service_targets_set_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_targets')),
    sa.UniqueConstraint('community_id', 'year', name='uq_service_targets_community_year')
    )
    op.create_table('post_claims',
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('area_path', sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('reviewed_by', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['service_posts.id'], name=op.f('fk_post_claims_post_id_service_posts')),
    sa.ForeignKeyConstraint(['reviewed_by'], ['users.id'], name=op.f('fk_post_claims_reviewed_by_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_post_claims_user_id_users')),
    sa.ForeignKeyConstraint(['worker_id'], ['group_workers.id'], name=op.f('fk_post_claims_worker_id_group_workers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_claims'))
    )
    with op.batch_alter_table('post_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_post_claims_post_id'), ['post_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_post_claims_user_id'), ['user_id'], unique=False)

    op.create_table('wish_pledges',
    sa.Column('wish_id', sa.Integer(), nullable=False),
    sa.Column('donor_id', sa.Integer(), nullable=False),
    sa.Column('donor_name', sa.String(length=32), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('handed_over_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['confirmed_by'], ['users.id'], name=op.f('fk_wish_pledges_confirmed_by_users')),
    sa.ForeignKeyConstraint(['donor_id'], ['users.id'], name=op.f('fk_wish_pledges_donor_id_users')),
    sa.ForeignKeyConstraint(['wish_id'], ['wishes.id'], name=op.f('fk_wish_pledges_wish_id_wishes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wish_pledges'))
    )
    with op.batch_alter_table('wish_pledges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wish_pledges_donor_id'), ['donor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_wish_pledges_wish_id'), ['wish_id'], unique=False)

    op.create_table('post_reports',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('post_kind', sa.String(length=16), nullable=False),
    sa.Column('area_path', sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql'), nullable=False),
    sa.Column('by_code', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_post_reports_case_id_cases')),
    sa.ForeignKeyConstraint(['claim_id'], ['post_claims.id'], name=op.f('fk_post_reports_claim_id_post_claims')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_post_reports_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_reports')),
    sa.UniqueConstraint('case_id', name=op.f('uq_post_reports_case_id'))
    )
    with op.batch_alter_table('post_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_post_reports_area_path'), ['area_path'], unique=False)
        batch_op.create_index(batch_op.f('ix_post_reports_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_post_reports_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('wishes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offered_to', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('offer_expires_at', app.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('stall_reminded_at', app.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('dispute_reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('quantity', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_wishes_offered_to'), ['offered_to'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_wishes_offered_to_users'), 'users', ['offered_to'], ['id'])




def downgrade():
    
    with op.batch_alter_table('wishes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_wishes_offered_to_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_wishes_offered_to'))
        batch_op.drop_column('quantity')
        batch_op.drop_column('dispute_reason')
        batch_op.drop_column('stall_reminded_at')
        batch_op.drop_column('offer_expires_at')
        batch_op.drop_column('offered_to')

    with op.batch_alter_table('post_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_post_reports_user_id'))
        batch_op.drop_index(batch_op.f('ix_post_reports_claim_id'))
        batch_op.drop_index(batch_op.f('ix_post_reports_area_path'))

    op.drop_table('post_reports')
    with op.batch_alter_table('wish_pledges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wish_pledges_wish_id'))
        batch_op.drop_index(batch_op.f('ix_wish_pledges_donor_id'))

    op.drop_table('wish_pledges')
    with op.batch_alter_table('post_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_post_claims_user_id'))
        batch_op.drop_index(batch_op.f('ix_post_claims_post_id'))

    op.drop_table('post_claims')
    op.drop_table('service_targets')
    with op.batch_alter_table('service_posts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_posts_area_path'))

    op.drop_table('service_posts')
    with op.batch_alter_table('group_workers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_workers_user_id'))
        batch_op.drop_index(batch_op.f('ix_group_workers_area_path'))

    op.drop_table('group_workers')

