"""Outbox relay: events become rows for the right people, once per (event, recipient), with preferences."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from jaki.db import utcnow
from jaki.events import OutboxEvent, record_event
from jaki.extensions import db
from jaki.notifications import relay, tasks
from jaki.notifications.models import Notification
from jaki.notifications.templates import TEMPLATES, clean_data
from tests.factories import auth_header, make_user

EVENT_TYPES = (
    "report.created",
    "report.status_changed",
    "report.assigned",
    "report.comment_added",
    "report.supported",
    "report.sla_breached",
    "permit.status_changed",
    "letter.status_changed",
    "bansos.disbursed",
    "tax.bill_due",
    "permit.sla_breached",
    "letter.sla_breached",
    # Personal data (UU PDP, jaki.pdp)
    "pdp.access.new_agency",
    "pdp.correction.status_changed",
    "pdp.correction.escalated",
    "pdp.breach.notice",
)


@pytest.fixture
def queued(monkeypatch):
    """Delivery jobs the relay asks for (their sending is tested elsewhere)."""
    ids = []
    monkeypatch.setattr(tasks, "enqueue_deliveries", lambda notification_ids: ids.extend(notification_ids) or True)
    return ids


@pytest.fixture
def no_kick(notify_config):
    notify_config(NOTIFY_RELAY_ON_COMMIT=False)


def _rows(event_id=None):
    query = select(Notification).order_by(Notification.recipient_id)
    if event_id is not None:
        query = query.where(Notification.event_id == event_id)
    db.session.expire_all()
    return db.session.scalars(query).all()


def _event(type_, recipients, data=None, aggregate_id="rep-1"):
    event = record_event(db.session, type_, "report", aggregate_id, {"recipients": recipients, "data": data or {}})
    db.session.commit()
    return event


def test_producers_payloads_read_well():
    """The data keys jaki.reports and jaki.services actually write."""
    cases = {
        "report.status_changed": (
            {"public_status": "proses", "status": "in_progress"},
            "Laporan kini berstatus Proses.",
        ),
        "letter.status_changed": (
            {"reference": "SKD-20261123-A1B2C3", "type_code": "SKD", "to_status": "issued"},
            "Permohonan surat SKD-20261123-A1B2C3 kini berstatus Terbit.",
        ),
        "bansos.disbursed": (
            {"programme": "KJP_PLUS", "period": "2026-11"},
            "Bantuan KJP Plus periode 2026-11 telah disalurkan ke rekening Bank DKI Anda.",
        ),
        "tax.bill_due": (
            {"kind": "pbb", "tax_year": 2026, "due_on": "2026-08-31", "days_before": 1},
            "Tagihan pajak PBB-P2 2026 jatuh tempo besok, pada 31 Agustus 2026.",
        ),
        "letter.sla_breached": (
            {"reference": "SKD-20261123-A1B2C3"},
            "Permohonan surat SKD-20261123-A1B2C3 melewati batas waktu layanan.",
        ),
    }
    for type_, (data, body) in cases.items():
        assert TEMPLATES[type_].render(clean_data(data))[1] == body


def test_every_event_type_has_an_indonesian_template():
    assert set(EVENT_TYPES) <= set(TEMPLATES)
    for type_ in EVENT_TYPES:
        title, body = TEMPLATES[type_].render({}, "id")
        assert title and body and "{" not in body
        assert TEMPLATES[type_].render({}, "en") != (title, body)


def test_a_status_change_becomes_one_row_per_recipient(ctx, no_kick, queued):
    reporter, follower = make_user(), make_user()
    event = _event(
        "report.status_changed",
        [reporter.id, follower.id, reporter.id],
        {"report_id": "rep-1", "ref": "JKT-2026-0042", "status": "proses"},
    )

    assert tasks.relay_outbox() == 1
    rows = _rows(event.id)
    assert sorted(r.recipient_id for r in rows) == sorted([reporter.id, follower.id])
    row = rows[0]
    assert row.title == "Status laporan diperbarui"
    assert row.body == "Laporan JKT-2026-0042 kini berstatus Proses."
    assert row.data == {"report_id": "rep-1", "ref": "JKT-2026-0042", "status": "proses"}
    assert row.status == "created" and row.collapse_key == "report-rep-1"
    assert sorted(queued) == sorted(r.id for r in rows)
    db.session.expire_all()
    assert db.session.get(OutboxEvent, event.id).relayed_at is not None


def test_relaying_again_never_duplicates(ctx, no_kick, queued):
    user = make_user()
    event = _event("report.comment_added", [user.id], {"ref": "JKT-1"})
    tasks.relay_outbox()
    # As if a second relay had read the same event before the first one marked it (no row locks on SQLite).
    db.session.get(OutboxEvent, event.id).relayed_at = None
    db.session.commit()
    tasks.relay_outbox()
    assert len(_rows(event.id)) == 1 and len(queued) == 1


def test_the_database_refuses_a_second_row_for_the_same_event_and_recipient(ctx):
    user = make_user()
    for _ in range(2):
        db.session.add(
            Notification(
                recipient_id=user.id,
                event_id=987654,
                type="report.created",
                title="t",
                body="b",
                data={},
                status="created",
            )
        )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_unknown_inactive_and_missing_recipients_are_skipped(ctx, no_kick, queued):
    active, pending = make_user(), make_user(status="pending")
    event = _event("report.supported", [active.id, pending.id, "no-such-user"], {"support_count": 12})
    tasks.relay_outbox()
    rows = _rows(event.id)
    assert [r.recipient_id for r in rows] == [active.id]
    assert rows[0].body == "Laporan kini didukung 12 warga."


def test_bad_events_are_set_aside_without_blocking_the_rest(ctx, no_kick, queued):
    user = make_user()
    unknown = _event("report.exploded", [user.id])
    malformed = record_event(db.session, "report.created", "report", "rep-2", {"recipients": "everyone"})
    db.session.commit()
    good = _event("report.created", [user.id], {"ref": "JKT-9"})

    tasks.relay_outbox()
    db.session.expire_all()
    for event in (unknown, malformed):
        row = db.session.get(OutboxEvent, event.id)
        assert row.relayed_at is not None and row.last_error
        assert _rows(event.id) == []
    assert len(_rows(good.id)) == 1


def test_payload_data_is_cleaned_before_it_reaches_a_lock_screen(ctx, no_kick, queued):
    user = make_user()
    event = _event(
        "bansos.disbursed",
        [user.id],
        {
            "program": "KJP Plus",
            "period": "2026-11",
            "nik": "3174054107900003",
            "phone": "081234567890",
            "nested": {"x": 1},
            "google.c.a": "x",
            "from": "me",
            "amount": 300000,
            "ok": True,
            "long": "x" * 500,
        },
    )
    tasks.relay_outbox()
    row = _rows(event.id)[0]
    assert row.data == {"program": "KJP Plus", "period": "2026-11", "amount": "300000", "ok": "true"}
    assert row.body == "Bantuan KJP Plus periode 2026-11 telah disalurkan ke rekening Bank DKI Anda."
    assert "300000" not in row.body and "300" not in row.title
    assert clean_data(None) == {} and clean_data(["x"]) == {}


def test_muted_types_land_in_the_inbox_without_a_push(client, ctx, no_kick, queued):
    user = make_user()
    response = client.patch(
        "/api/v1/me/notification-preferences",
        json={"preferences": {"report.supported": False}},
        headers=auth_header(user),
    )
    assert response.status_code == 200
    event = _event("report.supported", [user.id], {"support_count": 3})
    tasks.relay_outbox()
    row = _rows(event.id)[0]
    assert row.status == "muted" and queued == []
    inbox = client.get("/api/v1/me/notifications", headers=auth_header(user)).json["items"]
    assert [i["id"] for i in inbox] == [row.id]


def test_preferences_list_and_emergencies_cannot_be_muted(client, ctx):
    user = make_user()
    prefs = client.get("/api/v1/me/notification-preferences", headers=auth_header(user)).json
    by_type = {p["type"]: p for p in prefs}
    assert set(EVENT_TYPES) | {"broadcast.emergency"} == set(by_type)
    assert by_type["broadcast.emergency"]["mutable"] is False and by_type["report.created"]["push"] is True
    assert by_type["tax.bill_due"]["label"] == "Pengingat jatuh tempo pajak"

    refused = client.patch(
        "/api/v1/me/notification-preferences",
        json={"preferences": {"broadcast.emergency": False}},
        headers=auth_header(user),
    )
    assert refused.status_code == 422 and refused.json["code"] == "notification_type_unmutable"
    assert "broadcast.emergency" in refused.json["errors"]
    unknown = client.patch(
        "/api/v1/me/notification-preferences", json={"preferences": {"spam": False}}, headers=auth_header(user)
    )
    assert unknown.status_code == 422 and unknown.json["code"] == "notification_type_unknown"

    english = client.patch(
        "/api/v1/me/notification-preferences",
        json={"preferences": {"tax.bill_due": False}},
        headers={**auth_header(user), "Accept-Language": "en"},
    ).json
    assert {p["type"]: p for p in english}["tax.bill_due"] == {
        "type": "tax.bill_due",
        "label": "Tax due reminders",
        "push": False,
        "mutable": True,
    }


def test_a_commit_with_an_event_relays_at_once(app, ctx, recorder, monkeypatch):
    """On the embedded default the relay and the delivery run in-process right after the commit."""
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "inline")
    user = make_user()
    event = _event("report.assigned", [user.id], {"agency_code": "DBM", "ref": "JKT-5"})
    rows = _rows(event.id)
    assert len(rows) == 1 and rows[0].status == "sent"
    assert rows[0].body == "Laporan JKT-5 ditugaskan kepada Anda (DBM) untuk ditindaklanjuti."


def test_a_rolled_back_event_kicks_nothing(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "inline")
    calls = []
    monkeypatch.setattr(tasks, "relay_outbox", lambda: calls.append(1))
    user = make_user()
    db.session.commit()
    record_event(db.session, "report.created", "report", "rep-x", {"recipients": [user.id], "data": {}})
    db.session.flush()
    db.session.rollback()
    db.session.commit()
    assert calls == []


def test_too_many_recipients_for_one_event_is_refused(ctx, no_kick, queued, notify_config):
    notify_config(NOTIFY_MAX_RECIPIENTS=2)
    users = [make_user() for _ in range(3)]
    event = _event("report.created", [u.id for u in users])
    tasks.relay_outbox()
    db.session.expire_all()
    assert _rows(event.id) == [] and "area broadcast" in db.session.get(OutboxEvent, event.id).last_error


def test_relay_works_in_bounded_batches(ctx, no_kick, queued, notify_config):
    notify_config(NOTIFY_RELAY_BATCH=3)
    user = make_user()
    events = [_event("report.created", [user.id], aggregate_id=f"rep-{n}") for n in range(7)]
    assert tasks.relay_outbox(max_batches=20) == 7
    assert len(queued) == 7
    db.session.expire_all()
    assert all(db.session.get(OutboxEvent, e.id).relayed_at <= utcnow() for e in events)


def test_one_failing_event_does_not_hold_back_the_batch(ctx, no_kick, queued, monkeypatch):
    from sqlalchemy.exc import IntegrityError as DatabaseRefused

    good_user, doomed_user = make_user(), make_user()
    good = _event("report.created", [good_user.id], aggregate_id="rep-good")
    bad = _event("report.created", [doomed_user.id], aggregate_id="rep-bad")
    real_insert = relay._insert_rows

    def refuse_doomed(rows, insert):
        if any(r["recipient_id"] == doomed_user.id for r in rows):  # as if the account vanished meanwhile
            raise DatabaseRefused("INSERT", {}, Exception("foreign key violation"))
        return real_insert(rows, insert)

    monkeypatch.setattr(relay, "_insert_rows", refuse_doomed)
    for attempt in range(1, relay.MAX_EVENT_ATTEMPTS + 1):
        tasks.relay_outbox()
        db.session.expire_all()
        waiting = db.session.get(OutboxEvent, bad.id)
        assert waiting.attempts == attempt and "IntegrityError" in waiting.last_error
        assert (waiting.relayed_at is None) == (attempt < relay.MAX_EVENT_ATTEMPTS)  # then it is set aside
    assert len(_rows(good.id)) == 1 and _rows(bad.id) == []
    assert db.session.get(OutboxEvent, good.id).attempts == 1


@pytest.mark.redis
def test_with_rq_a_job_relays_one_batch_and_queues_the_next_behind_its_deliveries(app, ctx, no_kick, notify_config):
    """Workers alternate relaying and sending: the next batch waits on the push queue behind this one's sends,
    instead of one job relaying every batch while the sends it enqueued wait for other workers."""
    from jaki import jobs

    notify_config(JOBS_BACKEND="rq", NOTIFY_RELAY_BATCH=3, NOTIFY_DELIVERY_BATCH=2)
    user = make_user()
    for n in range(7):
        _event("report.created", [user.id], aggregate_id=f"rep-{n}")
    queue = jobs.get_queue(jobs.Queues.NOTIFY)
    queue.empty()
    try:
        assert tasks.relay_outbox() == 3
        kinds = [queue.fetch_job(job_id).args[0].rsplit(".", 1)[1] for job_id in queue.job_ids]
        assert kinds == ["deliver_notifications", "deliver_notifications", "relay_outbox"]
        assert len(_rows()) == 3  # the other four events wait for the queued relay
    finally:
        queue.empty()
