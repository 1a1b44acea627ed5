"""Notifications: push devices, notification rows, preferences, area broadcasts and their read state.

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-23 12:20:00
"""

import sqlalchemy as sa
from alembic import op

import jaki.db

revision = '0004'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('push_devices',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('token', sa.String(length=512), nullable=False),
    sa.Column('platform', sa.String(length=10), nullable=False),
    sa.Column('app_version', sa.String(length=40), nullable=True),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('created_at', jaki.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', jaki.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('topics_area_code', sa.String(length=20), nullable=True),
    sa.Column('topics_synced_at', jaki.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('topic_sync_failures', sa.Integer(), nullable=False),
    sa.Column('removed_at', jaki.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_push_devices_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_devices')),
    sa.UniqueConstraint('token', name=op.f('uq_push_devices_token'))
    )
    with op.batch_alter_table('push_devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_push_devices_topics_synced_at'), ['topics_synced_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_push_devices_user_id'), ['user_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('recipient_id', sa.String(length=36), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('type', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.String(length=1000), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('priority', sa.String(length=6), nullable=False),
    sa.Column('collapse_key', sa.String(length=100), nullable=True),
    sa.Column('created_at', jaki.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', jaki.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('claimed_at', jaki.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_attempt_at', jaki.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', jaki.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('push_sent', sa.Integer(), nullable=False),
    sa.Column('push_done', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'],
        name=op.f('fk_notifications_recipient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('event_id', 'recipient_id', name=op.f('uq_notifications_event_id'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_inbox', ['recipient_id', 'created_at'], unique=False)
        batch_op.create_index('ix_notifications_status_created', ['status', 'created_at'], unique=False)

    op.create_table('notification_preferences',
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('type', sa.String(length=60), nullable=False),
    sa.Column('push', sa.Boolean(), nullable=False),
    sa.Column('updated_at', jaki.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
        name=op.f('fk_notification_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'type', name=op.f('pk_notification_preferences'))
    )
    op.create_table('broadcasts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('area_code', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('body', sa.String(length=1000), nullable=False),
    sa.Column('created_by', sa.String(length=36), nullable=True),
    sa.Column('created_at', jaki.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('claimed_at', jaki.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_attempt_at', jaki.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('message_id', sa.String(length=200), nullable=True),
    sa.Column('sent_at', jaki.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'],
        name=op.f('fk_broadcasts_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcasts'))
    )
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.create_index('ix_broadcasts_area_created', ['area_code', 'created_at'], unique=False)

    op.create_table('broadcast_reads',
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('broadcast_id', sa.String(length=36), nullable=False),
    sa.Column('read_at', jaki.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcasts.id'],
        name=op.f('fk_broadcast_reads_broadcast_id_broadcasts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
        name=op.f('fk_broadcast_reads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'broadcast_id', name=op.f('pk_broadcast_reads'))
    )
    op.create_table('inbox_states',
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('broadcasts_read_before', jaki.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_inbox_states_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_inbox_states'))
    )


def downgrade():
    op.drop_table('inbox_states')
    op.drop_table('broadcast_reads')
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.drop_index('ix_broadcasts_area_created')

    op.drop_table('broadcasts')
    op.drop_table('notification_preferences')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_status_created')
        batch_op.drop_index('ix_notifications_inbox')

    op.drop_table('notifications')
    with op.batch_alter_table('push_devices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_push_devices_user_id'))
        batch_op.drop_index(batch_op.f('ix_push_devices_topics_synced_at'))

    op.drop_table('push_devices')
