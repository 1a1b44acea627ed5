"""Outbox relay: committed domain events become notification rows, exactly once per (event, recipient).

Many relays may run at once: on PostgreSQL each takes its batch with SELECT ... FOR UPDATE SKIP LOCKED, so they
share the backlog; the unique (event_id, recipient_id) constraint with ON CONFLICT DO NOTHING is the backstop on
every database (SQLite, which has no row locks, serialises writers anyway). This module only writes rows:
tasks.relay_outbox enqueues their delivery after the commit; if Redis is down the rows wait for the sweeper.
"""

from __future__ import annotations

import json
import logging
import threading

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from jaki.auth.models import User
from jaki.caching import forget_answers
from jaki.db import UTCDateTime, new_uuid, one_of, utcnow
from jaki.events import OutboxEvent
from jaki.extensions import db
from jaki.notifications.models import Notification, NotificationPreference
from jaki.notifications.templates import TEMPLATES, clean_data
from jaki.settings import setting

log = logging.getLogger(__name__)

MAX_EVENT_ATTEMPTS = 5  # a database error on one event is retried this often, then the event is set aside


def _insert(dialect: str):
    return postgresql_insert if dialect == "postgresql" else sqlite_insert


def _slices(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _set_aside(event: OutboxEvent, now, reason: str) -> None:
    event.relayed_at, event.last_error = now, reason
    log.warning("outbox event not relayed", extra={"event_id": event.id, "event_type": event.type, "reason": reason})


def _plan(event: OutboxEvent, now) -> tuple[list[str], dict] | None:
    """The event's recipients and cleaned data, or None (and the event set aside) when it cannot be relayed."""
    if event.type not in TEMPLATES:
        _set_aside(event, now, "no notification template for this event type")
        return None
    payload = event.payload if isinstance(event.payload, dict) else {}
    recipients = payload.get("recipients")
    if not isinstance(recipients, list) or not all(isinstance(r, str) for r in recipients):
        _set_aside(event, now, "payload.recipients must be a list of user ids")
        return None
    recipients = list(dict.fromkeys(r for r in recipients if r))
    if len(recipients) > setting("NOTIFY_MAX_RECIPIENTS"):
        _set_aside(event, now, "too many recipients for one event: use an area broadcast")
        return None
    return recipients, clean_data(payload.get("data"))


def _rows(event: OutboxEvent, recipients: list[str], data: dict, active: set, muted: set, now) -> list[dict]:
    template = TEMPLATES[event.type]
    title, body = template.render(data, "id")
    collapse_key = f"{event.aggregate_type}-{event.aggregate_id}"[:100]
    return [
        {
            "id": new_uuid(),
            "recipient_id": user_id,
            "event_id": event.id,
            "type": event.type,
            "title": title,
            "body": body,
            "data": data,
            "priority": template.priority,
            "collapse_key": collapse_key,
            "created_at": now,
            "status": "muted" if (user_id, event.type) in muted else "created",
            "attempts": 0,
            "push_sent": 0,
            "push_done": [],
        }
        for user_id in recipients
        if user_id in active
    ]


# PostgreSQL: the whole batch as one statement with one array parameter per column. The ORM's multi-row VALUES
# has 14 placeholders a row, and the driver parses that text again for every batch: that parse was the relay's
# largest cost (py-spy, bench/results/notifications_profile.txt).
_UNNEST_INSERT = text("""
    INSERT INTO notifications (id, recipient_id, event_id, type, title, body, data, priority, collapse_key,
                               created_at, status, attempts, push_sent, push_done)
    SELECT r.id, r.recipient_id, r.event_id, r.type, r.title, r.body, CAST(r.data AS json), r.priority,
           r.collapse_key, :created_at, r.status, 0, 0, CAST('[]' AS json)
    FROM unnest(CAST(:ids AS varchar[]), CAST(:recipients AS varchar[]), CAST(:events AS integer[]),
                CAST(:types AS varchar[]), CAST(:titles AS varchar[]), CAST(:bodies AS varchar[]),
                CAST(:datas AS text[]), CAST(:priorities AS varchar[]), CAST(:collapse_keys AS varchar[]),
                CAST(:statuses AS varchar[]))
         AS r(id, recipient_id, event_id, type, title, body, data, priority, collapse_key, status)
    ON CONFLICT (event_id, recipient_id) DO NOTHING
    RETURNING id, status""").bindparams(bindparam("created_at", type_=UTCDateTime()))


def _insert_rows_unnest(rows: list[dict]) -> list[str]:
    to_push: list[str] = []
    for chunk in _slices(rows, 5000):
        columns = {
            "ids": [r["id"] for r in chunk],
            "recipients": [r["recipient_id"] for r in chunk],
            "events": [r["event_id"] for r in chunk],
            "types": [r["type"] for r in chunk],
            "titles": [r["title"] for r in chunk],
            "bodies": [r["body"] for r in chunk],
            "datas": [json.dumps(r["data"], ensure_ascii=False, separators=(",", ":")) for r in chunk],
            "priorities": [r["priority"] for r in chunk],
            "collapse_keys": [r["collapse_key"] for r in chunk],
            "statuses": [r["status"] for r in chunk],
        }
        answer = db.session.execute(_UNNEST_INSERT, {**columns, "created_at": chunk[0]["created_at"]})
        to_push += [row.id for row in answer if row.status == "created"]
    return to_push


def _insert_rows(rows: list[dict], insert) -> list[str]:
    """Insert, skipping (event, recipient) pairs that exist already; returns the ids to push."""
    if insert is postgresql_insert:
        return _insert_rows_unnest(rows)
    to_push: list[str] = []
    for chunk in _slices(rows):
        statement = (
            insert(Notification)
            .on_conflict_do_nothing(index_elements=["event_id", "recipient_id"])
            .returning(Notification.id, Notification.status)
        )
        to_push += [r.id for r in db.session.execute(statement, chunk) if r.status == "created"]
    return to_push


# SQLite has no row locks and refuses a reader's upgrade to writer under contention: one relay per process.
_sqlite_relay = threading.RLock()


def relay_batch(limit: int) -> tuple[int, list[str]]:
    """Relay up to `limit` pending events in one transaction (committed here). Returns (events, ids to push)."""
    if db.session.get_bind().dialect.name == "sqlite":
        with _sqlite_relay:
            return _relay_batch(limit)
    return _relay_batch(limit)


def _relay_batch(limit: int) -> tuple[int, list[str]]:
    events = db.session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.relayed_at.is_(None))
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not events:
        db.session.rollback()
        return 0, []
    insert = _insert(db.session.get_bind().dialect.name)
    now = utcnow()
    plans = {}
    for event in events:
        plan = _plan(event, now)
        if plan is None:
            event.attempts = (event.attempts or 0) + 1  # set aside: written by the flush, with its reason
        else:
            plans[event.id] = (event, *plan)

    # Who may receive, and who muted which type: two queries for the whole batch, not two per event.
    everyone = list(dict.fromkeys(r for _, recipients, _ in plans.values() for r in recipients))
    types = list({event.type for event, _, _ in plans.values()})
    active: set[str] = set()
    muted: set[tuple[str, str]] = set()
    for chunk in _slices(everyone):
        active.update(db.session.scalars(select(User.id).where(one_of(User.id, chunk), User.status == "active")))
        muted.update(
            (user_id, type_)
            for user_id, type_ in db.session.execute(
                select(NotificationPreference.user_id, NotificationPreference.type).where(
                    one_of(NotificationPreference.user_id, chunk),
                    NotificationPreference.type.in_(types),
                    NotificationPreference.push.is_(False),
                )
            )
        )
    rows = {
        event_id: _rows(event, recipients, data, active, muted, now)
        for event_id, (event, recipients, data) in plans.items()
    }

    to_push: list[str] = []
    try:
        with db.session.begin_nested():
            to_push = _insert_rows([row for event_rows in rows.values() for row in event_rows], insert)
        relayed = list(plans)
    except SQLAlchemyError:
        # One event's rows broke the batch (a recipient deleted meanwhile, say): event by event, so the
        # others still go out and only the culprit waits for the next relay.
        to_push, relayed = [], []
        for event_id, (event, _, _) in plans.items():
            try:
                with db.session.begin_nested():
                    to_push += _insert_rows(rows[event_id], insert)
                relayed.append(event_id)
            except SQLAlchemyError as exc:
                event.attempts = (event.attempts or 0) + 1
                event.last_error = f"{type(exc).__name__}: {str(exc)[:200]}"
                log.warning("relaying an event failed", extra={"event_id": event.id, "error": type(exc).__name__})
                if event.attempts >= MAX_EVENT_ATTEMPTS:
                    event.relayed_at = now
    if relayed:
        # One statement for the batch (the ORM would write each event's row on its own).
        db.session.execute(
            update(OutboxEvent)
            .where(one_of(OutboxEvent.id, relayed))
            .values(relayed_at=now, last_error=None, attempts=OutboxEvent.attempts + 1)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    # Inserted by a Core statement, which the owner hook does not see: the recipients' kept inboxes are stale.
    forget_answers({row["recipient_id"] for event_id in relayed for row in rows[event_id]})
    return len(events), to_push
