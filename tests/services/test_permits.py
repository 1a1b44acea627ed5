"""Permits and letters: drafts with document checklists, strict transitions, officers' scope, SLA, events."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from jaki.api import encode_cursor
from jaki.audit import AuditEntry
from jaki.db import utcnow
from jaki.events import OutboxEvent
from jaki.extensions import db
from jaki.services.permits.models import Application
from jaki.services.permits.sla import add_working_days
from jaki.services.permits.tasks import flag_permit_sla_breaches
from jaki.timezone import WIB
from tests.factories import auth_header, make_user
from tests.reports.factories import heic_with_gps
from tests.services.conftest import staff

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SLF_REQUIRED = ("ktp", "pbg", "laporan_pemeriksaan", "surat_pernyataan")


@pytest.fixture
def storage(settings, tmp_path):
    settings(STORAGE_BACKEND="local", STORAGE_LOCAL_ROOT=str(tmp_path / "media"))
    return tmp_path / "media"


def _upload(client, user, segment, application_id, kind, data=PDF, filename="dokumen.pdf"):
    return client.post(
        f"/api/v1/me/{segment}/{application_id}/documents",
        headers=auth_header(user),
        data={"kind": kind, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def _new_slf(client, user, **extra):
    body = {"type_code": "SLF", "area_code": "31.74.05.1003", "object_address": "Jl. Cipulir V No. 7", **extra}
    response = client.post("/api/v1/me/permits", json=body, headers=auth_header(user))
    assert response.status_code == 201, response.json
    return response.json


def _move(client, officer, segment, application_id, status, **extra):
    return client.post(
        f"/api/v1/officer/{segment}/{application_id}/status",
        headers=auth_header(officer),
        json={"status": status, **extra},
    )


def _events(application_id, type_="permit.status_changed"):
    return list(
        db.session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.aggregate_id == application_id, OutboxEvent.type == type_)
            .order_by(OutboxEvent.id)
        )
    )


def test_types_are_public_with_sla_and_checklist(client, demo):
    permits = {t["code"]: t for t in client.get("/api/v1/permits/types").json}
    assert {"SLF", "PBG", "SP3L", "KRK"} <= set(permits)
    assert permits["PBG"]["sla_days"] == 28 and permits["PBG"]["agency_code"] == "DPMPTSP"
    assert {"kind": "gambar_utilitas", "name": "Gambar utilitas (MEP)", "required": False} in permits["PBG"][
        "documents"
    ]
    letters = {t["code"]: t for t in client.get("/api/v1/letters/types").json}
    assert {"SKD", "SKTM", "SKU", "SKAW"} <= set(letters)
    assert letters["SKAW"]["agency_code"] == "KECAMATAN"


def test_permit_from_draft_to_issued(client, demo, storage):
    ahmad, officer = demo.ahmad, staff("DPMPTSP")
    draft = _new_slf(client, ahmad, purpose="Rumah tinggal")
    app_id = draft["id"]
    assert draft["status"] == "draft" and draft["sla_due_at"] is None
    assert [(c["kind"], c["uploaded"]) for c in draft["checklist"] if c["required"]] == [
        (k, False) for k in SLF_REQUIRED
    ]

    missing = client.post(f"/api/v1/me/permits/{app_id}/submit", headers=auth_header(ahmad))
    assert missing.status_code == 422 and missing.json["code"] == "documents_missing"
    assert missing.json["errors"]["documents"] == list(SLF_REQUIRED)
    for kind in SLF_REQUIRED:
        uploaded = _upload(client, ahmad, "permits", app_id, kind)
        assert uploaded.status_code == 201, uploaded.json
        assert uploaded.json["content_type"] == "application/pdf" and uploaded.json["size"] == len(PDF)

    submitted = client.post(f"/api/v1/me/permits/{app_id}/submit", headers=auth_header(ahmad)).json
    assert submitted["status"] == "submitted"
    due = datetime.fromisoformat(submitted["sla_due_at"])
    assert due == add_working_days(datetime.fromisoformat(submitted["submitted_at"]), 10)
    assert _events(app_id)[-1].payload["recipients"] == []  # his own click: nobody to tell

    queue = client.get("/api/v1/officer/permits", headers=auth_header(officer)).json
    assert app_id in [a["id"] for a in queue["items"]]
    detail = client.get(f"/api/v1/officer/permits/{app_id}", headers=auth_header(officer))
    assert detail.status_code == 200 and detail.json["applicant"]["full_name"] == "Ahmad Fauzi"
    assert demo.niks["Ahmad"] not in detail.get_data(as_text=True)
    assert db.session.scalar(
        select(AuditEntry).where(AuditEntry.actor_id == officer.id, AuditEntry.action == "permit.read")
    )

    assert _move(client, officer, "permits", app_id, "in_verification").status_code == 200
    no_note = _move(client, officer, "permits", app_id, "revision_requested")
    assert no_note.status_code == 422 and no_note.json["code"] == "note_required"
    revision = _move(
        client,
        officer,
        "permits",
        app_id,
        "revision_requested",
        note="Laporan pemeriksaan belum ditandatangani pengkaji teknis.",
    ).json
    assert revision["status"] == "revision_requested" and revision["sla_paused"] is True
    event = _events(app_id)[-1]
    assert event.payload == {
        "recipients": [ahmad.id],
        "data": {
            "application_id": app_id,
            "reference": draft["reference"],
            "kind": "permit",
            "type_code": "SLF",
            "from_status": "in_verification",
            "to_status": "revision_requested",
        },
    }
    assert "ditandatangani" not in str(event.payload)  # the officer's free text stays out of events

    replaced = _upload(client, ahmad, "permits", app_id, "laporan_pemeriksaan", PNG, "scan.png")
    assert replaced.status_code == 201 and replaced.json["content_type"] == "image/png"
    resubmitted = client.post(f"/api/v1/me/permits/{app_id}/submit", headers=auth_header(ahmad)).json
    assert resubmitted["status"] == "in_verification" and resubmitted["sla_paused"] is False
    assert len([c for c in resubmitted["checklist"] if c["uploaded"]]) == 4

    for status in ("in_review", "approved"):
        assert _move(client, officer, "permits", app_id, status).status_code == 200
    issued = _move(client, officer, "permits", app_id, "issued", decision_number="SLF/2026/0001").json
    assert issued["status"] == "issued" and issued["decision_number"] == "SLF/2026/0001" and issued["decided_at"]
    mine = client.get(f"/api/v1/me/permits/{app_id}", headers=auth_header(ahmad)).json
    assert [e["to_status"] for e in mine["timeline"]] == [
        "draft",
        "submitted",
        "in_verification",
        "revision_requested",
        "in_verification",
        "in_review",
        "approved",
        "issued",
    ]
    assert mine["timeline"][3]["note"].startswith("Laporan pemeriksaan")
    after = _upload(client, ahmad, "permits", app_id, "ktp")
    assert after.status_code == 409 and after.json["code"] == "application_not_editable"


def test_transitions_are_strict(client, demo, storage):
    officer = staff("DPMPTSP")
    slf = db.session.scalar(select(Application).where(Application.type_code == "SLF"))  # seeded, in verification
    skip = _move(client, officer, "permits", slf.id, "issued")
    assert skip.status_code == 409 and skip.json["code"] == "status_transition_not_allowed"
    assert "in_verification -> issued" in skip.json["errors"]["status"]
    backwards = _move(client, officer, "permits", slf.id, "submitted")
    assert backwards.status_code == 409
    unknown = _move(client, officer, "permits", slf.id, "teleported")
    assert unknown.status_code == 409
    # The applicant's moves are the applicant's: an officer cannot withdraw for them.
    assert _move(client, officer, "permits", slf.id, "withdrawn").status_code == 409
    stale = _move(client, officer, "permits", slf.id, "in_review", version=1)
    assert stale.status_code == 412
    ok = _move(client, officer, "permits", slf.id, "in_review", version=slf.version)
    assert ok.status_code == 200 and ok.json["version"] == slf.version


def test_officer_scope_agency_and_area(client, demo, storage):
    slf = db.session.scalar(select(Application).where(Application.type_code == "SLF"))
    other_agency = make_user(role="officer", agency_code="DBM", areas=["31"])
    other_area = make_user(role="officer", agency_code="DPMPTSP", areas=["31.71"])
    for officer in (other_agency, other_area):
        assert client.get(f"/api/v1/officer/permits/{slf.id}", headers=auth_header(officer)).status_code == 403
        assert _move(client, officer, "permits", slf.id, "in_review").status_code == 403
        queue = client.get("/api/v1/officer/permits", headers=auth_header(officer)).json
        assert queue["items"] == []
    citizen = client.get(f"/api/v1/officer/permits/{slf.id}", headers=auth_header(demo.siti))
    assert citizen.status_code == 403
    admin = make_user(role="admin")
    assert client.get(f"/api/v1/officer/permits/{slf.id}", headers=auth_header(admin)).status_code == 403
    # Another citizen cannot see it, and cannot learn it exists.
    other = client.get(f"/api/v1/me/permits/{slf.id}", headers=auth_header(demo.siti))
    assert other.status_code == 404
    assert (
        client.post(f"/api/v1/me/permits/{slf.id}/withdraw", json={}, headers=auth_header(demo.siti)).status_code == 404
    )
    assert _upload(client, demo.siti, "permits", slf.id, "ktp").status_code == 404


def test_queue_is_paginated_most_urgent_first(client, demo, storage):
    officer = staff("DPMPTSP")
    ids = []
    for days in (9, 3, 6):
        application = _new_slf(client, demo.ahmad)
        row = db.session.get(Application, application["id"])
        row.status, row.submitted_at, row.sla_due_at = "submitted", utcnow(), utcnow() + timedelta(days=days)
        ids.append(row.id)
    db.session.commit()
    first = client.get("/api/v1/officer/permits?limit=2&status=submitted", headers=auth_header(officer)).json
    second = client.get(
        f"/api/v1/officer/permits?limit=2&status=submitted&cursor={first['next_cursor']}", headers=auth_header(officer)
    ).json
    assert [a["id"] for a in first["items"] + second["items"]] == [ids[1], ids[2], ids[0]]
    assert second["next_cursor"] is None
    bad = client.get("/api/v1/officer/permits?cursor=bm90LWEtY3Vyc29y", headers=auth_header(officer))
    assert bad.status_code == 422
    naive = encode_cursor(["2026-01-01T00:00:00", ids[0]])  # crafted: a naive time must not reach the database
    assert client.get(f"/api/v1/officer/permits?cursor={naive}", headers=auth_header(officer)).status_code == 422


def test_documents_are_checked(client, demo, storage, settings):
    app_id = _new_slf(client, demo.ahmad)["id"]
    exe = _upload(client, demo.ahmad, "permits", app_id, "ktp", b"MZ\x90\x00 not a document", "ktp.pdf")
    assert exe.status_code == 415 and exe.json["code"] == "document_type_unsupported"
    unknown = _upload(client, demo.ahmad, "permits", app_id, "selfie")
    assert unknown.status_code == 422 and unknown.json["code"] == "document_kind_unknown"
    missing_file = client.post(
        f"/api/v1/me/permits/{app_id}/documents",
        headers=auth_header(demo.ahmad),
        data={"kind": "ktp"},
        content_type="multipart/form-data",
    )
    assert missing_file.status_code == 422
    settings(SERVICES_DOCUMENT_MAX_BYTES=len(PDF) - 1)
    big = _upload(client, demo.ahmad, "permits", app_id, "ktp")
    assert big.status_code == 413 and big.json["code"] == "document_too_large"


def test_an_iphone_heic_document_is_stored_as_jpeg_without_exif(client, demo, storage):
    app_id = _new_slf(client, demo.ahmad)["id"]
    original = heic_with_gps("iPhoneRahasia", size=(120, 80))
    doc = _upload(client, demo.ahmad, "permits", app_id, "ktp", original, "IMG_0042.HEIC")
    assert doc.status_code == 201, doc.json
    assert (doc.json["content_type"], doc.json["filename"]) == ("image/jpeg", "IMG_0042.jpg")
    served = client.get(f"/api/v1/me/permits/{app_id}/documents/{doc.json['id']}", headers=auth_header(demo.ahmad))
    assert served.headers["Content-Type"] == "image/jpeg" and served.data[:3] == b"\xff\xd8\xff"
    assert b"iPhoneRahasia" not in served.data and b"Exif" not in served.data
    assert Image.open(io.BytesIO(served.data)).size == (120, 80)
    broken = _upload(client, demo.ahmad, "permits", app_id, "ktp", original[:60], "IMG_0043.HEIC")
    assert broken.status_code == 422 and broken.json["code"] == "photo_corrupt" and "file" in broken.json["errors"]


def test_download_and_delete_documents(client, demo, storage):
    app_id = _new_slf(client, demo.ahmad)["id"]
    doc = _upload(client, demo.ahmad, "permits", app_id, "ktp", PDF, "../../etc/ktp saya.pdf").json
    assert doc["filename"] == "etc_ktp_saya.pdf"
    mine = client.get(f"/api/v1/me/permits/{app_id}/documents/{doc['id']}", headers=auth_header(demo.ahmad))
    assert mine.status_code == 200 and mine.data == PDF
    assert mine.headers["Content-Type"] == "application/pdf" and "attachment" in mine.headers["Content-Disposition"]
    stranger = client.get(f"/api/v1/me/permits/{app_id}/documents/{doc['id']}", headers=auth_header(demo.siti))
    assert stranger.status_code == 404
    # A draft is not in the officers' queue yet.
    officer = staff("DPMPTSP")
    assert client.get(f"/api/v1/officer/permits/{app_id}", headers=auth_header(officer)).status_code == 404
    deleted = client.delete(f"/api/v1/me/permits/{app_id}/documents/{doc['id']}", headers=auth_header(demo.ahmad))
    assert deleted.status_code == 204
    assert not list(storage.rglob(doc["id"]))
    assert (
        client.get(f"/api/v1/me/permits/{app_id}", headers=auth_header(demo.ahmad)).json["checklist"][0]["uploaded"]
        is False
    )


def test_officer_download_is_audited(client, demo, storage):
    app_id = _new_slf(client, demo.ahmad)["id"]
    for kind in SLF_REQUIRED:
        _upload(client, demo.ahmad, "permits", app_id, kind)
    client.post(f"/api/v1/me/permits/{app_id}/submit", headers=auth_header(demo.ahmad))
    doc_id = client.get(f"/api/v1/me/permits/{app_id}", headers=auth_header(demo.ahmad)).json["checklist"][0][
        "document"
    ]["id"]
    officer = staff("DPMPTSP")
    response = client.get(f"/api/v1/officer/permits/{app_id}/documents/{doc_id}", headers=auth_header(officer))
    assert response.status_code == 200 and response.data == PDF
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "permit.document.read"))
    assert entry.actor_id == officer.id and entry.subject_id == demo.ahmad.id and entry.fields == "document:ktp"


def test_withdraw_and_validation(client, demo, storage):
    app_id = _new_slf(client, demo.ahmad)["id"]
    withdrawn = client.post(
        f"/api/v1/me/permits/{app_id}/withdraw", json={"note": "Batal"}, headers=auth_header(demo.ahmad)
    )
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "withdrawn"
    again = client.post(f"/api/v1/me/permits/{app_id}/withdraw", json={}, headers=auth_header(demo.ahmad))
    assert again.status_code == 409
    bad_type = client.post(
        "/api/v1/me/permits",
        headers=auth_header(demo.ahmad),
        json={"type_code": "SKD", "area_code": "31.74.05.1003", "object_address": "Jl. X No. 1"},
    )
    assert bad_type.status_code == 422 and bad_type.json["code"] == "permit_type_unknown"
    bad_area = client.post(
        "/api/v1/me/permits",
        headers=auth_header(demo.ahmad),
        json={"type_code": "SLF", "area_code": "32.01", "object_address": "Jl. X No. 1"},
    )
    assert bad_area.status_code == 422 and bad_area.json["code"] == "kelurahan_required"
    extra = client.post(
        "/api/v1/me/permits",
        headers=auth_header(demo.ahmad),
        json={"type_code": "SLF", "area_code": "31.74.05.1003", "object_address": "Jl. X No. 1", "status": "issued"},
    )
    assert extra.status_code == 422  # no mass assignment


def test_letter_requested_online_and_issued_by_the_kelurahan(client, demo, storage):
    siti = demo.siti
    created = client.post(
        "/api/v1/me/letters", json={"type_code": "SKD", "purpose": "Membuka rekening bank"}, headers=auth_header(siti)
    )
    assert created.status_code == 201, created.json
    letter = created.json
    assert letter["area_code"] == "31.74.05.1002"  # her kelurahan, from the registry
    for kind in ("ktp", "kk", "pengantar_rtrw"):
        assert _upload(client, siti, "letters", letter["id"], kind).status_code == 201
    assert (
        client.post(f"/api/v1/me/letters/{letter['id']}/submit", headers=auth_header(siti)).json["status"]
        == "submitted"
    )

    lurah_office, camat_office = staff("KELURAHAN"), staff("KECAMATAN")
    # The kecamatan office covers the area but does not issue kelurahan letters.
    assert _move(client, camat_office, "letters", letter["id"], "in_process").status_code == 403
    assert _move(client, lurah_office, "letters", letter["id"], "in_process").json["status"] == "in_process"
    issued = _move(client, lurah_office, "letters", letter["id"], "issued").json
    assert issued["status"] == "issued" and issued["decision_number"].startswith("SKD/")
    event = _events(letter["id"], "letter.status_changed")[-1]
    assert event.payload["recipients"] == [siti.id] and event.payload["data"]["to_status"] == "issued"
    # Letters are not permits: the permit endpoints do not know this one.
    assert client.get(f"/api/v1/me/permits/{letter['id']}", headers=auth_header(siti)).status_code == 404
    assert [a["type_code"] for a in client.get("/api/v1/me/letters", headers=auth_header(siti)).json].count("SKD") == 2


def test_inheritance_letter_goes_to_the_kecamatan(client, demo, storage):
    created = client.post(
        "/api/v1/me/letters",
        json={"type_code": "SKAW", "purpose": "Balik nama sertifikat"},
        headers=auth_header(demo.siti),
    ).json
    row = db.session.get(Application, created["id"])
    row.status = "submitted"
    db.session.commit()
    assert _move(client, staff("KELURAHAN"), "letters", row.id, "in_process").status_code == 403
    assert _move(client, staff("KECAMATAN"), "letters", row.id, "in_process").status_code == 200


def test_letter_needs_a_known_home_kelurahan(client, demo):
    user = make_user()
    response = client.post(
        "/api/v1/me/letters", json={"type_code": "SKD", "purpose": "Melamar kerja"}, headers=auth_header(user)
    )
    assert response.status_code == 422 and response.json["code"] == "kelurahan_required"


def test_sla_breaches_are_flagged_once(ctx, demo):
    sktm = db.session.scalar(select(Application).where(Application.type_code == "SKTM"))  # seeded, submitted
    slf = db.session.scalar(select(Application).where(Application.type_code == "SLF"))
    sktm.sla_due_at = utcnow() - timedelta(hours=1)
    slf.sla_due_at = utcnow() - timedelta(hours=1)
    slf.sla_paused_at = utcnow() - timedelta(days=1)  # waiting for the applicant: the clock stands still
    db.session.commit()
    assert flag_permit_sla_breaches() == 1
    assert flag_permit_sla_breaches() == 0
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.type == "letter.sla_breached"))
    assert event.aggregate_id == sktm.id
    assert event.payload["recipients"] == [staff("KELURAHAN").id]  # the office covering Pondok Pinang
    assert sktm.sla_breached_at is not None and slf.sla_breached_at is None

    slf.sla_paused_at = None
    db.session.commit()
    assert flag_permit_sla_breaches() == 1
    permit_event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.type == "permit.sla_breached"))
    assert permit_event.payload["recipients"] == [staff("DPMPTSP").id]
    assert permit_event.payload["data"]["reference"] == slf.reference


def test_breach_flag_shows_in_the_queue(client, demo):
    sktm = db.session.scalar(select(Application).where(Application.type_code == "SKTM"))
    sktm.sla_due_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    flag_permit_sla_breaches()
    officer = auth_header(staff("KELURAHAN"))
    queue = client.get("/api/v1/officer/letters?breached=true", headers=officer).json
    assert [(a["id"], a["sla_breached"]) for a in queue["items"]] == [(sktm.id, True)]
    # Open work by default; the issued SKD only when asked for.
    assert [a["type_code"] for a in client.get("/api/v1/officer/letters", headers=officer).json["items"]] == ["SKTM"]
    everything = client.get("/api/v1/officer/letters?include_closed=true", headers=officer).json["items"]
    assert sorted(a["type_code"] for a in everything) == ["SKD", "SKTM"]


def test_cli_flags_breaches(app, demo):
    result = app.test_cli_runner().invoke(args=["services", "flag-sla-breaches"])
    assert result.exit_code == 0 and "applications flagged: 0" in result.output


def test_working_days_skip_the_weekend():
    friday_evening = datetime(2026, 11, 27, 20, 0, tzinfo=WIB).astimezone(UTC)
    due = add_working_days(friday_evening, 1).astimezone(WIB)
    assert (due.date().isoformat(), due.hour, due.minute) == ("2026-11-30", 23, 59)  # Monday
    assert add_working_days(friday_evening, 5).astimezone(WIB).date().isoformat() == "2026-12-04"
    # Saturday 01:00 WIB is still Friday in UTC: the Jakarta date is what counts.
    saturday_early = datetime(2026, 11, 28, 1, 0, tzinfo=WIB).astimezone(UTC)
    assert add_working_days(saturday_early, 1).astimezone(WIB).date().isoformat() == "2026-11-30"
