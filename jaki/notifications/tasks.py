"""Background jobs of the notifications package: each takes ids only, reloads its row and checks its state."""

from __future__ import annotations

from jaki.notifications import delivery, relay
from jaki.notifications.settings import jobs_inline


class DeliveryDeferred(Exception):
    """The row went back to "created" after a retryable FCM answer; rq retries the job with backoff."""


def deliver_notification(notification_id: str) -> str:
    result = delivery.deliver_notification(notification_id)
    if result.outcome == "retry" and not jobs_inline():
        raise DeliveryDeferred(f"retry in {result.retry_in:.0f}s")
    return result.outcome


def deliver_broadcast(broadcast_id: str) -> str:
    result = delivery.deliver_broadcast(broadcast_id)
    if result.outcome == "retry" and not jobs_inline():
        raise DeliveryDeferred(f"retry in {result.retry_in:.0f}s")
    return result.outcome


def sync_device_topics(device_id: str) -> str:
    return delivery.sync_device_topics(device_id)


def resync_user_devices(user_id: str) -> int:
    """The owner's home kelurahan changed: every device follows the new area's topics."""
    from sqlalchemy import select

    from jaki.extensions import db
    from jaki.notifications.models import Device

    device_ids = db.session.scalars(select(Device.id).where(Device.user_id == user_id)).all()
    db.session.commit()
    for device_id in device_ids:
        delivery.enqueue_topic_sync(device_id)
    return len(device_ids)


def relay_outbox() -> int:
    return relay.relay_outbox()


def sweep() -> dict:
    return delivery.sweep()
