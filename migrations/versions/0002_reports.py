"""Citizen reports: categories, reports, photos, immutable history, comments, supports, ratings, quotas.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:15:00
"""

import sqlalchemy as sa
from alembic import op

import jaki.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# History rows are never edited: the database refuses an UPDATE even from code that bypasses the ORM guard.
# (Deleting the report still removes its history, through ON DELETE CASCADE.)
_PG_FUNCTION = """
CREATE FUNCTION report_history_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'report_history rows are immutable';
END;
$$ LANGUAGE plpgsql
"""
_PG_TRIGGER = """
CREATE TRIGGER report_history_no_update BEFORE UPDATE ON report_history
FOR EACH ROW EXECUTE FUNCTION report_history_immutable()
"""
_SQLITE_TRIGGER = """
CREATE TRIGGER report_history_no_update BEFORE UPDATE ON report_history
BEGIN
    SELECT RAISE(ABORT, 'report_history rows are immutable');
END
"""


def upgrade():
    op.create_table('report_categories',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('agency_code', sa.String(length=40), nullable=False),
    sa.Column('sla_hours', sa.Integer(), nullable=False),
    sa.Column('duplicate_radius_m', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('created_at', jaki.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', jaki.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('duplicate_radius_m >= 0 AND duplicate_radius_m <= 1000', name=op.f('ck_report_categories_duplicate_radius_range')),
    sa.CheckConstraint('sla_hours > 0', name=op.f('ck_report_categories_sla_hours_positive')),
    sa.ForeignKeyConstraint(['agency_code'], ['agencies.code'], name=op.f('fk_report_categories_agency_code_agencies')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_report_categories'))
    )
    with op.batch_alter_table('report_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_categories_agency_code'), ['agency_code'], unique=False)

    op.create_table('report_quotas',
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_report_quotas_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'day', name=op.f('pk_report_quotas'))
    )
    op.create_table('reports',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('reporter_id', sa.String(length=36), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('category_code', sa.String(length=40), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('cell', sa.Integer(), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('kelurahan_code', sa.String(length=20), nullable=True),
    sa.Column('kecamatan_code', sa.String(length=20), nullable=True),
    sa.Column('kota_code', sa.String(length=20), nullable=True),
    sa.Column('routing_distance_m', sa.Float(), nullable=True),
    sa.Column('agency_code', sa.String(length=40), nullable=False),
    sa.Column('assigned_officer_id', sa.String(length=36), nullable=True),
    sa.Column('assigned_at', jaki.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('sla_due_at', jaki.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sla_breached_at', jaki.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('verified_at', jaki.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('dispatched_at', jaki.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', jaki.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', jaki.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=True),
    sa.Column('rejection_reason', sa.Text(), nullable=True),
    sa.Column('duplicate_of_id', sa.String(length=36), nullable=True),
    sa.Column('support_count', sa.Integer(), nullable=False),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=True),
    sa.Column('idempotency_fingerprint', sa.String(length=64), nullable=True),
    sa.Column('created_at', jaki.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', jaki.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_code'], ['agencies.code'], name=op.f('fk_reports_agency_code_agencies')),
    sa.ForeignKeyConstraint(['assigned_officer_id'], ['users.id'], name=op.f('fk_reports_assigned_officer_id_users')),
    sa.ForeignKeyConstraint(['category_code'], ['report_categories.code'], name=op.f('fk_reports_category_code_report_categories')),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['reports.id'], name=op.f('fk_reports_duplicate_of_id_reports')),
    sa.ForeignKeyConstraint(['kecamatan_code'], ['areas.code'], name=op.f('fk_reports_kecamatan_code_areas')),
    sa.ForeignKeyConstraint(['kelurahan_code'], ['areas.code'], name=op.f('fk_reports_kelurahan_code_areas')),
    sa.ForeignKeyConstraint(['kota_code'], ['areas.code'], name=op.f('fk_reports_kota_code_areas')),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_reports_reporter_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    sa.UniqueConstraint('reporter_id', 'idempotency_key', name='uq_reports_reporter_idempotency_key')
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_agency_code'), ['agency_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_assigned_officer_id'), ['assigned_officer_id'], unique=False)
        batch_op.create_index('ix_reports_category_code_cell', ['category_code', 'cell'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_cell'), ['cell'], unique=False)
        batch_op.create_index('ix_reports_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_duplicate_of_id'), ['duplicate_of_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_kecamatan_code'), ['kecamatan_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_kelurahan_code'), ['kelurahan_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_kota_code'), ['kota_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_resolved_at'), ['resolved_at'], unique=False)
        batch_op.create_index('ix_reports_status_sla_due_at', ['status', 'sla_due_at'], unique=False)

    op.create_table('report_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.String(length=36), nullable=False),
    sa.Column('author_id', sa.String(length=36), nullable=True),
    sa.Column('author_role', sa.String(length=20), nullable=False),
    sa.Column('internal', sa.Boolean(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', jaki.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_report_comments_author_id_users')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_comments_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_comments'))
    )
    with op.batch_alter_table('report_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_comments_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_report_comments_report_id_id', ['report_id', 'id'], unique=False)

    op.create_table('report_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.String(length=36), nullable=False),
    sa.Column('at', jaki.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.String(length=36), nullable=True),
    sa.Column('actor_role', sa.String(length=20), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_report_history_actor_id_users')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_history_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_history'))
    )
    with op.batch_alter_table('report_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_history_report_id'), ['report_id'], unique=False)

    op.create_table('report_photos',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('report_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=False),
    sa.Column('thumbnail_key', sa.String(length=300), nullable=True),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', jaki.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_photos_report_id_reports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_report_photos_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_photos'))
    )
    with op.batch_alter_table('report_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_photos_report_id'), ['report_id'], unique=False)

    op.create_table('report_ratings',
    sa.Column('report_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', jaki.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('score >= 1 AND score <= 5', name=op.f('ck_report_ratings_score_range')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_ratings_report_id_reports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_report_ratings_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', name=op.f('pk_report_ratings'))
    )
    with op.batch_alter_table('report_ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_ratings_user_id'), ['user_id'], unique=False)

    op.create_table('report_supports',
    sa.Column('report_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', jaki.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_supports_report_id_reports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_report_supports_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', 'user_id', name=op.f('pk_report_supports'))
    )
    with op.batch_alter_table('report_supports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_supports_user_id'), ['user_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS report_history_no_update ON report_history")
        op.execute("DROP FUNCTION IF EXISTS report_history_immutable()")
    else:
        op.execute("DROP TRIGGER IF EXISTS report_history_no_update")
    with op.batch_alter_table('report_supports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_supports_user_id'))

    op.drop_table('report_supports')
    with op.batch_alter_table('report_ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_ratings_user_id'))

    op.drop_table('report_ratings')
    with op.batch_alter_table('report_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_photos_report_id'))

    op.drop_table('report_photos')
    with op.batch_alter_table('report_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_history_report_id'))

    op.drop_table('report_history')
    with op.batch_alter_table('report_comments', schema=None) as batch_op:
        batch_op.drop_index('ix_report_comments_report_id_id')
        batch_op.drop_index(batch_op.f('ix_report_comments_author_id'))

    op.drop_table('report_comments')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_status_sla_due_at')
        batch_op.drop_index(batch_op.f('ix_reports_resolved_at'))
        batch_op.drop_index(batch_op.f('ix_reports_reporter_id'))
        batch_op.drop_index(batch_op.f('ix_reports_kota_code'))
        batch_op.drop_index(batch_op.f('ix_reports_kelurahan_code'))
        batch_op.drop_index(batch_op.f('ix_reports_kecamatan_code'))
        batch_op.drop_index(batch_op.f('ix_reports_duplicate_of_id'))
        batch_op.drop_index('ix_reports_created_at_id')
        batch_op.drop_index(batch_op.f('ix_reports_cell'))
        batch_op.drop_index('ix_reports_category_code_cell')
        batch_op.drop_index(batch_op.f('ix_reports_assigned_officer_id'))
        batch_op.drop_index(batch_op.f('ix_reports_agency_code'))

    op.drop_table('reports')
    op.drop_table('report_quotas')
    with op.batch_alter_table('report_categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_categories_agency_code'))

    op.drop_table('report_categories')
