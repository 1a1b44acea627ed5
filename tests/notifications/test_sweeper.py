"""The sweeper: what crashes and outages leave behind is enqueued again, bounded, never twice while queued."""

from datetime import timedelta

import pytest

from jaki import jobs
from jaki.db import utcnow
from jaki.extensions import db
from jaki.notifications import tasks
from jaki.notifications.models import Broadcast, Device, Notification
from tests.factories import make_user


@pytest.fixture
def enqueued(monkeypatch):
    calls = []

    def record(func, *args, **options):
        calls.append((func.__name__, args[0], options.get("job_id")))
        return True

    monkeypatch.setattr(tasks, "enqueue_safely", record)
    return calls


def _notification(user, *, status="created", age=timedelta(minutes=10), **fields):
    row = Notification(
        recipient_id=user.id,
        type="report.created",
        title="Laporan diterima",
        body="b",
        data={},
        status=status,
        created_at=utcnow() - age,
        **fields,
    )
    db.session.add(row)
    db.session.flush()
    return row


def test_orphans_and_dead_claims_are_requeued(ctx, enqueued, notify_config):
    notify_config(NOTIFY_SWEEP_GRACE_SECONDS=60, NOTIFY_SENDING_LEASE_SECONDS=120)
    user = make_user()
    orphan = _notification(user)  # its job was lost (Redis down at enqueue time)
    _notification(user, age=timedelta(seconds=5))  # just created: its job is surely still queued
    waiting = _notification(user, next_attempt_at=utcnow() + timedelta(minutes=5))  # backing off
    dead_claim = _notification(user, status="sending", claimed_at=utcnow() - timedelta(minutes=5), attempts=1)
    _notification(user, status="sending", claimed_at=utcnow(), attempts=1)  # a live worker has it
    for status in ("sent", "failed", "muted"):
        _notification(user, status=status)
    broadcast = Broadcast(
        area_code="31", title="t", body="b", status="created", created_at=utcnow() - timedelta(minutes=10)
    )
    db.session.add(broadcast)
    db.session.commit()

    counts = tasks.sweep()

    assert sorted(enqueued) == sorted(
        [
            ("deliver_notification", orphan.id, f"notify-{orphan.id}"),
            ("deliver_notification", dead_claim.id, f"notify-{dead_claim.id}"),
            ("deliver_broadcast", broadcast.id, f"broadcast-{broadcast.id}"),
        ]
    )
    assert counts["notify_requeued"] == 2 and counts["broadcast_requeued"] == 1
    assert waiting.id not in {c[1] for c in enqueued}


def test_rows_out_of_attempts_are_failed_not_requeued(ctx, enqueued, notify_config):
    notify_config(NOTIFY_MAX_ATTEMPTS=3, NOTIFY_SWEEP_GRACE_SECONDS=60)
    row = _notification(make_user(), attempts=3)
    db.session.commit()
    assert tasks.sweep()["notify_gave_up"] == 1
    db.session.expire_all()
    assert db.session.get(Notification, row.id).status == "failed" and enqueued == []


def test_topic_syncs_are_retried_and_old_removed_devices_deleted(ctx, enqueued, notify_config):
    notify_config(NOTIFY_TOPIC_SYNC_MAX_FAILURES=3)
    user = make_user()
    needs_sync = Device(user_id=user.id, token="token-needs-sync", platform="ios", topics=[])
    hopeless = Device(user_id=user.id, token="token-hopeless", platform="ios", topics=[], topic_sync_failures=3)
    synced = Device(
        user_id=user.id, token="token-synced", platform="ios", topics=["area-31"], topics_synced_at=utcnow()
    )
    long_gone = Device(
        user_id=user.id, token="token-gone", platform="ios", topics=["area-31"], removed_at=utcnow() - timedelta(days=2)
    )
    db.session.add_all([needs_sync, hopeless, synced, long_gone])
    db.session.commit()
    needs_sync_id, long_gone_id = needs_sync.id, long_gone.id

    counts = tasks.sweep()

    assert enqueued == [("sync_device_topics", needs_sync_id, f"topics-{needs_sync_id}")]
    assert counts["devices_deleted"] == 1
    db.session.expire_all()
    assert db.session.get(Device, long_gone_id) is None


def test_the_sweeper_task_delivers_on_the_embedded_default(app, ctx, recorder, monkeypatch, notify_config):
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "inline")
    notify_config(NOTIFY_SWEEP_GRACE_SECONDS=0)
    user = make_user()
    db.session.add(Device(user_id=user.id, token="device-1", platform="android", topics=[], topics_synced_at=utcnow()))
    row = _notification(user)
    db.session.commit()
    tasks.sweep()
    db.session.expire_all()
    assert db.session.get(Notification, row.id).status == "sent"
    assert [m["target"] for m in recorder.sent] == ["device-1"]


@pytest.mark.redis
def test_a_job_still_queued_is_not_enqueued_again(app, ctx, monkeypatch, notify_config):
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "rq")
    notify_config(NOTIFY_SWEEP_GRACE_SECONDS=60)
    row = _notification(make_user())
    db.session.commit()
    queue = jobs.get_queue(jobs.Queues.NOTIFY)

    tasks.sweep()
    tasks.sweep()
    assert queue.job_ids == [f"notify-{row.id}"]
    job = queue.fetch_job(f"notify-{row.id}")
    assert job.retries_left == 4 and job.args[0] == "jaki.notifications.tasks.deliver_notification"


def test_operators_can_relay_and_sweep_by_hand(app, ctx, recorder, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "inline")
    runner = app.test_cli_runner()
    relayed = runner.invoke(args=["notifications", "relay"])
    assert relayed.exit_code == 0 and relayed.output.startswith("relayed ")
    swept = runner.invoke(args=["notifications", "sweep"])
    assert swept.exit_code == 0 and "notify_gave_up=0" in swept.output
