"""Open311: client API keys (hashed) and submissions (token, link to the report, sealed submitter contact).

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-23 12:30:00
"""

import sqlalchemy as sa
from alembic import op

import jaki.db

revision = '0005'
down_revision = '0001'
branch_labels = None
# Submissions reference reports (branch 0002): that table must exist first.
depends_on = '0002'


def upgrade():
    op.create_table('open311_api_keys',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('key_prefix', sa.String(length=12), nullable=False),
    sa.Column('created_by_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', jaki.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', jaki.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', jaki.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_open311_api_keys_created_by_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_open311_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_open311_api_keys_key_hash'))
    )
    op.create_table('open311_submissions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('report_id', sa.String(length=36), nullable=True),
    sa.Column('api_key_id', sa.String(length=36), nullable=False),
    sa.Column('service_code', sa.String(length=40), nullable=False),
    sa.Column('address_id', sa.String(length=100), nullable=True),
    sa.Column('media_url', sa.String(length=500), nullable=True),
    sa.Column('attributes', sa.JSON(), nullable=True),
    sa.Column('contact_sealed', sa.Text(), nullable=True),
    sa.Column('created_at', jaki.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['api_key_id'], ['open311_api_keys.id'],
                            name=op.f('fk_open311_submissions_api_key_id_open311_api_keys')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_open311_submissions_report_id_reports'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_open311_submissions')),
    sa.UniqueConstraint('report_id', name=op.f('uq_open311_submissions_report_id')),
    sa.UniqueConstraint('token', name=op.f('uq_open311_submissions_token'))
    )
    with op.batch_alter_table('open311_submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_open311_submissions_api_key_id'), ['api_key_id'], unique=False)


def downgrade():
    with op.batch_alter_table('open311_submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_open311_submissions_api_key_id'))

    op.drop_table('open311_submissions')
    op.drop_table('open311_api_keys')
