"""The right owner: category corrections re-route, transfers keep the clock, "not ours" names the body, an
external body receives the report over HTTP and answers, time to owner is measured; merges answer twice."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from jaki.db import utcnow
from jaki.errors import JakiError
from jaki.extensions import db
from jaki.reports import external, owners, transitions
from jaki.reports.models import ExternalDelivery, Report, ReportHistory
from jaki.reports.queries import history
from tests.factories import auth_header, ensure_agency
from tests.reports.factories import (
    add_evidence_row,
    admin,
    agency_admin,
    citizen,
    kelurahan_officer,
    make_report,
    officer,
)
from tests.support.external_body import ExternalBody

SECRET = "rahasia-pam-jaya-uji"


def test_a_category_correction_reroutes_keeps_the_origin_and_the_history(client, ctx):
    road_officer = officer()
    report = make_report(status="dispatched", assigned_officer_id=road_officer.id)
    report.created_at = report.sla_started_at = utcnow() - timedelta(hours=10)
    db.session.commit()
    received = report.created_at
    response = client.post(
        f"/api/v1/officer/reports/{report.id}/category",
        json={"category": "saluran_tersumbat", "reason": "Ini saluran air, bukan jalan"},
        headers={**auth_header(road_officer), "If-Match": f'"{report.version}"'},
    )
    assert response.status_code == 200, response.json
    assert (response.json["agency_code"], response.json["status"], response.json["assigned_officer_id"]) == (
        "DSDA",
        "verified",
        None,
    )
    report = db.session.get(Report, report.id)
    db.session.refresh(report)
    assert report.category_code == "saluran_tersumbat" and report.created_at == received
    assert report.sla_due_at == received + timedelta(hours=48)  # the new category's SLA from the same origin
    step = next(h for h in history(report.id) if h.action == "category_changed")
    assert step.details["from_category_code"] == "jalan_rusak" and step.details["to_agency_code"] == "DSDA"
    assert step.reason == "Ini saluran air, bukan jalan"
    # The drainage office works it now; the road office no longer may.
    water = officer(agency="DSDA")
    transitions.transition(water, report.id, "dispatched", expected_version=report.version)
    with pytest.raises(JakiError) as caught:
        owners.correct_category(road_officer, report.id, "jalan_rusak", reason="x", expected_version=report.version)
    assert caught.value.status == 403


def test_a_transfer_keeps_the_receipt_time_and_the_sla_origin(ctx):
    report = make_report(status="dispatched")
    report.created_at = utcnow() - timedelta(hours=30)
    report.sla_due_at = report.created_at + timedelta(hours=72)
    db.session.commit()
    before = (report.created_at, report.sla_due_at)
    ensure_agency("DSDA")
    moved = transitions.transfer(
        agency_admin(), report.id, expected_version=report.version, reason="Milik SDA", agency_code="DSDA"
    )
    assert (moved.created_at, moved.sla_due_at) == before and moved.agency_code == "DSDA"


def _external_body(code="PAMJAYA"):
    body = ensure_agency(code, "Perumda Air Minum Jaya")
    body.kind = "external"
    db.session.commit()
    return body


def _sign(raw: bytes, secret=SECRET, at=None):
    stamp = str(int(at or time.time()))
    return {
        "X-Jaki-Agency": "PAMJAYA",
        "X-Jaki-Timestamp": stamp,
        "X-Jaki-Signature": external.sign(secret, stamp, raw),
    }


def test_not_ours_must_name_the_responsible_body(client, ctx):
    worker = officer()
    report = make_report(status="dispatched", assigned_officer_id=worker.id)
    for agency_code, code in (
        (None, "responsible_body_required"),
        ("NOPE", "agency_unknown"),
        ("DBM", "responsible_body_is_owner"),
    ):
        with pytest.raises(JakiError) as caught:
            owners.not_ours(worker, report.id, agency_code, reason="Bukan kami", expected_version=report.version)
        assert caught.value.code == code
    ensure_agency("DSDA")
    moved = owners.not_ours(worker, report.id, "DSDA", reason="Saluran, bukan jalan", expected_version=report.version)
    assert (moved.agency_code, moved.status) == ("DSDA", "verified")
    step = next(h for h in history(report.id) if h.action == "not_ours")
    assert step.details["to_agency_code"] == "DSDA" and step.reason == "Saluran, bukan jalan"


def test_a_hand_off_to_an_external_body_is_delivered_over_http_and_its_answer_comes_back(client, ctx, app, monkeypatch):
    _external_body()
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "inline")  # the delivery job runs in the request's wake
    worker = officer()
    reporter = citizen()
    report = make_report(reporter, status="dispatched", assigned_officer_id=worker.id)
    report.created_at = utcnow() - timedelta(hours=5)
    db.session.commit()
    with ExternalBody() as fake:
        monkeypatch.setitem(
            app.config,
            "REPORTS_EXTERNAL_CHANNELS",
            {"PAMJAYA": {"channel": "webhook", "url": fake.url, "secret": SECRET}},
        )
        fake.statuses.extend([200])
        response = client.post(
            f"/api/v1/officer/reports/{report.id}/not-ours",
            json={"agency_code": "PAMJAYA", "reason": "Pipa PAM Jaya bocor di bawah jalan"},
            headers={**auth_header(worker), "If-Match": f'"{report.version}"'},
        )
        assert response.status_code == 200, response.json
        assert (response.json["agency_code"], response.json["status"]) == ("PAMJAYA", "dispatched")
        assert len(fake.received) == 1
        sent = fake.received[0]
        assert sent.json["reference"] == report.reference and sent.json["description"] == report.description
        assert sent.headers["X-Jaki-Signature"] == external.sign(SECRET, sent.headers["X-Jaki-Timestamp"], sent.body)
    delivery = db.session.scalar(select(ExternalDelivery).where(ExternalDelivery.report_id == report.id))
    db.session.refresh(delivery)
    assert (delivery.state, delivery.attempts, delivery.remote_id) == ("sent", 1, "PAM-1")
    staff = client.get(f"/api/v1/officer/reports/{report.id}", headers=auth_header(admin())).json
    assert staff["deliveries"][0]["state"] == "sent"
    assert staff["sla"]["paused"] is True and staff["sla"]["pauses"][0]["reason"] == "external_agency"

    # The body's answer, signed with the channel's secret: a forged or stale one changes nothing.
    raw = json.dumps({"status": "resolved", "note": "Pipa sudah diganti", "remote_id": "PAM-1"}).encode()
    path = f"/api/v1/external/reports/{report.id}/answers"
    forged = client.post(path, data=raw, headers={**_sign(raw, "tebakan"), "Content-Type": "application/json"})
    assert forged.status_code == 403 and forged.json["code"] == "external_signature_invalid"
    stale = client.post(
        path, data=raw, headers={**_sign(raw, at=time.time() - 3600), "Content-Type": "application/json"}
    )
    assert stale.status_code == 403
    answered = client.post(path, data=raw, headers={**_sign(raw), "Content-Type": "application/json"})
    assert answered.status_code == 200, answered.json
    assert answered.json["status"] == "awaiting_validation"  # the kelurahan validates the body's word
    report = db.session.get(Report, report.id)
    db.session.refresh(report)
    assert report.resolution_note == "Pipa sudah diganti" and report.sla_paused_at is None
    assert report.time_to_owner_seconds is not None and report.time_to_owner_seconds >= 5 * 3600 - 5
    answer = db.session.scalar(
        select(ReportHistory).where(ReportHistory.report_id == report.id, ReportHistory.action == "external_answer")
    )
    assert answer.actor_role == "external" and answer.details["answer"] == "resolved"
    mine = client.get(f"/api/v1/me/reports/{report.id}", headers=auth_header(reporter)).json
    assert "external_answer" in [h["action"] for h in mine["history"]]
    done = transitions.transition(kelurahan_officer(), report.id, "resolved", expected_version=report.version)
    assert done.status == "resolved"


def test_a_delivery_is_retried_and_every_attempt_recorded(ctx, app, monkeypatch):
    _external_body()
    worker = officer()
    report = make_report(status="dispatched", assigned_officer_id=worker.id)
    with ExternalBody() as fake:
        monkeypatch.setitem(app.config, "REPORTS_EXTERNAL_CHANNELS", {"PAMJAYA": {"url": fake.url, "secret": SECRET}})
        monkeypatch.setattr(external, "enqueue_pending", lambda report_id: None)  # the test runs the job itself
        monkeypatch.setattr(owners, "enqueue_pending", lambda report_id: None)
        owners.not_ours(worker, report.id, "PAMJAYA", reason="Pipa bocor", expected_version=report.version)
        delivery = db.session.scalar(select(ExternalDelivery).where(ExternalDelivery.report_id == report.id))
        fake.statuses.extend([503, 200])
        with pytest.raises(external.DeliveryRetry):
            external.deliver(delivery.id)
        db.session.refresh(delivery)
        assert (delivery.state, delivery.attempts, delivery.last_error) == ("pending", 1, "http_503")
        assert external.deliver(delivery.id) == "sent"
        assert external.deliver(delivery.id) == "sent"  # idempotent: rq delivers at least once
        assert len(fake.received) == 2
    unconfigured = make_report(status="dispatched", assigned_officer_id=worker.id)
    monkeypatch.setitem(app.config, "REPORTS_EXTERNAL_CHANNELS", {})
    owners.not_ours(worker, unconfigured.id, "PAMJAYA", reason="Pipa", expected_version=unconfigured.version)
    row = db.session.scalar(select(ExternalDelivery).where(ExternalDelivery.report_id == unconfigured.id))
    assert external.deliver(row.id) == "failed" and row.last_error == "no_channel"


def test_time_to_owner_is_reported_by_the_statistics(client, ctx):
    worker = officer()
    report = make_report(status="dispatched", assigned_officer_id=worker.id)
    report.created_at = utcnow() - timedelta(hours=10)
    report.dispatched_at = utcnow() - timedelta(hours=4)
    db.session.commit()
    report = transitions.transition(worker, report.id, "in_progress", expected_version=report.version)
    add_evidence_row(report, by=worker)
    report = transitions.transition(
        worker, report.id, "awaiting_validation", expected_version=report.version, note="Ok"
    )
    assert abs(report.time_to_owner_seconds - 6 * 3600) < 5
    response = client.get("/api/v1/stats/time-to-owner", headers=auth_header(admin()))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["count"] >= 1 and body["median_hours"] is not None
    assert any(row["agency_code"] == "DBM" for row in body["rows"])


def test_a_merged_report_answers_under_both_references_in_the_api_and_open311(client, ctx):
    original_reporter, duplicate_reporter, supporter = citizen(), citizen(), citizen()
    original = make_report(original_reporter)
    duplicate = make_report(duplicate_reporter, at="blok_m")
    client.post(f"/api/v1/reports/{duplicate.id}/support", headers=auth_header(supporter))
    melawai = kelurahan_officer(areas=["31.74.07.1001"])
    merged = client.post(
        f"/api/v1/officer/reports/{duplicate.id}/duplicate",
        json={"duplicate_of": original.id},
        headers={**auth_header(melawai), "If-Match": f'"{db.session.get(Report, duplicate.id).version}"'},
    )
    assert merged.status_code == 200, merged.json
    for report in (original, duplicate):
        public = client.get(f"/api/v1/reports/{report.id}")
        assert public.status_code == 200
        open311 = client.get(f"/open311/v2/requests/{report.id}.json")
        assert open311.status_code == 200 and open311.json[0]["service_request_id"] == report.id
    dup = client.get(f"/api/v1/reports/{duplicate.id}").json
    assert dup["merged_into"]["reference"] == original.reference and dup["merged_into"]["id"] == original.id
    assert original.id in client.get(f"/open311/v2/requests/{duplicate.id}.json").json[0]["status_notes"]
    boss = admin()
    for reference, expected in ((duplicate.reference, duplicate.id), (original.reference, original.id)):
        found = client.get(f"/api/v1/officer/reports/by-reference?reference={reference}", headers=auth_header(boss))
        assert found.status_code == 200 and found.json["id"] == expected
    mine = client.get(f"/api/v1/me/reports/{duplicate.id}", headers=auth_header(duplicate_reporter)).json
    assert mine["merged_into"]["id"] == original.id
    followed = db.session.get(Report, original.id)
    db.session.refresh(followed)
    assert followed.support_count == 2  # the duplicate's reporter and its supporter follow the original
