"""Devices, notification rows, preferences, area broadcasts and their read state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jaki.db import Base, new_uuid, utcnow

NOTIFICATION_STATUSES = ("created", "sending", "sent", "failed", "muted")
BROADCAST_STATUSES = ("created", "sending", "sent", "failed")
PLATFORMS = ("android", "ios", "web")

BROADCASTS = "broadcasts"  # the kept-answer generation (jaki.caching) that broadcasts move


class Device(Base):
    """One app installation's FCM registration token, and the area topics FCM has it subscribed to."""

    __tablename__ = "push_devices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(512), unique=True)
    platform: Mapped[str] = mapped_column(String(10))
    app_version: Mapped[str | None] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(10), default="id")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What FCM has confirmed, and for which home kelurahan; NULL topics_synced_at means "sync needed".
    topics: Mapped[list] = mapped_column(JSON, default=list)
    topics_area_code: Mapped[str | None] = mapped_column(String(20))
    topics_synced_at: Mapped[datetime | None] = mapped_column(index=True)
    topic_sync_failures: Mapped[int] = mapped_column(Integer, default=0)
    # Set when the owner removes the device or the cap evicts it: unsubscribed by a job, then deleted.
    removed_at: Mapped[datetime | None]


class Notification(Base):
    """A message for one person: written first (the inbox), then pushed to their devices by one job."""

    __answer_owner__ = "recipient_id"  # a change drops this person's kept answers (jaki.caching)

    __tablename__ = "notifications"
    __table_args__ = (
        # Exactly once per (event, recipient), however many relays run at once.
        UniqueConstraint("event_id", "recipient_id"),
        Index("ix_notifications_inbox", "recipient_id", "created_at"),
        Index("ix_notifications_status_created", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    recipient_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # No foreign key: the outbox may be pruned; the id only guards against relaying an event twice.
    event_id: Mapped[int | None] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(1000))
    data: Mapped[dict] = mapped_column(JSON, default=dict)  # ids and codes only (strings), as pushed
    priority: Mapped[str] = mapped_column(String(6), default="normal")
    collapse_key: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    # Delivery state lives on the row (created -> sending -> sent | failed; muted: inbox only).
    status: Mapped[str] = mapped_column(String(10), default="created")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    claimed_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    push_sent: Mapped[int] = mapped_column(Integer, default=0)
    push_done: Mapped[list] = mapped_column(JSON, default=list)  # device ids finished in earlier attempts


class NotificationPreference(Base):
    """A person's choice to receive pushes of one notification type (absent row: yes)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    type: Mapped[str] = mapped_column(String(60), primary_key=True)
    push: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Broadcast(Base):
    """An emergency message to everyone in an area: one FCM topic send, one row, no row per recipient."""

    __answer_generation__ = BROADCASTS  # a change makes every kept inbox stale (jaki.caching)

    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_area_created", "area_code", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    area_code: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20), default="emergency")
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(String(1000))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default="created")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    claimed_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None]


class BroadcastRead(Base):
    """A person read one broadcast (written when they read it, never at send time)."""

    __answer_owner__ = "user_id"  # a change drops this person's kept answers (jaki.caching)

    __tablename__ = "broadcast_reads"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    broadcast_id: Mapped[str] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(default=utcnow)


class InboxState(Base):
    """Per person: broadcasts created up to this instant count as read ("mark all read" in one write)."""

    __answer_owner__ = "user_id"  # a change drops this person's kept answers (jaki.caching)

    __tablename__ = "inbox_states"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    broadcasts_read_before: Mapped[datetime | None]
