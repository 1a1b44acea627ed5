"""Background jobs of the notifications package, and the only module of it that enqueues.

Each job takes ids only, reloads its rows and checks their state: relay.py turns outbox events into rows,
delivery.py sends rows, and this module decides what runs next (enqueue after the commit, retry, sweep).
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter

from flask import current_app
from redis.exceptions import RedisError
from rq.job import Job
from sqlalchemy import select

from jaki import jobs
from jaki.extensions import db
from jaki.jobs import Queues, enqueue_safely
from jaki.notifications import delivery, relay
from jaki.notifications.models import Device
from jaki.settings import setting

log = logging.getLogger(__name__)

KICK_KEY = "jaki:notify:relay-kick"
_PENDING = {"queued", "scheduled", "deferred"}


class DeliveryDeferred(Exception):
    """The row went back to "created" after a retryable FCM answer; rq retries the job with backoff."""


def jobs_inline() -> bool:
    return current_app.config.get("JOBS_BACKEND") == "inline"


# Enqueueing


def _delivery_options() -> dict:
    max_attempts = setting("NOTIFY_MAX_ATTEMPTS")
    return {
        "queue": Queues.NOTIFY,
        "retries": max(max_attempts - 1, 0),
        "retry_intervals": tuple(setting("NOTIFY_RETRY_INTERVALS")),
        "timeout": 60,
    }


def enqueue_delivery(notification_id: str) -> bool:
    return enqueue_safely(
        deliver_notification, notification_id, job_id=f"notify-{notification_id}", **_delivery_options()
    )


def enqueue_deliveries(notification_ids: list[str]) -> bool:
    """Batches of NOTIFY_DELIVERY_BATCH rows, one job each (a row is in one relay batch, so its id names the job).
    False as soon as one cannot be enqueued: the rest wait in "created" for the sweeper."""
    size = setting("NOTIFY_DELIVERY_BATCH")
    for start in range(0, len(notification_ids), size):
        batch = list(notification_ids[start : start + size])
        if not enqueue_safely(deliver_notifications, batch, job_id=f"notify-batch-{batch[0]}", **_delivery_options()):
            return False
    return True


def enqueue_broadcast(broadcast_id: str) -> bool:
    return enqueue_safely(deliver_broadcast, broadcast_id, job_id=f"broadcast-{broadcast_id}", **_delivery_options())


def enqueue_topic_sync(device_id: str) -> bool:
    return enqueue_safely(sync_device_topics, device_id, queue=Queues.DEFAULT, job_id=f"topics-{device_id}", retries=0)


def enqueue_unless_pending(func, *args, job_id: str, **options) -> bool:
    """Re-enqueue (sweeper) unless rq already holds a job for it that has yet to run."""
    if not jobs_inline():
        try:
            status = current_app.extensions["jaki.redis"].hget(Job.key_for(job_id), "status")
        except RedisError as exc:
            log.warning("sweeper cannot reach Redis", extra={"error": type(exc).__name__})
            return False
        if status is not None and status.decode() in _PENDING:
            return False
    return enqueue_safely(func, *args, job_id=job_id, **options)


# Jobs


def deliver_notification(notification_id: str) -> str:
    result = delivery.send_notification(notification_id)
    if result.outcome == "retry" and not jobs_inline():
        raise DeliveryDeferred(f"retry in {result.retry_in:.0f}s")
    return result.outcome


def deliver_notifications(notification_ids: list[str]) -> dict:
    """A batch: rows that must be retried go back to "created" and rq runs the whole job again (the rows
    already finished are skipped by the claim)."""
    results = delivery.send_notifications(notification_ids)
    retries = [r.retry_in for r in results.values() if r.outcome == "retry"]
    if retries and not jobs_inline():
        raise DeliveryDeferred(f"{len(retries)} to retry in {min(retries):.0f}s or more")
    return dict(Counter(r.outcome for r in results.values()))


def deliver_broadcast(broadcast_id: str) -> str:
    result = delivery.send_broadcast(broadcast_id)
    if result.outcome == "retry" and not jobs_inline():
        raise DeliveryDeferred(f"retry in {result.retry_in:.0f}s")
    return result.outcome


def sync_device_topics(device_id: str) -> str:
    return delivery.sync_topics(device_id)


def resync_user_devices(user_id: str) -> int:
    """The owner's home kelurahan changed: every device follows the new area's topics."""
    device_ids = db.session.scalars(select(Device.id).where(Device.user_id == user_id)).all()
    db.session.commit()
    for device_id in device_ids:
        enqueue_topic_sync(device_id)
    return len(device_ids)


def relay_outbox(max_batches: int | None = None) -> int:
    """Relay pending events in bounded batches, enqueueing the delivery of the new rows after each commit.

    With rq, a job relays one batch: when more events wait, the next batch is a new job on the push queue, behind
    the deliveries this batch just enqueued. Workers then alternate relaying and sending. A job that relayed 20
    batches in a row left the deliveries it enqueued to the other workers and, once they had sent them, left those
    workers idle: on a bansos day the rows came in bursts and the workers were idle half the time (py-spy,
    bench/results/notifications_profile.txt). Relays may overlap: each takes its batch with SKIP LOCKED.
    Jobs run in-process (the embedded default) relay up to 20 batches a call, as does an explicit max_batches.
    """
    inline = jobs_inline()
    if not inline:
        # Cleared before reading: an event committed from now on kicks a new relay.
        with contextlib.suppress(RedisError):
            current_app.extensions["jaki.redis"].delete(KICK_KEY)
    size = setting("NOTIFY_RELAY_BATCH")
    total = 0
    for _ in range(max_batches or (20 if inline else 1)):
        count, to_push = relay.relay_batch(size)
        total += count
        enqueue_deliveries(to_push)  # Redis down: the rows wait in "created" for the sweeper
        if count < size:
            return total
    # More waiting: continue in a new job (Redis down: the periodic relay picks the rest up).
    enqueue_safely(relay_outbox, queue=Queues.DEFAULT if inline else Queues.NOTIFY, retries=0)
    return total


def kick_relay() -> None:
    """After a commit that wrote outbox events (hooks.py): relay now instead of at the next periodic run."""
    if not setting("NOTIFY_RELAY_ON_COMMIT"):
        return
    if jobs_inline():
        jobs.enqueue(relay_outbox, queue=Queues.DEFAULT)
        return
    redis = current_app.extensions.get("jaki.redis")
    try:
        # One relay job pending at a time, however many commits kick it.
        if redis is not None and redis.set(KICK_KEY, "1", nx=True, ex=30):
            enqueue_safely(relay_outbox, queue=Queues.DEFAULT, retries=0)
    except RedisError as exc:
        log.warning(
            "relay kick failed; the periodic relay will pick the events up", extra={"error": type(exc).__name__}
        )


def sweep() -> dict:
    """Re-enqueue what a crash or an outage left behind; bounded per run. Safe to run on many machines."""
    leftovers = delivery.find_leftovers()
    counts = leftovers.counts
    for ids, func, prefix in (
        (leftovers.notification_ids, deliver_notification, "notify"),
        (leftovers.broadcast_ids, deliver_broadcast, "broadcast"),
    ):
        for row_id in ids:
            if enqueue_unless_pending(func, row_id, job_id=f"{prefix}-{row_id}", **_delivery_options()):
                counts[f"{prefix}_requeued"] += 1
    for device_id in leftovers.device_ids:
        if enqueue_unless_pending(
            sync_device_topics, device_id, job_id=f"topics-{device_id}", queue=Queues.DEFAULT, retries=0
        ):
            counts["topic_syncs_requeued"] += 1
    return dict(counts)
