"""Evidence bound to the task: each refusal, the single-use token, the reused photo, the hash-chained log."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from jaki.db import utcnow
from jaki.errors import JakiError
from jaki.extensions import db
from jaki.media import phash
from jaki.reports import evidence, transitions
from jaki.reports.models import (
    EvidenceLogEntry,
    HistoryImmutable,
    PhotoHashBand,
    Report,
    ReportHistory,
    ReportPhoto,
)
from tests.factories import auth_header
from tests.reports.factories import POINTS, agency_admin, make_report, noise_png, officer

LAT, LON = POINTS["pondok_pinang"]


def _started(staff=None, **fields):
    """A report the officer has just started working on, and the capture token that gave them."""
    staff = staff or officer()
    report = make_report(status="dispatched", assigned_officer_id=staff.id, **fields)
    report = transitions.transition(staff, report.id, "in_progress", expected_version=report.version)
    return staff, report, report.capture_token.token


def _upload(staff, report, token, photo, **overrides):
    values = {
        "token": token,
        "captured_at": utcnow(),
        "latitude": LAT + 0.0002,  # about 22 m away
        "longitude": LON,
        "accuracy_m": 8.0,
        "phase": "after",
    }
    values.update(overrides)
    return evidence.add_evidence(staff, report.id, photo, **values)


def _refused(code, staff, report, token, photo, **overrides):
    with pytest.raises(JakiError) as caught:
        _upload(staff, report, token, photo, **overrides)
    db.session.rollback()
    assert caught.value.code == code, (caught.value.code, caught.value.errors)
    return caught.value


def _fresh_token(staff, report):
    return evidence.new_capture_token(staff, report.id).token


def test_no_token_an_unknown_token_or_one_of_another_report_is_refused(ctx, photo_storage):
    staff, report, token = _started()
    assert _refused("capture_token_missing", staff, report, None, noise_png(1)).status == 422
    assert _refused("capture_token_invalid", staff, report, "not-a-token", noise_png(1)).status == 403
    _other_staff, _other, other_token = _started(staff)
    assert _refused("capture_token_invalid", staff, report, other_token, noise_png(1)).status == 403
    boss = agency_admin()  # may act on the report, but the token is the officer's, for their assignment
    assert _refused("capture_token_invalid", boss, report, token, noise_png(1)).status == 403
    assert db.session.scalar(select(ReportPhoto.id).where(ReportPhoto.report_id == report.id)) is None


def test_a_token_is_used_once_and_expires(ctx, app, photo_storage, monkeypatch):
    staff, report, token = _started()
    _upload(staff, report, token, noise_png(1), phase="before")
    error = _refused("capture_token_used", staff, report, token, noise_png(2))
    assert error.status == 409
    monkeypatch.setitem(app.config, "REPORTS_CAPTURE_TOKEN_SECONDS", -1)
    expired = _fresh_token(staff, report)
    _refused("capture_token_expired", staff, report, expired, noise_png(2))


def test_a_fix_farther_than_the_category_radius_plus_its_accuracy_is_refused(ctx, photo_storage):
    staff, report, token = _started()
    # 0.0015 degrees of latitude is about 166 m: beyond 100 m plus an accuracy of 8 m ...
    error = _refused("evidence_too_far", staff, report, token, noise_png(1), latitude=LAT + 0.0015)
    assert error.status == 422 and "166 m" in error.message and "100 m" in error.message
    # ... within 100 m plus an accuracy of 40 m (the token was not spent by the refusal).
    _upload(staff, report, token, noise_png(1), latitude=LAT + 0.0011, accuracy_m=40.0)
    _refused("evidence_fix_imprecise", staff, report, _fresh_token(staff, report), noise_png(2), accuracy_m=400.0)
    _refused("evidence_fix_missing", staff, report, _fresh_token(staff, report), noise_png(2), latitude=None)


def test_a_capture_before_the_claim_or_after_the_upload_is_refused(ctx, photo_storage):
    staff, report, token = _started()
    error = _refused(
        "evidence_captured_before_claim", staff, report, token, noise_png(1), captured_at=utcnow() - timedelta(hours=1)
    )
    assert error.status == 422
    _refused(
        "evidence_captured_after_upload", staff, report, token, noise_png(1), captured_at=utcnow() + timedelta(hours=1)
    )
    _refused("evidence_capture_time_missing", staff, report, token, noise_png(1), captured_at=None)
    # A minute's drift of the device clock is tolerated.
    _upload(staff, report, token, noise_png(1), captured_at=utcnow() + timedelta(seconds=60))


def _reencoded(data: bytes, size=(128, 96)) -> bytes:
    """The same picture resized and saved as JPEG: other bytes, the same scene."""
    buffer = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").resize(size).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def test_a_reused_photo_is_refused_against_the_report_and_recent_evidence(ctx, photo_storage):
    staff, report, token = _started()
    _upload(staff, report, token, noise_png(1), phase="before")
    # The "after" photo is the "before" one again, re-encoded: the same scene.
    error = _refused("evidence_photo_reused", staff, report, _fresh_token(staff, report), _reencoded(noise_png(1)))
    assert error.status == 409
    # Another report's evidence from last month is found through the band index.
    other_staff, other, other_token = _started()
    _refused("evidence_photo_reused", other_staff, other, other_token, _reencoded(noise_png(1), (90, 70)))
    # A scene never seen before passes; one seen only more than 90 days ago passes too.
    _upload(other_staff, other, other_token, noise_png(5))
    db.session.execute(update(PhotoHashBand.__table__).values(created_at=utcnow() - timedelta(days=91)))
    third_staff, third, third_token = _started()
    _upload(third_staff, third, third_token, _reencoded(noise_png(1)))


def test_the_citizens_own_photo_is_not_proof(ctx, photo_storage):
    from jaki.reports import operations
    from tests.reports.factories import category, citizen

    category("jalan_rusak")
    filed = operations.create_report(
        citizen(),
        category_code="jalan_rusak",
        description="Jalan berlubang di depan sekolah",
        latitude=LAT,
        longitude=LON,
        photos=[noise_png(9)],
        force=True,
        enforce_quota=False,
    ).report
    staff = officer()
    filed.status, filed.assigned_officer_id = "dispatched", staff.id
    db.session.commit()
    report = transitions.transition(staff, filed.id, "in_progress", expected_version=filed.version)
    _refused("evidence_photo_reused", staff, report, report.capture_token.token, _reencoded(noise_png(9)))


def test_refusals_are_in_the_officers_language_over_http(client, ctx, photo_storage):
    staff, report, token = _started()
    boundary, body = encode_multipart(
        {
            "token": token,
            "captured_at": utcnow().isoformat(),
            "latitude": str(LAT + 0.01),
            "longitude": str(LON),
            "accuracy_m": "5",
            "photos": [FileStorage(io.BytesIO(noise_png(1)), filename="bukti.png")],
        }
    )
    for language, words in (("id", "Ambil foto di lokasi"), ("en", "Take it on site")):
        refused = client.post(
            f"/api/v1/officer/reports/{report.id}/evidence",
            data=body,
            content_type=f"multipart/form-data; boundary={boundary}",
            headers={**auth_header(staff), "Accept-Language": language},
        )
        assert refused.status_code == 422 and refused.json["code"] == "evidence_too_far"
        assert words in refused.json["message"]
    missing = client.post(
        f"/api/v1/officer/reports/{report.id}/capture-tokens", headers=auth_header(officer(agency="DLH"))
    )
    assert missing.status_code == 403
    fresh = client.post(f"/api/v1/officer/reports/{report.id}/capture-tokens", headers=auth_header(staff))
    assert fresh.status_code == 201 and fresh.json["token"] != token


def test_before_and_after_are_a_pair_and_each_upload_is_in_the_history_with_its_hashes(ctx, photo_storage):
    staff, report, token = _started()
    before = _upload(staff, report, token, noise_png(1), phase="before")
    with pytest.raises(JakiError) as caught:  # a "before" photo alone does not prove the work done
        transitions.transition(staff, report.id, "awaiting_validation", expected_version=report.version, note="Beres")
    assert caught.value.code == "evidence_required"
    db.session.rollback()
    report = db.session.get(Report, report.id)
    after = _upload(staff, report, _fresh_token(staff, report), _with_exif(noise_png(2)), phase="after")
    assert (before.phase, after.phase, before.round, after.round) == ("before", "after", 0, 0)
    assert after.phash == phash.dhash(photo_storage.get(after.storage_key))
    steps = db.session.scalars(
        select(ReportHistory).where(ReportHistory.report_id == report.id, ReportHistory.action == "evidence")
    ).all()
    assert [s.details["phase"] for s in steps] == ["before", "after"]
    log = db.session.scalars(select(EvidenceLogEntry).where(EvidenceLogEntry.report_id == report.id)).all()
    assert [entry.photo_id for entry in log] == [before.id, after.id]
    assert steps[1].details["sha256"] == log[1].sha256 and steps[1].details["phash"] == log[1].phash
    assert log[1].stored_sha256 == after.sha256 != log[1].sha256  # the original's hash, and the stripped copy's
    assert b"KameraPetugas" not in photo_storage.get(after.storage_key)  # the public sees the stripped copy
    assert log[1].prev_hash == log[0].hash
    report = db.session.get(Report, report.id)
    done = transitions.transition(
        staff, report.id, "awaiting_validation", expected_version=report.version, note="Beres"
    )
    assert done.status == "awaiting_validation"


def _with_exif(data: bytes) -> bytes:
    """The picture as a camera writes it: JPEG with the camera and a GPS position in EXIF (stripped on upload)."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "KameraPetugas"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "S", (6.0, 16.0, 15.6), "E", (106.0, 46.0, 37.2)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes(), quality=95)
    return buffer.getvalue()


