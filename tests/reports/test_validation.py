"""Validation before done (four-eyes), the citizen's word (confirm, dispute, ratings per round, withdraw, hide
name) and the visible clocks."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from jaki.db import utcnow
from jaki.errors import JakiError
from jaki.events import OutboxEvent
from jaki.extensions import db
from jaki.reports import citizens, operations, tasks, transitions
from jaki.reports import workflow as wf
from jaki.reports.models import Report, ReportHistory
from tests.factories import auth_header
from tests.reports.factories import (
    add_evidence_row,
    admin,
    category,
    citizen,
    kelurahan_officer,
    make_report,
    noise_png,
    officer,
    validator,
)


def _awaiting(reporter=None, worker=None):
    """A report its officer says is done: waiting for validation."""
    worker = worker or officer()
    report = make_report(reporter, status="in_progress", assigned_officer_id=worker.id)
    add_evidence_row(report, by=worker)
    report = transitions.transition(
        worker, report.id, "awaiting_validation", expected_version=report.version, note="Lubang sudah ditambal"
    )
    return worker, report


def _refused(code, *args, **kwargs):
    db.session.commit()  # what the test made stays when the refused attempt is rolled back
    with pytest.raises(JakiError) as caught:
        transitions.transition(*args, **kwargs)
    db.session.rollback()
    assert caught.value.code == code
    return caught.value


def test_the_resolver_cannot_validate_their_own_work_someone_of_the_kelurahan_can(client, ctx):
    worker, report = _awaiting()
    assert report.status == "awaiting_validation" and report.resolved_at is None
    public = client.get(f"/api/v1/reports/{report.id}").json
    assert public["public_status"] == {"code": "menunggu_validasi", "label": "Menunggu Validasi"}
    assert (
        _refused("validator_is_resolver", worker, report.id, "resolved", expected_version=report.version).status == 403
    )
    # An admin who did the work is no exception.
    boss = admin()
    _w, other = _awaiting(worker=officer())
    other.resolved_by_id = boss.id
    db.session.commit()
    _refused("validator_is_resolver", boss, other.id, "resolved", expected_version=other.version)
    # Another kelurahan's unit may not; neither may the agency's other officers (they are not the kelurahan).
    melawai = kelurahan_officer(areas=["31.74.07.1001"])
    _refused("transition_forbidden", melawai, report.id, "resolved", expected_version=report.version)
    _refused("transition_forbidden", officer(), report.id, "resolved", expected_version=report.version)
    lurah = kelurahan_officer()
    queue = client.get("/api/v1/officer/reports", headers=auth_header(lurah)).json["items"]
    assert report.id in [item["id"] for item in queue]
    done = transitions.transition(lurah, report.id, "resolved", expected_version=report.version)
    assert done.status == "resolved" and done.resolved_at is not None
    entry = db.session.scalars(
        select(ReportHistory).where(ReportHistory.report_id == report.id).order_by(ReportHistory.id.desc())
    ).first()
    assert entry.actor_id == lurah.id and entry.details == {"validation": "accepted", "resolved_by_id": worker.id}
    # Only validated reports count as resolved in the statistics.
    assert "awaiting_validation" in wf.OPEN_STATUSES and "awaiting_validation" not in wf.RESOLVED_STATUSES


def test_a_validator_of_biro_pemerintahan_validates_anywhere_and_its_queue_shows_what_waits(client, ctx):
    _worker, report = _awaiting()
    checker = validator()
    queue = client.get("/api/v1/officer/reports", headers=auth_header(checker)).json["items"]
    assert [item["id"] for item in queue] == [report.id]
    response = client.post(
        f"/api/v1/reports/{report.id}/transitions",
        json={"to": "resolved"},
        headers={**auth_header(checker), "If-Match": f'"{report.version}"'},
    )
    assert response.status_code == 200, response.json
    assert response.json["public_status"]["code"] == "selesai"


def test_a_rejected_validation_is_tl_ditolak_back_to_work_with_the_sla_running(client, ctx):
    worker, report = _awaiting()
    due = report.sla_due_at
    lurah = kelurahan_officer()
    _refused("report_reason_required", lurah, report.id, "in_progress", expected_version=report.version)
    back = transitions.transition(
        lurah, report.id, "in_progress", expected_version=report.version, reason="Foto tidak menunjukkan lubang"
    )
    assert back.status == "in_progress" and back.sla_due_at == due and back.validation_rejected_at is not None
    staff_view = client.get(f"/api/v1/officer/reports/{report.id}", headers=auth_header(worker)).json
    assert staff_view["staff_status"] == {"code": "tl_ditolak", "label": "TL Ditolak"}
    assert client.get(f"/api/v1/reports/{report.id}").json["public_status"]["code"] == "proses"
    # The evidence the validator rejected does not count again: new proof is needed.
    _refused("evidence_required", worker, report.id, "awaiting_validation", expected_version=back.version, note="Sudah")
    report = db.session.get(Report, report.id)
    photo = add_evidence_row(report, by=worker)
    photo.created_at = utcnow() + timedelta(seconds=1)
    db.session.commit()
    again = transitions.transition(
        worker, report.id, "awaiting_validation", expected_version=report.version, note="Ditambal ulang"
    )
    assert again.status == "awaiting_validation" and again.validation_rejected_at is None


def test_a_category_may_skip_validation(ctx):
    category("lampu_jalan").validation_required = False
    worker = officer()
    report = make_report(category_code="lampu_jalan", status="in_progress", assigned_officer_id=worker.id)
    add_evidence_row(report, by=worker)
    _refused(
        "validation_not_required", worker, report.id, "awaiting_validation", expected_version=report.version, note="Ok"
    )
    done = transitions.transition(worker, report.id, "resolved", expected_version=report.version, note="Lampu menyala")
    assert done.status == "resolved" and done.resolved_at is not None


def _validated(reporter, worker=None):
    worker, report = _awaiting(reporter, worker)
    return worker, transitions.transition(kelurahan_officer(), report.id, "resolved", expected_version=report.version)


def test_a_dispute_with_a_reason_and_photo_reopens_counts_and_restarts_the_sla(client, ctx, photo_storage):
    reporter = citizen()
    _worker, report = _validated(reporter)
    report.created_at = report.sla_started_at = utcnow() - timedelta(days=2)
    report.sla_due_at = report.created_at + timedelta(hours=72)
    db.session.commit()
    old_due = report.sla_due_at
    boundary, body = encode_multipart(
        {"reason": "Lubangnya masih ada", "photo": FileStorage(io.BytesIO(noise_png(4)), filename="masih.png")}
    )
    headers = {**auth_header(reporter), "If-Match": f'"{report.version}"'}
    other = client.post(
        f"/api/v1/reports/{report.id}/dispute",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={**auth_header(citizen()), "If-Match": f'"{report.version}"'},
    )
    assert other.status_code == 404
    response = client.post(
        f"/api/v1/reports/{report.id}/dispute",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=headers,
    )
    assert response.status_code == 200, response.json
    assert response.json["status"] == "dispatched"
    report = db.session.get(Report, report.id)
    db.session.refresh(report)
    assert (report.dispute_count, report.reopen_count) == (1, 1)
    now = utcnow()
    assert abs((report.sla_started_at - now).total_seconds()) < 60
    assert report.sla_due_at > old_due and abs((report.sla_due_at - (now + timedelta(hours=72))).total_seconds()) < 60
    assert [p.kind for p in report.photos if p.kind != "evidence"] == ["dispute"]
    actions = [h.action for h in db.session.scalars(select(ReportHistory).where(ReportHistory.report_id == report.id))]
    assert actions[-2:] == ["transition", "dispute"]
    mine = client.get(f"/api/v1/me/reports/{report.id}", headers=auth_header(reporter)).json
    assert mine["dispute_count"] == 1 and mine["sla"]["running"] is True
    no_reason = client.post(
        f"/api/v1/reports/{report.id}/dispute",
        data={},
        content_type="multipart/form-data",
        headers={**auth_header(reporter), "If-Match": f'"{report.version}"'},
    )
    assert no_reason.status_code == 422


def test_a_second_rating_after_a_second_fix(client, ctx):
    reporter = citizen()
    worker, report = _validated(reporter)
    first = client.post(f"/api/v1/reports/{report.id}/rating", json={"score": 2}, headers=auth_header(reporter))
    assert first.status_code == 201 and first.json["round"] == 0
    again = client.post(f"/api/v1/reports/{report.id}/rating", json={"score": 5}, headers=auth_header(reporter))
    assert again.status_code == 409 and again.json["code"] == "already_rated"
    report = db.session.get(Report, report.id)
    report = citizens.dispute(reporter, report.id, "Belum beres", expected_version=report.version)
    report = transitions.transition(worker, report.id, "in_progress", expected_version=report.version)
    add_evidence_row(report, by=worker)
    report = transitions.transition(
        worker, report.id, "awaiting_validation", expected_version=report.version, note="Diaspal ulang"
    )
    report = transitions.transition(kelurahan_officer(), report.id, "resolved", expected_version=report.version)
    second = client.post(f"/api/v1/reports/{report.id}/rating", json={"score": 5}, headers=auth_header(reporter))
    assert second.status_code == 201, second.json
    assert second.json["round"] == 1
    mine = client.get(f"/api/v1/me/reports/{report.id}", headers=auth_header(reporter)).json
    assert [(r["round"], r["score"]) for r in mine["ratings"]] == [(0, 2), (1, 5)]
    assert mine["rating"]["score"] == 5
    ratings = db.session.scalars(
        select(ReportHistory).where(ReportHistory.report_id == report.id, ReportHistory.action == "rating")
    ).all()
    assert [r.details for r in ratings] == [{"round": 0, "score": 2}, {"round": 1, "score": 5}]


def test_confirm_withdraw_and_hide_name(client, ctx):
    reporter = citizen(full_name="Siti Rahayu")
    _worker, report = _validated(reporter)
    confirmed = client.post(
        f"/api/v1/reports/{report.id}/confirm",
        headers={**auth_header(reporter), "If-Match": f'"{report.version}"'},
    )
    assert confirmed.status_code == 200 and confirmed.json["status"] == "closed"

    fresh = make_report(reporter)
    assert client.get(f"/api/v1/reports/{fresh.id}").json["reporter_name"] == "Siti R."
    hidden = client.post(
        f"/api/v1/me/reports/{fresh.id}/hide-name", headers={**auth_header(reporter), "If-Match": f'"{fresh.version}"'}
    )
    assert hidden.status_code == 200
    assert client.get(f"/api/v1/reports/{fresh.id}").json["reporter_name"] is None
    stranger = client.post(
        f"/api/v1/reports/{fresh.id}/withdraw", json={}, headers={**auth_header(citizen()), "If-Match": '"2"'}
    )
    assert stranger.status_code == 404
    withdrawn = client.post(
        f"/api/v1/reports/{fresh.id}/withdraw",
        json={"reason": "Sudah diperbaiki warga"},
        headers={**auth_header(reporter), "If-Match": hidden.headers["ETag"]},
    )
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "withdrawn"
    assert client.get(f"/api/v1/reports/{fresh.id}").status_code == 404  # no longer public
    assert client.get(f"/api/v1/me/reports/{fresh.id}", headers=auth_header(reporter)).status_code == 200
    late = make_report(reporter, status="dispatched")
    refused = client.post(
        f"/api/v1/reports/{late.id}/withdraw",
        json={},
        headers={**auth_header(reporter), "If-Match": f'"{late.version}"'},
    )
    assert refused.status_code == 409 and refused.json["code"] == "withdraw_not_allowed"


def test_every_report_shows_its_clock_and_staff_see_the_red_flag_and_its_escalation(client, ctx, app):
    report = make_report(status="dispatched")
    body = client.get(f"/api/v1/reports/{report.id}").json
    assert set(body["sla"]) == {"started_at", "due_at", "running", "time_left_seconds", "breached", "paused", "pauses"}
    assert body["sla"]["running"] is True and 71 * 3600 < body["sla"]["time_left_seconds"] <= 72 * 3600
    old = make_report(status="dispatched")
    old.created_at = utcnow() - timedelta(days=app.config["STATS_RED_FLAG_DAYS"], hours=1)
    old.sla_due_at = utcnow() - timedelta(days=3)
    db.session.commit()
    assert tasks.escalate_sla_breaches() >= 1
    boss = admin()
    staff = client.get(f"/api/v1/officer/reports/{old.id}", headers=auth_header(boss)).json
    assert staff["red_flag"] is True and staff["sla"]["breached"] is True and staff["sla"]["time_left_seconds"] < 0
    assert [e["action"] for e in staff["escalations"]] == ["sla_breached"]
    fresh = client.get(f"/api/v1/officer/reports/{report.id}", headers=auth_header(boss)).json
    assert fresh["red_flag"] is False and fresh["escalations"] == []


def test_the_merged_reports_reporter_is_told_which_report_to_follow(ctx):
    original, duplicate_reporter = make_report(), citizen()
    duplicate = make_report(duplicate_reporter, at="blok_m")
    melawai = kelurahan_officer(areas=["31.74.07.1001"])
    transitions.mark_duplicate(melawai, duplicate.id, original.id, expected_version=duplicate.version)
    told = db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.aggregate_id == duplicate.id, OutboxEvent.type == "report.status_changed")
    ).all()[-1]
    assert duplicate_reporter.id in told.payload["recipients"]
    assert told.payload["data"]["duplicate_of_reference"] == original.reference
    from jaki.notifications.templates import TEMPLATES

    _title, text = TEMPLATES["report.status_changed"].render(told.payload["data"])
    assert original.reference in text and "digabung" in text
    merge = db.session.scalar(
        select(ReportHistory).where(ReportHistory.report_id == original.id, ReportHistory.action == "merge")
    )
    assert merge.details == {"merged_id": duplicate.id, "merged_reference": duplicate.reference}
    operations.support(citizen(), original.id)  # the original is still open to supporters
