"""Session hooks: relay as soon as outbox events commit, and resubscribe devices when their owner moves."""

from __future__ import annotations

import logging

from flask import has_app_context
from sqlalchemy import event, update
from sqlalchemy.orm import Session, attributes

log = logging.getLogger(__name__)

_OUTBOX = "jaki.notifications.outbox"
_MOVED = "jaki.notifications.moved"
_installed = False


def install() -> None:
    """Listen on every Session (idempotent: create_app may run several times)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", _after_soft_rollback)
    _installed = True


def _after_flush(session, _flush_context) -> None:
    from jaki.auth.models import User
    from jaki.events import OutboxEvent
    from jaki.notifications.models import Device

    if any(isinstance(obj, OutboxEvent) for obj in session.new):
        session.info[_OUTBOX] = True
    moved = [
        obj.id
        for obj in session.dirty
        if isinstance(obj, User) and attributes.get_history(obj, "home_kelurahan_code").has_changes()
    ]
    if moved:
        # In the same transaction as the move: the sweeper resyncs these devices even if the job below is lost.
        session.connection().execute(
            update(Device.__table__).where(Device.__table__.c.user_id.in_(moved)).values(topics_synced_at=None)
        )
        session.info.setdefault(_MOVED, set()).update(moved)


def _after_commit(session) -> None:
    outbox = session.info.pop(_OUTBOX, False)
    moved = session.info.pop(_MOVED, None)
    if not has_app_context():
        return
    if outbox:
        from jaki.notifications.relay import kick_relay

        kick_relay()
    if moved:
        from jaki.jobs import Queues
        from jaki.notifications import tasks
        from jaki.notifications.delivery import enqueue_safely

        for user_id in sorted(moved):
            enqueue_safely(tasks.resync_user_devices, user_id, queue=Queues.DEFAULT, retries=0)


def _after_soft_rollback(session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_OUTBOX, None)
        session.info.pop(_MOVED, None)
