"""Session hooks: relay as soon as outbox events commit, and resubscribe devices when their owner moves.

This is the after-commit bridge from a write to a push: `jaki.events.record_event` adds an OutboxEvent to the
business transaction, `_after_flush` notes it, and `_after_commit` kicks `tasks.relay_outbox` (and drops the
cached answers of the event's recipients, jaki.caching.forget_answers).
"""

from __future__ import annotations

import logging

from flask import has_app_context
from sqlalchemy import event, update
from sqlalchemy.orm import Session, attributes

from jaki.auth.models import User
from jaki.caching import forget_answers
from jaki.events import OutboxEvent
from jaki.jobs import Queues, enqueue_safely
from jaki.notifications import tasks
from jaki.notifications.models import Device

log = logging.getLogger(__name__)

_OUTBOX = "jaki.notifications.outbox"
_MOVED = "jaki.notifications.moved"
_RECIPIENTS = "jaki.notifications.recipients"
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
    events = [obj for obj in session.new if isinstance(obj, OutboxEvent)]
    if events:
        session.info[_OUTBOX] = True
        # Their people's cached answers (the overview) are out of date once this commits.
        recipients = session.info.setdefault(_RECIPIENTS, set())
        for event_ in events:
            listed = (event_.payload or {}).get("recipients") if isinstance(event_.payload, dict) else None
            if isinstance(listed, list):
                recipients.update(r for r in listed if isinstance(r, str))
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
    recipients = session.info.pop(_RECIPIENTS, None)
    if not has_app_context():
        return
    if recipients:
        forget_answers(sorted(recipients))
    if outbox:
        tasks.kick_relay()
    if moved:
        for user_id in sorted(moved):
            enqueue_safely(tasks.resync_user_devices, user_id, queue=Queues.DEFAULT, retries=0)


def _after_soft_rollback(session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_OUTBOX, None)
        session.info.pop(_MOVED, None)
        session.info.pop(_RECIPIENTS, None)
