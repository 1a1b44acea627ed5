"""Pushing rows out: one claim-checked send per notification, area broadcasts by topic, topic sync, the sweeper.

Every send follows the same steps, so a job that runs twice (rq delivers at least once) sends once: claim the
row with one conditional UPDATE (created -> sending) and commit; call FCM; record the outcome and commit. A
worker killed before its claim commits leaves the row "created" and a retry sends it. A row left in "sending"
by a dead worker may or may not have reached FCM: after a lease it is marked sent, "unconfirmed", and NOT
pushed again (the inbox row is the record; a second push to every device would be the more visible fault).
Emergency broadcasts are the opposite: one topic send that must arrive, so an unknown outcome is sent again.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, delete, or_, select, text, update

from jaki import metrics
from jaki.auth.models import RecordedMessage, User
from jaki.db import one_of, utcnow
from jaki.extensions import db
from jaki.notifications.areas import topic_for, topics_for_home
from jaki.notifications.models import Broadcast, Device, Notification
from jaki.notifications.push import (
    MAX_TOKENS_PER_SEND,
    PushMessage,
    PushOutcome,
    check_payload,
    check_priority,
    push_sender_from_config,
)
from jaki.notifications.quota import app_quota
from jaki.notifications.templates import EMERGENCY, TEMPLATES
from jaki.pdp.consent import home_area_for_alerts
from jaki.settings import setting

log = logging.getLogger(__name__)

_sender_lock = threading.Lock()
EARLY = timedelta(seconds=2)


@dataclass(frozen=True)
class DeliveryResult:
    outcome: str  # sent | failed | retry | waiting | skipped | busy | unconfirmed
    retry_in: float | None = None


# Sender


def _record_push(message: dict) -> None:
    """Sink of the embedded default's recording sender: pushes land in recorded_messages, in the job's transaction."""
    body = json.dumps(
        {key: message.get(key) for key in ("kind", "title", "body", "data", "priority", "collapse_key", "message_id")},
        ensure_ascii=False,
    )
    db.session.add(RecordedMessage(channel="push", recipient=str(message.get("target"))[:200], body=body[:4000]))


def push_sender():
    """One sender per app and process (firebase-admin App, HTTP pools and OAuth token live across jobs)."""
    app = current_app._get_current_object()
    sender = app.extensions.get("jaki.push_sender")
    if sender is None:
        with _sender_lock:
            sender = app.extensions.get("jaki.push_sender")
            if sender is None:
                sender = push_sender_from_config(app.config, sink=_record_push)
                app.extensions["jaki.push_sender"] = sender
    return sender


# Targeted notifications


def _lease() -> timedelta:
    return timedelta(seconds=setting("NOTIFY_SENDING_LEASE_SECONDS"))


def _backoff(attempts: int, retry_after: float | None) -> float:
    intervals = tuple(setting("NOTIFY_RETRY_INTERVALS")) or (0,)
    base = intervals[min(max(attempts - 1, 0), len(intervals) - 1)]
    return max(float(base), float(retry_after or 0))


def _summary(errors: Counter) -> str:
    return ", ".join(f"{code} x{count}" for code, count in errors.most_common())[:300]


def send_notification(notification_id: str) -> DeliveryResult:
    """One row through the batch path (tests, the sweeper's per-row jobs)."""
    return send_notifications([notification_id])[notification_id]


def send_notifications(notification_ids: list[str]) -> dict[str, DeliveryResult]:
    """Push a batch of rows: claim them all in one UPDATE ... RETURNING, load their devices in one query,
    send every message through one paced send_batch, record every outcome in one UPDATE (FROM unnest on
    PostgreSQL, executemany elsewhere)."""
    ids = list(dict.fromkeys(notification_ids))
    now = utcnow()
    claimed = db.session.execute(
        update(Notification)
        .where(
            one_of(Notification.id, ids),
            Notification.status == "created",
            # rq schedules retries to the whole second, so a retry may come a little early.
            or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now + EARLY),
        )
        .values(status="sending", claimed_at=now, attempts=Notification.attempts + 1)
        .returning(*_CLAIMED)
        .execution_options(synchronize_session=False)
    ).all()
    results: dict[str, DeliveryResult] = {}
    if not claimed:
        db.session.rollback()
    else:
        results.update(_push_claimed(claimed))
    for notification_id in ids:
        if notification_id not in results:
            results[notification_id] = _not_claimed(notification_id, now)
    return results


_CLAIMED = (
    Notification.id,
    Notification.recipient_id,
    Notification.type,
    Notification.title,
    Notification.body,
    Notification.data,
    Notification.priority,
    Notification.collapse_key,
    Notification.attempts,
    Notification.push_sent,
    Notification.push_done,
    Notification.last_error,
)


