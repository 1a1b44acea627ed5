"""Through real rq workers on Redis: the outbox to FCM end to end, retries with backoff by rq's scheduler."""

import time

import pytest
from rq import SimpleWorker

from jaki import jobs
from jaki.extensions import db
from jaki.notifications import tasks
from jaki.notifications.models import Notification
from jaki.schedule import SCHEDULE
from tests.notifications.conftest import target, wait_for


def test_jobs_go_to_the_queues_named_in_one_place(app, ctx, monkeypatch):
    """Delivery on the push queue, relay and topic sync on the default one; all of them in Queues.ALL."""
    seen = []
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "rq")
    monkeypatch.setattr(jobs, "enqueue", lambda func, *args, queue, **options: seen.append((func, queue)))
    tasks.enqueue_delivery("n-1")
    tasks.enqueue_broadcast("b-1")
    tasks.enqueue_topic_sync("d-1")
    assert seen == [
        (tasks.deliver_notification, jobs.Queues.NOTIFY),
        (tasks.deliver_broadcast, jobs.Queues.NOTIFY),
        (tasks.sync_device_topics, jobs.Queues.DEFAULT),
    ]
    assert {task.queue for task in SCHEDULE} <= set(jobs.Queues.ALL)


def _work(app, until, timeout=20.0):
    """Burst workers (with the scheduler, which moves due retries back to the queue) until `until()` holds."""
    redis = app.extensions["jaki.redis"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        SimpleWorker(list(jobs.Queues.ALL), connection=redis).work(burst=True, with_scheduler=True)
        db.session.rollback()
        if until():
            return
        time.sleep(0.3)
    raise AssertionError("workers did not get there in time")


@pytest.mark.redis
def test_a_503_is_retried_by_rq_with_backoff_and_sent_once(app, committed, stub, fcm, notify_config):
    notify_config(NOTIFY_RETRY_INTERVALS=(1,))
    user = committed.user()
    committed.device(user, "device-retry")
    row = Notification(recipient_id=user.id, type="report.created", title="Laporan diterima", body="b", data={})
    db.session.add(row)
    db.session.commit()
    row_id = row.id
    stub.fail_next(2, 503)

    assert tasks.enqueue_delivery(row_id)
    _work(app, lambda: db.session.get(Notification, row_id).status == "sent")

    row = db.session.get(Notification, row_id)
    assert (row.attempts, row.push_sent) == (2, 1)
    assert [target(m) for m in stub.messages] == ["device-retry"]


@pytest.mark.redis
def test_committed_events_flow_to_devices_through_one_relay_job(app, committed, stub, fcm):
    reporter, supporter = committed.user(), committed.user()
    committed.device(reporter, "device-reporter")
    committed.device(supporter, "device-supporter-id")
    committed.device(supporter, "device-supporter-en", locale="en")
    for n in range(3):
        committed.event(
            "report.status_changed", [reporter.id, supporter.id], {"public_status": "proses"}, aggregate_id=f"rep-{n}"
        )
    # Three commits, one pending relay job: the kick is coalesced.
    assert jobs.get_queue(jobs.Queues.DEFAULT).count == 1

    _work(app, lambda: len(stub.messages) == 9)

    db.session.rollback()
    rows = db.session.query(Notification).filter(Notification.recipient_id.in_([reporter.id, supporter.id])).all()
    assert len(rows) == 6 and {r.status for r in rows} == {"sent"}
    by_device = {}
    for message in stub.messages:
        by_device.setdefault(target(message), []).append(message["notification"]["title"])
    assert by_device == {
        "device-reporter": ["Status laporan diperbarui"] * 3,
        "device-supporter-id": ["Status laporan diperbarui"] * 3,
        "device-supporter-en": ["Report status updated"] * 3,
    }
    wait_for(lambda: jobs.get_queue(jobs.Queues.NOTIFY).count == 0)
