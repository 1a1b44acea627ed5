"""Delivery through real firebase-admin to the local FCM stub: outcomes per token, retries, claims, crashes."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from jaki.auth.models import RecordedMessage
from jaki.db import utcnow
from jaki.extensions import db
from jaki.notifications import delivery, tasks
from jaki.notifications.models import Device, Notification
from tests.factories import make_user
from tests.notifications.conftest import target


def _device(user, token, locale="id"):
    device = Device(
        user_id=user.id, token=token, platform="android", locale=locale, topics=[], topics_synced_at=utcnow()
    )
    db.session.add(device)
    db.session.flush()
    return device


def _notification(user, **fields):
    values = {
        "recipient_id": user.id,
        "type": "report.status_changed",
        "title": "Status laporan diperbarui",
        "body": "Laporan JKT-7 kini berstatus Proses.",
        "data": {"ref": "JKT-7", "status": "proses"},
        "collapse_key": "report-rep-7",
        "status": "created",
        **fields,
    }
    row = Notification(**values)
    db.session.add(row)
    db.session.commit()
    return row


def _row(row_id) -> Notification:
    db.session.expire_all()
    return db.session.get(Notification, row_id)


def _due_now(row_id):
    """Time passes: the back-off the row asked for is over."""
    db.session.get(Notification, row_id).next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


def _tokens(user):
    db.session.expire_all()
    return sorted(db.session.scalars(select(Device.token).where(Device.user_id == user.id)))


def test_each_fcm_answer_has_its_consequence(ctx, stub, fcm, notify_config):
    notify_config(NOTIFY_MAX_ATTEMPTS=3, NOTIFY_RETRY_INTERVALS=(0,))
    user = make_user()
    for token in ("good-1", "unregistered-1", "mismatch-1", "quota-1"):
        _device(user, token)
    _device(user, "good-en-2", locale="en")
    row = _notification(user)

    first = delivery.send_notification(row.id)

    # 404 UNREGISTERED and 403 SENDER_ID_MISMATCH: the token is dead and deleted; 429: retried later.
    assert first.outcome == "retry" and first.retry_in == 1.0  # the stub's Retry-After
    assert _tokens(user) == ["good-1", "good-en-2", "quota-1"]
    row = _row(row.id)
    assert (row.status, row.attempts, row.push_sent) == ("created", 1, 2)
    assert "QUOTA_EXCEEDED x1" in row.last_error and row.next_attempt_at > utcnow()
    sent = {target(m): m for m in stub.messages}
    assert set(sent) == {"good-1", "good-en-2"}
    assert sent["good-1"]["notification"] == {
        "title": "Status laporan diperbarui",
        "body": "Laporan JKT-7 kini berstatus Proses.",
    }
    assert sent["good-en-2"]["notification"]["title"] == "Report status updated"
    assert sent["good-1"]["data"] == {
        "ref": "JKT-7",
        "status": "proses",
        "type": "report.status_changed",
        "notification_id": row.id,
    }
    assert sent["good-1"]["android"]["collapse_key"] == "report-rep-7"

    # Not before the Retry-After FCM asked for (say it had said ten minutes)...
    db.session.get(Notification, row.id).next_attempt_at = utcnow() + timedelta(minutes=10)
    db.session.commit()
    assert delivery.send_notification(row.id).outcome == "waiting"
    # ... then only to the devices that have not had it.
    _due_now(row.id)
    assert delivery.send_notification(row.id).outcome == "retry"
    _due_now(row.id)
    assert delivery.send_notification(row.id).outcome == "sent"  # attempts exhausted: sent to 2 of 3
    row = _row(row.id)
    assert (row.status, row.attempts, row.push_sent) == ("sent", 3, 2)
    assert "QUOTA_EXCEEDED" in row.last_error and "gave_up_after_attempts" in row.last_error
    attempts = stub.attempts
    assert (attempts["good-1"], attempts["good-en-2"], attempts["quota-1"]) == (1, 1, 3)
    assert attempts["unregistered-1"] == 1 and attempts["mismatch-1"] == 1


def test_503_is_retried_with_backoff_then_sent_once(ctx, stub, fcm):
    user = make_user()
    _device(user, "device-1")
    row = _notification(user)
    stub.fail_next(2, 503)  # firebase-admin's one quick retry is spent too

    result = delivery.send_notification(row.id)
    assert result.outcome == "retry" and result.retry_in == 10  # first interval of NOTIFY_RETRY_INTERVALS
    row = _row(row.id)
    assert row.status == "created" and row.last_error == "UNAVAILABLE x1" and row.push_sent == 0
    assert stub.messages == []

    _due_now(row.id)
    assert delivery.send_notification(row.id).outcome == "sent"
    row = _row(row.id)
    assert (row.status, row.attempts, row.push_sent, row.last_error) == ("sent", 2, 1, None)
    assert row.sent_at is not None and len(stub.messages) == 1


def test_a_job_run_twice_sends_once(ctx, stub, fcm):
    user = make_user()
    _device(user, "device-1")
    row = _notification(user)
    assert tasks.deliver_notification(row.id) == "sent"
    assert tasks.deliver_notification(row.id) == "skipped"
    assert len(stub.messages) == 1 and stub.attempts["device-1"] == 1


def test_a_row_claimed_by_a_live_worker_is_left_alone(ctx, stub, fcm):
    user = make_user()
    _device(user, "device-1")
    row = _notification(user, status="sending", claimed_at=utcnow(), attempts=1)
    assert delivery.send_notification(row.id).outcome == "busy"
    assert stub.requests_count == 0


def test_a_send_cut_off_by_a_dead_worker_is_not_repeated(ctx, stub, fcm, notify_config):
    notify_config(NOTIFY_SENDING_LEASE_SECONDS=60)
    user = make_user()
    _device(user, "device-1")
    # Claimed five minutes ago by a worker that died: FCM may have delivered it; a second push would duplicate.
    row = _notification(user, status="sending", claimed_at=utcnow() - timedelta(minutes=5), attempts=1)
    assert delivery.send_notification(row.id).outcome == "unconfirmed"
    row = _row(row.id)
    assert row.status == "sent" and row.last_error.startswith("unconfirmed")
    assert stub.requests_count == 0
    assert delivery.send_notification(row.id).outcome == "skipped"


def test_no_device_means_inbox_only(ctx, stub, fcm):
    row = _notification(make_user())
    assert delivery.send_notification(row.id).outcome == "sent"
    row = _row(row.id)
    assert (row.status, row.push_sent, row.last_error) == ("sent", 0, None)
    assert stub.requests_count == 0


def test_only_dead_tokens_is_a_recorded_failure(ctx, stub, fcm):
    user = make_user()
    _device(user, "unregistered-9")
    _device(user, "invalid-9")
    row = _notification(user)
    assert delivery.send_notification(row.id).outcome == "failed"
    row = _row(row.id)
    assert row.status == "failed" and "UNREGISTERED x1" in row.last_error and "INVALID_ARGUMENT x1" in row.last_error
    assert _tokens(user) == []


def test_removed_devices_are_not_sent_to(ctx, stub, fcm):
    user = make_user()
    _device(user, "kept-1")
    _device(user, "removed-1").removed_at = utcnow()
    row = _notification(user)
    delivery.send_notification(row.id)
    assert [target(m) for m in stub.messages] == ["kept-1"]


def test_muted_and_finished_rows_are_never_sent(ctx, stub, fcm):
    user = make_user()
    _device(user, "device-1")
    for status in ("muted", "sent", "failed"):
        row = _notification(user, status=status)
        assert delivery.send_notification(row.id).outcome == "skipped"
    assert delivery.send_notification("no-such-row").outcome == "skipped"
    assert stub.requests_count == 0


def test_a_payload_fcm_would_refuse_fails_the_row_without_retrying(ctx, stub, fcm):
    user = make_user()
    _device(user, "device-1")
    row = _notification(user, body="x" * 1000, title="y" * 200, data={f"k{n}": "v" * 100 for n in range(30)})
    assert delivery.send_notification(row.id).outcome == "failed"
    assert _row(row.id).last_error.startswith("payload:") and stub.requests_count == 0


def test_the_embedded_default_records_pushes_in_the_database(app, ctx, monkeypatch):
    monkeypatch.delitem(app.extensions, "jaki.push_sender", raising=False)
    user = make_user()
    _device(user, "recorded-device-1")
    row = _notification(user)
    assert delivery.send_notification(row.id).outcome == "sent"
    recorded = db.session.scalars(
        select(RecordedMessage).where(
            RecordedMessage.channel == "push", RecordedMessage.recipient == "recorded-device-1"
        )
    ).one()
    body = json.loads(recorded.body)
    assert body["title"] == "Status laporan diperbarui" and body["data"]["notification_id"] == row.id


def test_rq_is_asked_to_retry_when_a_send_must_be_repeated(app, ctx, stub, fcm, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "rq")
    user = make_user()
    _device(user, "quota-7")
    row = _notification(user)
    with pytest.raises(tasks.DeliveryDeferred):
        tasks.deliver_notification(row.id)
    assert _row(row.id).status == "created"


def test_logs_never_carry_tokens_titles_or_bodies(ctx, stub, fcm, caplog):
    import logging

    user = make_user()
    for token in ("secret-token-good-1", "unregistered-secret-token-2", "quota-secret-token-3"):
        _device(user, token)
    row = _notification(user, body="Laporan rahasia sekali", data={"ref": "JKT-7"})
    with caplog.at_level(logging.DEBUG):
        delivery.send_notification(row.id)
        tasks.sweep()
    assert caplog.records
    for record in caplog.records:
        text = f"{record.getMessage()} {record.__dict__}"
        assert "secret-token" not in text and "rahasia" not in text