def _push_claimed(claimed) -> dict[str, DeliveryResult]:
    recipients = list({row.recipient_id for row in claimed})
    devices_of: dict[str, list] = defaultdict(list)
    for device in db.session.execute(
        select(Device.id, Device.user_id, Device.token, Device.locale)
        .where(one_of(Device.user_id, recipients), Device.removed_at.is_(None))
        .order_by(Device.created_at)
    ):
        devices_of[device.user_id].append(device)
    # From this commit on the rows say "FCM may have it": a worker dying now is not followed by a second push.
    db.session.commit()

    max_attempts = setting("NOTIFY_MAX_ATTEMPTS")
    outcomes: dict[str, dict] = {}
    results: dict[str, DeliveryResult] = {}
    plans = []  # (row, done, [(device, PushMessage)])
    for row in claimed:
        done = set(row.push_done or [])
        try:
            messages = _messages(row, [d for d in devices_of.get(row.recipient_id, []) if d.id not in done])
        except ValueError as exc:  # a payload FCM refuses for every device: retrying cannot help
            outcomes[row.id] = _values(row, status="failed", done=done, last_error=f"payload: {exc}"[:300])
            results[row.id] = DeliveryResult("failed")
            continue
        plans.append((row, done, messages))

    flat = [message for _, _, messages in plans for _, message in messages]
    sent_results = _send_paced(flat) if flat else []
    if sent_results:
        metrics.count_push("device", Counter(result.outcome.value for result in sent_results))
    answers = iter(sent_results)
    dead: list[str] = []
    for row, done, messages in plans:
        errors: Counter = Counter()
        retry_after, retryable, sent = None, 0, 0
        for device, _message in messages:
            result = next(answers)
            if result.outcome is PushOutcome.SENT:
                sent += 1
                done.add(device.id)
                continue
            errors[result.error_code or result.outcome.value] += 1
            if result.outcome is PushOutcome.RETRYABLE:
                retryable += 1
                retry_after = max(retry_after or 0, result.retry_after or 0)
            else:
                done.add(device.id)
                if result.outcome is PushOutcome.UNREGISTERED:
                    dead.append(device.id)
        total = (row.push_sent or 0) + sent
        if retryable and row.attempts < max_attempts:
            delay = _backoff(row.attempts, retry_after)
            outcomes[row.id] = _values(
                row,
                status="created",
                done=done,
                push_sent=total,
                last_error=_summary(errors),
                next_attempt_at=utcnow() + timedelta(seconds=delay),
            )
            results[row.id] = DeliveryResult("retry", delay)
            continue
        if retryable:
            errors["gave_up_after_attempts"] = row.attempts
        # The final state: sent if any device got it (or there was none to try), failed if every device refused.
        status = "sent" if total or not errors else "failed"
        last_error = _summary(errors) if errors else (None if total else row.last_error)
        outcomes[row.id] = _values(
            row,
            status=status,
            done=done,
            push_sent=total,
            last_error=last_error,
            sent_at=utcnow() if status == "sent" else None,
        )
        results[row.id] = DeliveryResult(status)

    if dead:
        # The token is gone for good (app removed, token rotated): delete it, and it leaves its topics with it.
        db.session.execute(delete(Device).where(Device.id.in_(dead)).execution_options(synchronize_session=False))
    _record_outcomes(outcomes)
    db.session.commit()
    return results


# PostgreSQL: every outcome of the batch in one UPDATE joined to one array per column (an executemany is one
# statement per row on the server).
_UNNEST_OUTCOMES = text("""
    UPDATE notifications AS n
    SET status = o.status, push_sent = o.push_sent, push_done = CAST(o.push_done AS json),
        last_error = o.last_error, next_attempt_at = o.next_attempt_at, sent_at = o.sent_at
    FROM unnest(CAST(:ids AS varchar[]), CAST(:statuses AS varchar[]), CAST(:push_sent AS integer[]),
                CAST(:push_done AS text[]), CAST(:last_errors AS varchar[]),
                CAST(:next_attempts AS timestamptz[]), CAST(:sent_ats AS timestamptz[]))
         AS o(id, status, push_sent, push_done, last_error, next_attempt_at, sent_at)
    WHERE n.id = o.id""")


def _record_outcomes(outcomes: dict[str, dict]) -> None:
    if not outcomes:
        return
    if db.session.get_bind().dialect.name != "postgresql":
        # One executemany UPDATE by primary key (the same columns for every row).
        db.session.execute(update(Notification), [{"id": row_id, **values} for row_id, values in outcomes.items()])
        return
    rows = list(outcomes.items())
    db.session.execute(
        _UNNEST_OUTCOMES,
        {
            "ids": [row_id for row_id, _ in rows],
            "statuses": [v["status"] for _, v in rows],
            "push_sent": [v["push_sent"] for _, v in rows],
            "push_done": [json.dumps(v["push_done"], separators=(",", ":")) for _, v in rows],
            "last_errors": [v["last_error"] for _, v in rows],
            "next_attempts": [v["next_attempt_at"] for _, v in rows],
            "sent_ats": [v["sent_at"] for _, v in rows],
        },
    )


