"""Many relays at once over committed events: every (event, recipient) becomes exactly one row and one job."""

import threading
from collections import Counter

from sqlalchemy import func, select

from jaki.events import OutboxEvent, record_event
from jaki.extensions import db
from jaki.notifications import tasks
from jaki.notifications.models import Notification


def test_concurrent_relays_share_the_backlog_without_duplicates(app, committed, monkeypatch, notify_config):
    notify_config(NOTIFY_RELAY_ON_COMMIT=False, NOTIFY_RELAY_BATCH=10)
    enqueued: Counter = Counter()
    lock = threading.Lock()

    def record(notification_ids):
        with lock:
            enqueued.update(notification_ids)
        return True

    monkeypatch.setattr(tasks, "enqueue_deliveries", record)
    users = [committed.user() for _ in range(3)]
    for n in range(120):
        record_event(
            db.session,
            "report.status_changed",
            "report",
            f"rep-{n}",
            {"recipients": [u.id for u in users], "data": {"public_status": "proses"}},
        )
    db.session.commit()
    event_ids = db.session.scalars(select(OutboxEvent.id).where(OutboxEvent.id >= committed.first_event_id)).all()
    assert len(event_ids) == 120

    errors = []
    barrier = threading.Barrier(6)

    def run_relay():
        with app.app_context():
            try:
                barrier.wait()
                tasks.relay_outbox(max_batches=20)  # each drains what it can, beside the others
            except Exception as exc:  # noqa: BLE001 - reported below with the thread's failure
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run_relay) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []

    db.session.rollback()  # a new snapshot: SQLite readers keep the one their transaction began with
    pairs = db.session.execute(
        select(Notification.event_id, Notification.recipient_id, Notification.id).where(
            Notification.event_id.in_(event_ids)
        )
    ).all()
    assert len(pairs) == 360 and len({(e, r) for e, r, _ in pairs}) == 360
    assert set(enqueued) == {p.id for p in pairs} and set(enqueued.values()) == {1}
    pending = db.session.scalar(
        select(func.count())
        .select_from(OutboxEvent)
        .where(OutboxEvent.id.in_(event_ids), OutboxEvent.relayed_at.is_(None))
    )
    assert pending == 0
