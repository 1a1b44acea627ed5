"""A citizen changes a consent choice: recorded, and an objection to area alerts resyncs their devices' push topics
at once. Above jaki.notifications.delivery (which enqueues the resync); what the choices are is jaki.pdp.consent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from jaki.db import utcnow
from jaki.extensions import db
from jaki.notifications.models import Device
from jaki.notifications.tasks import enqueue_topic_sync
from jaki.pdp.consent import AREA_ALERTS, PURPOSES, choices
from jaki.pdp.models import ConsentChoice
from jaki.settings import setting


def change(user, changes: dict[str, bool]) -> dict[str, dict]:
    """Record the choices; an objection must take effect by now + PDP_OBJECTION_HOURS (3 x 24 h), and does at
    once here: the device topics are resynced by a job (and the sweeper, should the job be lost)."""
    now = utcnow()
    resync = False
    for purpose, granted in changes.items():
        row = db.session.get(ConsentChoice, (user.id, purpose))
        if row is None:
            if granted == PURPOSES[purpose]:
                continue  # the default already
            row = ConsentChoice(user_id=user.id, purpose=purpose)
            db.session.add(row)
        elif row.granted == granted:
            continue
        row.granted, row.changed_at = granted, now
        row.effective_by = None if granted else now + timedelta(hours=setting("PDP_OBJECTION_HOURS"))
        row.applied_at = None
        resync = resync or purpose == AREA_ALERTS
    if resync:
        _mark_devices(user.id)
    db.session.commit()
    if resync:
        _resync_devices(user.id)
    return choices(user)


def _mark_devices(user_id: str) -> None:
    db.session.execute(
        update(Device).where(Device.user_id == user_id, Device.removed_at.is_(None)).values(topics_synced_at=None)
    )


def _resync_devices(user_id: str) -> None:
    for device_id in db.session.scalars(
        select(Device.id).where(Device.user_id == user_id, Device.removed_at.is_(None))
    ):
        enqueue_topic_sync(device_id)