def _values(row, *, status: str, done: set, last_error, push_sent=None, next_attempt_at=None, sent_at=None) -> dict:
    return {
        "status": status,
        "push_sent": row.push_sent if push_sent is None else push_sent,
        "push_done": sorted(done),
        "last_error": last_error,
        "next_attempt_at": next_attempt_at,
        "sent_at": sent_at,
    }


def _messages(row, devices) -> list[tuple]:
    """One message per device, in its language (English where the device asked for it and a template exists).
    Raises ValueError for a payload FCM would refuse for every device."""
    if not devices:
        return []  # inbox only: nothing FCM could refuse
    data = {**(row.data or {}), "type": row.type, "notification_id": row.id}
    check_payload(row.title, row.body, data)
    check_priority(row.priority)
    template = TEMPLATES.get(row.type)
    english = None
    messages = []
    for device in devices:
        title, body = row.title, row.body
        if device.locale == "en" and template:
            if english is None:
                english = template.render(row.data or {}, "en")
                check_payload(*english, data)
            title, body = english
        messages.append(
            (device, PushMessage(device.token, title, body, data, collapse_key=row.collapse_key, priority=row.priority))
        )
    return messages


def _send_paced(messages: list[PushMessage]) -> list:
    """Send in chunks of the sender's batch, each taking its share of the FCM quota first."""
    sender = push_sender()
    quota = app_quota()
    results = []
    step = MAX_TOKENS_PER_SEND
    for start in range(0, len(messages), step):
        chunk = messages[start : start + step]
        quota.acquire(len(chunk))
        results.extend(sender.send_batch(chunk))
    return results