def _disable_immutability(dialect: str) -> None:
    """Inside the test's transaction (rolled back after it): DDL is transactional on both databases."""
    if dialect == "postgresql":
        db.session.execute(text("ALTER TABLE report_evidence_log DISABLE TRIGGER report_evidence_log_no_change"))
    else:
        db.session.execute(text("DROP TRIGGER report_evidence_log_no_update"))


def test_the_evidence_log_is_immutable_and_the_command_finds_a_tampered_row(app, ctx, photo_storage):
    staff, report, token = _started()
    _upload(staff, report, token, noise_png(1), phase="before")
    _upload(staff, report, _fresh_token(staff, report), noise_png(2))
    staff2, other, token2 = _started()
    _upload(staff2, other, token2, noise_png(3))
    runner = app.test_cli_runner()
    intact = runner.invoke(args=["reports", "verify-evidence"])
    assert intact.exit_code == 0, intact.output
    rows = db.session.scalars(select(EvidenceLogEntry).order_by(EvidenceLogEntry.id)).all()
    assert f"{len(rows)} rows" in intact.output

    target = rows[-2]
    target.distance_m = 1.0
    with pytest.raises(HistoryImmutable):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(DBAPIError), db.session.begin_nested():
        db.session.execute(text("UPDATE report_evidence_log SET distance_m = 1 WHERE id = :id"), {"id": target.id})
    with pytest.raises(DBAPIError), db.session.begin_nested():
        db.session.execute(text("DELETE FROM report_evidence_log WHERE id = :id"), {"id": target.id})

    _disable_immutability(db.session.get_bind().dialect.name)
    db.session.execute(text("UPDATE report_evidence_log SET distance_m = 1 WHERE id = :id"), {"id": target.id})
    db.session.expire_all()
    result = evidence.verify_chain()
    assert (result.broken_id, result.reason) == (target.id, "content")
    broken = runner.invoke(args=["reports", "verify-evidence"])
    assert broken.exit_code == 1 and f"broken at row {target.id}" in broken.output


def test_concurrent_looking_appends_never_fork_the_chain(ctx):
    """Two appends that read the same last row: the unique prev_hash makes the second chain after the first."""
    content = {
        "report_id": "r",
        "photo_id": "p",
        "round": 0,
        "phase": "after",
        "actor_id": None,
        "at": utcnow(),
        "captured_at": utcnow(),
        "latitude": LAT,
        "longitude": LON,
        "accuracy_m": 5.0,
        "distance_m": 1.0,
        "sha256": "a" * 64,
        "stored_sha256": "b" * 64,
        "phash": "0123456789abcdef",
    }
    first = evidence.append_log(**content)
    forged = EvidenceLogEntry(prev_hash=first.prev_hash, hash="f" * 64, **content)
    with pytest.raises(Exception), db.session.begin_nested():  # noqa: B017 - IntegrityError, dialect-wrapped
        db.session.add(forged)
    second = evidence.append_log(**{**content, "photo_id": "q"})
    assert second.prev_hash == first.hash
    assert evidence.verify_chain().broken_id is None
