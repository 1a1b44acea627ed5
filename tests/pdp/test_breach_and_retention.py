"""`flask pdp breach-notice` for a seeded breach; the retention job."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from jaki import audit
from jaki.auth.models import OtpChallenge, RecordedMessage
from jaki.db import utcnow
from jaki.events import OutboxEvent
from jaki.extensions import db
from jaki.pdp.models import AccessLogEntry, BreachReport
from jaki.pdp.retention import enforce
from tests.factories import ensure_agency, make_user


def test_breach_notice_for_a_compromised_officer_account(app, ctx, tmp_path):
    ensure_agency("DINKES", "Dinas Kesehatan")
    officer = make_user(role="officer", agency_code="DINKES")
    read, spared = make_user(full_name="Warga Terdampak"), make_user(full_name="Warga Aman")
    for person in (read, make_user(full_name="Warga Terdampak Dua")):
        audit.record(db.session, actor=officer, subject_id=person.id, action="user.read", reason="akses curian")
    audit.record(db.session, actor=make_user(role="admin"), subject_id=spared.id, action="user.read", reason="rutin")
    db.session.flush()
    since = (utcnow() - timedelta(hours=1)).isoformat()
    until = (utcnow() + timedelta(minutes=1)).isoformat()

    result = app.test_cli_runner().invoke(
        args=[
            "pdp",
            "breach-notice",
            "--actor",
            officer.id,
            "--since",
            since,
            "--until",
            until,
            "--description",
            "Akun petugas dipakai pihak lain",
            "--action",
            "Sandi akun direset",
            "--action",
            "Sesi dicabut",
            "--out",
            str(tmp_path),
            "--send",
        ]
    )
    assert result.exit_code == 0, result.output
    row = db.session.scalar(select(BreachReport))
    report = row.report
    assert report["how_many"]["accounts"] == 2 and row.affected_count == 2
    assert report["what_was_done"] == ["Sandi akun direset", "Sesi dicabut"]
    assert row.notify_by - row.detected_at == timedelta(hours=72)
    assert set(report["notices"]) == {"id", "en"} and row.reference in report["notices"]["en"]["inbox_body"]
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [f"{row.reference}-notice-en.txt", f"{row.reference}-notice-id.txt", f"{row.reference}-report.json"]
    assert json.loads((tmp_path / f"{row.reference}-report.json").read_text())["how_many"]["accounts"] == 2
    (event,) = db.session.scalars(select(OutboxEvent).where(OutboxEvent.type == "pdp.breach.notice")).all()
    assert spared.id not in event.payload["recipients"] and read.id in event.payload["recipients"]


def test_breach_notice_by_table_and_ids_and_bad_input(app, ctx):
    people = [make_user(full_name=f"Warga {n}") for n in range(3)]
    runner = app.test_cli_runner()
    ok = runner.invoke(
        args=[
            "pdp",
            "breach-notice",
            "--table",
            "users",
            "--ids",
            f"{people[0].id},{people[1].id}",
            "--description",
            "Ekspor tabel bocor",
        ]
    )
    assert ok.exit_code == 0, ok.output
    assert "drafted" in ok.output
    assert db.session.scalar(select(BreachReport)).affected_count == 2
    assert not db.session.scalars(select(OutboxEvent).where(OutboxEvent.type == "pdp.breach.notice")).all()
    assert runner.invoke(args=["pdp", "breach-notice", "--description", "x"]).exit_code != 0
    assert runner.invoke(args=["pdp", "breach-notice", "--ids", "1", "--description", "x"]).exit_code != 0
    naive = runner.invoke(
        args=[
            "pdp",
            "breach-notice",
            "--table",
            "users",
            "--since",
            "2026-01-01T00:00",
            "--until",
            "2026-01-02T00:00",
            "--description",
            "x",
        ]
    )
    assert naive.exit_code != 0 and "offset" in naive.output
    unknown = runner.invoke(args=["pdp", "breach-notice", "--table", "nope", "--ids", "1", "--description", "x"])
    assert unknown.exit_code != 0 and "unknown table" in unknown.output


def test_retention_deletes_what_outlived_its_period(ctx, app):
    user = make_user()
    old = utcnow() - timedelta(days=3 * 365)
    db.session.add_all(
        [
            RecordedMessage(channel="sms", recipient="x", body="Kode 123456", created_at=utcnow() - timedelta(days=2)),
            RecordedMessage(channel="sms", recipient="x", body="Kode 654321"),
            OtpChallenge(user_id=user.id, purpose="p", code_hash="h", created_at=old, expires_at=old),
            AccessLogEntry(subject_index="s", kind="official", action="user.read", at=old),
            AccessLogEntry(subject_index="s", kind="official", action="user.read"),
        ]
    )
    db.session.flush()
    done = enforce()
    assert done["recorded_messages"] == 1 and done["otp_challenges"] == 1 and done["access_log"] == 1
    assert db.session.scalar(select(func.count()).select_from(AccessLogEntry)) == 1
    assert enforce()["access_log"] == 0  # idempotent