def _not_claimed(notification_id: str, now) -> DeliveryResult:
    """Why the claim did not match: finished, backing off, held by a live worker, or left by a dead one."""
    row = db.session.execute(
        select(Notification.status, Notification.claimed_at, Notification.next_attempt_at).where(
            Notification.id == notification_id
        )
    ).first()
    if row is None or row.status not in ("created", "sending"):
        return DeliveryResult("skipped")
    if row.status == "created":
        # FCM asked for a longer wait (Retry-After) than rq's interval: the sweeper enqueues it when due.
        return DeliveryResult("waiting")
    lease_start = now - _lease()
    if row.claimed_at and row.claimed_at > lease_start:
        return DeliveryResult("busy")  # another worker holds it
    resolved = db.session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id, Notification.status == "sending", Notification.claimed_at < lease_start
        )
        .values(
            status="sent",
            sent_at=now,
            last_error="unconfirmed: worker stopped during the FCM call; not resent to avoid a duplicate",
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not resolved:
        return DeliveryResult("busy")
    log.warning("notification outcome unconfirmed after a worker died", extra={"notification_id": notification_id})
    return DeliveryResult("unconfirmed")


# Area broadcasts


def send_broadcast(broadcast_id: str) -> DeliveryResult:
    now = utcnow()
    lease_start = now - _lease()
    row = db.session.get(Broadcast, broadcast_id)
    if row is None or row.status not in ("created", "sending"):
        return DeliveryResult("skipped")
    claimed = db.session.execute(
        update(Broadcast)
        .where(
            Broadcast.id == broadcast_id,
            or_(Broadcast.status == "created", and_(Broadcast.status == "sending", Broadcast.claimed_at < lease_start)),
        )
        .values(status="sending", claimed_at=now, attempts=Broadcast.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not claimed:
        return DeliveryResult("busy")
    row = db.session.get(Broadcast, broadcast_id)
    data = {"type": EMERGENCY, "broadcast_id": row.id, "area_code": row.area_code}
    try:
        result = push_sender().send_to_topic(
            topic_for(row.area_code), title=row.title, body=row.body, data=data, priority="high"
        )
    except ValueError as exc:
        row.status, row.last_error = "failed", f"payload: {exc}"[:300]
        db.session.commit()
        return DeliveryResult("failed")
    metrics.count_push("topic", Counter([result.outcome.value]))
    if result.outcome is PushOutcome.SENT:
        row.status, row.message_id, row.sent_at, row.last_error = "sent", result.message_id, utcnow(), None
        row.next_attempt_at = None
        db.session.commit()
        return DeliveryResult("sent")
    row.last_error = f"{result.error_code}: {result.error_message or ''}"[:300]
    if result.outcome is PushOutcome.RETRYABLE and row.attempts < setting("NOTIFY_MAX_ATTEMPTS"):
        delay = _backoff(row.attempts, result.retry_after)
        row.status, row.next_attempt_at = "created", utcnow() + timedelta(seconds=delay)
        db.session.commit()
        return DeliveryResult("retry", delay)
    row.status = "failed"
    db.session.commit()
    return DeliveryResult("failed")


# Topic subscriptions


def sync_topics(device_id: str) -> str:
    """Make FCM's topic subscriptions for one device match its owner's home area (none once removed)."""
    device = db.session.get(Device, device_id)
    if device is None:
        return "gone"
    user = db.session.get(User, device.user_id)
    removing = device.removed_at is not None or user is None or user.status != "active"
    home = None if removing else home_area_for_alerts(user)  # None once the owner objected (UU PDP): city-wide only
    wanted = [] if removing else topics_for_home(home)
    owner, token, was_removed = device.user_id, device.token, device.removed_at is not None
    current = list(device.topics or [])
    db.session.commit()  # no transaction held open across the HTTP calls below

    sender = push_sender()
    failed = False
    for topic in [t for t in wanted if t not in current]:
        if sender.subscribe([token], topic):
            failed = True
        else:
            current.append(topic)
    for topic in [t for t in current if t not in wanted]:
        if sender.unsubscribe([token], topic):
            failed = True
        else:
            current.remove(topic)

    current = [t for t in wanted if t in current] + [t for t in current if t not in wanted]
    device = db.session.get(Device, device_id)
    if device is None:
        return "gone"
    device.topics = current
    # Re-registered by someone else or removed meanwhile: their own sync job follows; do not mark this one done.
    still_same = device.user_id == owner and (device.removed_at is not None) == was_removed
    if device.removed_at is not None and not current:
        db.session.delete(device)
        db.session.commit()
        return "deleted"
    if failed:
        device.topic_sync_failures = (device.topic_sync_failures or 0) + 1
        device.topics_synced_at = None
    elif still_same and not removing:
        latest_home = home_area_for_alerts(db.session.get(User, owner))
        if latest_home == home:
            device.topics_area_code, device.topics_synced_at, device.topic_sync_failures = home, utcnow(), 0
    db.session.commit()
    return "failed" if failed else "synced"


# Sweeper


@dataclass
class Leftovers:
    """What a crash or an outage left behind, for tasks.sweep to enqueue again."""

    counts: Counter
    notification_ids: list[str]
    broadcast_ids: list[str]
    device_ids: list[str]


def find_leftovers() -> Leftovers:
    """Fail rows out of attempts, delete long-removed devices, and list what needs a new job; bounded per run."""
    now = utcnow()
    lease_start = now - _lease()
    grace_start = now - timedelta(seconds=setting("NOTIFY_SWEEP_GRACE_SECONDS"))
    batch = setting("NOTIFY_SWEEP_BATCH")
    max_attempts = setting("NOTIFY_MAX_ATTEMPTS")
    counts: Counter = Counter()
    found: dict = {}

    for model, prefix in ((Notification, "notify"), (Broadcast, "broadcast")):
        exhausted = [and_(model.status == "created", model.created_at < grace_start)]
        if model is Broadcast:
            # A dead worker's targeted send may have reached FCM: its job marks it unconfirmed, not this.
            exhausted.append(and_(model.status == "sending", model.claimed_at < lease_start))
        gave_up = db.session.execute(
            update(model)
            .where(model.attempts >= max_attempts, or_(*exhausted))
            .values(status="failed", last_error=f"gave up after {max_attempts} attempts")
            .execution_options(synchronize_session=False)
        ).rowcount
        counts[f"{prefix}_gave_up"] += gave_up
        found[model] = db.session.scalars(
            select(model.id)
            .where(
                or_(
                    and_(model.status == "sending", model.claimed_at < lease_start),
                    and_(
                        model.status == "created",
                        model.created_at < grace_start,
                        or_(model.next_attempt_at.is_(None), model.next_attempt_at <= now),
                    ),
                )
            )
            .order_by(model.created_at)
            .limit(batch)
        ).all()
        db.session.commit()

    # Removed a day ago and still not unsubscribed: the token is most likely dead; stop trying.
    stale_removed = db.session.execute(
        delete(Device).where(Device.removed_at < now - timedelta(days=1)).execution_options(synchronize_session=False)
    ).rowcount
    counts["devices_deleted"] += stale_removed
    device_ids = db.session.scalars(
        select(Device.id)
        .where(
            Device.topics_synced_at.is_(None), Device.topic_sync_failures < setting("NOTIFY_TOPIC_SYNC_MAX_FAILURES")
        )
        .order_by(Device.last_seen_at)
        .limit(batch)
    ).all()
    db.session.commit()
    return Leftovers(counts, list(found[Notification]), list(found[Broadcast]), list(device_ids))
