"""report anywhere: a case's location (GCJ-02), grid and community boundaries with their lattice cells, points of
coded places, Open311 clients, the hand-over with the 12345 hotline (platforms, hand-overs, messages taken in)

Revision ID: b1000000024a
Revises: b1000000021a
Create Date: 2026-12-01 20:50:00

"""
from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401 - custom column types used below

revision = 'b1000000024a'
down_revision = 'b1000000020a'
branch_labels = None
depends_on = None

PATH = sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql')


def upgrade():
    op.create_table('geo_boundaries',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('area_path', PATH, nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('rings', sa.JSON(), nullable=False),
    sa.Column('min_lng', sa.Float(), nullable=False),
    sa.Column('min_lat', sa.Float(), nullable=False),
    sa.Column('max_lng', sa.Float(), nullable=False),
    sa.Column('max_lat', sa.Float(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_geo_boundaries_area_id_areas')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_geo_boundaries')),
    sa.UniqueConstraint('area_id', name=op.f('uq_geo_boundaries_area_id'))
    )
    with op.batch_alter_table('geo_boundaries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_geo_boundaries_area_path'), ['area_path'], unique=False)

    op.create_table('geo_boundary_cells',
    sa.Column('cell', sa.Integer(), nullable=False),
    sa.Column('boundary_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['boundary_id'], ['geo_boundaries.id'], name=op.f('fk_geo_boundary_cells_boundary_id_geo_boundaries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_geo_boundary_cells'))
    )
    with op.batch_alter_table('geo_boundary_cells', schema=None) as batch_op:
        batch_op.create_index('ix_geo_boundary_cells_cell', ['cell', 'boundary_id'], unique=False)
        batch_op.create_index('ix_geo_boundary_cells_boundary_id', ['boundary_id'], unique=False)

    op.create_table('geo_place_points',
    sa.Column('place_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lng', sa.Float(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['areas.id'], name=op.f('fk_geo_place_points_grid_id_areas')),
    sa.ForeignKeyConstraint(['place_id'], ['places.id'], name=op.f('fk_geo_place_points_place_id_places')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_geo_place_points')),
    sa.UniqueConstraint('place_id', name=op.f('uq_geo_place_points_place_id'))
    )
    with op.batch_alter_table('geo_place_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_geo_place_points_grid_id'), ['grid_id'], unique=False)

    op.create_table('open311_clients',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('key_hint', sa.String(length=8), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('area_path', PATH, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('issued_by', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('revoked_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_open311_clients_area_id_areas')),
    sa.ForeignKeyConstraint(['issued_by'], ['users.id'], name=op.f('fk_open311_clients_issued_by_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_open311_clients_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_open311_clients')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_open311_clients_key_hash'))
    )
    with op.batch_alter_table('open311_clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_open311_clients_area_path'), ['area_path'], unique=False)

    op.create_table('hotline_platforms',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('area_path', PATH, nullable=False),
    sa.Column('endpoint', sa.String(length=300), nullable=False),
    sa.Column('secret_encrypted', sa.String(length=512), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_hotline_platforms_area_id_areas')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_hotline_platforms_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hotline_platforms'))
    )
    with op.batch_alter_table('hotline_platforms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hotline_platforms_area_path'), ['area_path'], unique=False)

    op.create_table('hotline_handovers',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=False),
    sa.Column('sent_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_hotline_handovers_case_id_cases')),
    sa.ForeignKeyConstraint(['platform_id'], ['hotline_platforms.id'], name=op.f('fk_hotline_handovers_platform_id_hotline_platforms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hotline_handovers'))
    )
    with op.batch_alter_table('hotline_handovers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hotline_handovers_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_hotline_handovers_status_next', ['status', 'next_attempt_at'], unique=False)

    op.create_table('hotline_inbound',
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_hotline_inbound_case_id_cases')),
    sa.ForeignKeyConstraint(['platform_id'], ['hotline_platforms.id'], name=op.f('fk_hotline_inbound_platform_id_hotline_platforms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hotline_inbound')),
    sa.UniqueConstraint('platform_id', 'external_id', name=op.f('uq_hotline_inbound_platform_id_external_id'))
    )

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('location_lat', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('location_lng', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('location_accuracy', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('location_address', sa.String(length=200), nullable=False, server_default=''))
        batch_op.alter_column('place_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index('ix_cases_category_created', ['category_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_category_created')
        batch_op.alter_column('place_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('location_address')
        batch_op.drop_column('location_accuracy')
        batch_op.drop_column('location_lng')
        batch_op.drop_column('location_lat')
    op.drop_table('hotline_inbound')
    op.drop_table('hotline_handovers')
    op.drop_table('hotline_platforms')
    op.drop_table('open311_clients')
    op.drop_table('geo_place_points')
    op.drop_table('geo_boundary_cells')
    op.drop_table('geo_boundaries')
