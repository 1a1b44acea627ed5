"""The officer side: queue scoping and urgency, claim, assign, transfer, evidence, notes, audited reporter reads."""

import io
from datetime import timedelta

from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from jaki.audit import AuditEntry
from jaki.db import utcnow
from jaki.extensions import db
from jaki.reports.models import Report, ReportHistory
from tests.factories import auth_header
from tests.reports.factories import (
    admin,
    agency_admin,
    citizen,
    heic_with_gps,
    kelurahan_officer,
    make_report,
    noise_png,
    officer,
    stored_unrouted_report,
)


def queue_ids(client, user, query=""):
    response = client.get(f"/api/v1/officer/reports{query}", headers=auth_header(user))
    assert response.status_code == 200, response.json
    return [r["id"] for r in response.json["items"]]


def if_match(client, user, report_id):
    return client.get(f"/api/v1/officer/reports/{report_id}", headers=auth_header(user)).headers["ETag"]


def test_queue_scoping_by_area_and_agency(client, ctx):
    # Pondok Pinang (31.74.05.1002): one DBM road report to verify, one DBM report being worked on, one DSDA flood.
    to_verify = make_report(status="submitted")
    dbm_work = make_report(at=(-6.2650, 106.7800), status="dispatched")
    flood = make_report(at=(-6.2600, 106.7790), category_code="banjir", status="dispatched")
    blok_m = make_report(at="blok_m", status="verified")  # 31.74.07, DBM
    monas = make_report(at="monas", status="in_progress")  # 31.71.01, DBM
    unrouted = stored_unrouted_report("sampah")
    # A road report stored in Kota Bekasi before the boundaries refused it: no kelurahan, DBM's category.
    bekasi_road = stored_unrouted_report("jalan_rusak", at=(-6.2383, 106.9756))
    done = make_report(status="closed")

    dbm_officer = officer()  # DBM, 31.74.05
    assert set(queue_ids(client, dbm_officer)) == {to_verify.id, dbm_work.id}
    # Issue 11: another agency's officer no longer verifies what is in their area (nor sees it to verify); the
    # kelurahan unit of Pondok Pinang does.
    dsda_officer = officer(agency="DSDA", areas=["31.74.05"])
    assert set(queue_ids(client, dsda_officer)) == {flood.id}
    assert set(queue_ids(client, kelurahan_officer())) == {to_verify.id}
    dbm_admin = agency_admin()  # DBM, areas 31.74: the whole DBM queue, never a report with no kelurahan
    assert set(queue_ids(client, dbm_admin)) == {to_verify.id, dbm_work.id, blok_m.id, monas.id}
    everyone = admin()
    assert set(queue_ids(client, everyone)) >= {to_verify.id, dbm_work.id, flood.id, blok_m.id, monas.id, unrouted.id}
    assert done.id not in queue_ids(client, everyone)
    assert set(queue_ids(client, everyone, "?unrouted=true")) == {unrouted.id, bekasi_road.id}
    # Nor may Bina Marga work it: the admins' triage routes it (or rejects it) first.
    claimed = client.post(
        f"/api/v1/officer/reports/{bekasi_road.id}/claim",
        headers={**auth_header(dbm_admin), "If-Match": f'"{bekasi_road.version}"'},
    )
    assert claimed.status_code == 403
    assert client.get("/api/v1/officer/reports?unrouted=true", headers=auth_header(dbm_officer)).status_code == 403
    assert done.id in queue_ids(client, dbm_officer, "?status=closed")
    assert client.get("/api/v1/officer/reports", headers=auth_header(citizen())).status_code == 403
    assert client.get("/api/v1/officer/reports").status_code == 401


def test_queue_is_ordered_by_urgency_with_keyset_pages(client, ctx):
    now = utcnow()
    late = make_report(at=(-6.2700, 106.7760), sla_due_at=now - timedelta(hours=5))
    soon = make_report(at=(-6.2690, 106.7760), sla_due_at=now + timedelta(hours=1))
    later = make_report(at=(-6.2680, 106.7760), sla_due_at=now + timedelta(hours=30))
    staff = officer()
    first = client.get("/api/v1/officer/reports?limit=2", headers=auth_header(staff)).json
    assert [r["id"] for r in first["items"]] == [late.id, soon.id]
    rest = client.get(f"/api/v1/officer/reports?limit=2&cursor={first['next_cursor']}", headers=auth_header(staff)).json
    assert [r["id"] for r in rest["items"]] == [later.id] and rest["next_cursor"] is None


def test_claim_assign_and_mine(client, ctx):
    report = make_report(status="verified")
    first, second = officer(), officer()
    etag = if_match(client, first, report.id)
    claimed = client.post(
        f"/api/v1/officer/reports/{report.id}/claim", headers={**auth_header(first), "If-Match": etag}
    )
    assert claimed.status_code == 200, claimed.json
    assert (claimed.json["status"], claimed.json["assigned_officer_id"]) == ("dispatched", first.id)
    taken = client.post(
        f"/api/v1/officer/reports/{report.id}/claim",
        headers={**auth_header(second), "If-Match": claimed.headers["ETag"]},
    )
    assert taken.status_code == 409 and taken.json["code"] == "report_already_claimed"
    assert queue_ids(client, first, "?mine=true") == [report.id]
    assert queue_ids(client, second, "?mine=true") == []

    boss = agency_admin()
    moved = client.post(
        f"/api/v1/officer/reports/{report.id}/assign",
        json={"officer_id": second.id},
        headers={**auth_header(boss), "If-Match": claimed.headers["ETag"]},
    )
    assert moved.status_code == 200 and moved.json["assigned_officer_id"] == second.id
    wrong = client.post(
        f"/api/v1/officer/reports/{report.id}/assign",
        json={"officer_id": officer(agency="DLH").id},
        headers={**auth_header(boss), "If-Match": moved.headers["ETag"]},
    )
    assert wrong.status_code == 422 and wrong.json["code"] == "officer_invalid"
    assert (
        client.post(
            f"/api/v1/officer/reports/{report.id}/assign",
            json={"officer_id": second.id},
            headers={**auth_header(first), "If-Match": moved.headers["ETag"]},
        ).status_code
        == 403
    )
    actions = db.session.scalars(
        select(ReportHistory.action).where(ReportHistory.report_id == report.id).order_by(ReportHistory.id)
    ).all()
    assert actions == ["create", "claim", "assign"]


def test_transfer_to_another_kelurahan_or_agency(client, ctx):
    report = make_report(status="verified")
    staff = kelurahan_officer()  # passing a report to another kelurahan is the kelurahan unit's decision
    etag = if_match(client, staff, report.id)
    no_reason = client.post(
        f"/api/v1/officer/reports/{report.id}/transfer",
        json={"kelurahan_code": "31.74.05.1003"},
        headers={**auth_header(staff), "If-Match": etag},
    )
    assert no_reason.status_code == 422
    unknown = client.post(
        f"/api/v1/officer/reports/{report.id}/transfer",
        json={"kelurahan_code": "31.74.05.9999", "reason": "Salah titik"},
        headers={**auth_header(staff), "If-Match": etag},
    )
    assert unknown.json["code"] == "kelurahan_unknown"
    moved = client.post(
        f"/api/v1/officer/reports/{report.id}/transfer",
        json={"kelurahan_code": "31.71.01.1001", "reason": "Titik sebenarnya di Gambir"},
        headers={**auth_header(staff), "If-Match": etag},
    )
    assert moved.status_code == 200, moved.json
    assert (moved.json["status"], moved.json["kelurahan_code"]) == ("submitted", "31.71.01.1001")
    stored = db.session.get(Report, report.id)
    assert (stored.kecamatan_code, stored.kota_code) == ("31.71.01", "31.71")
    # Now Gambir's to verify: Pondok Pinang's kelurahan unit no longer sees it, Gambir's does.
    assert report.id not in queue_ids(client, staff)
    assert report.id in queue_ids(client, kelurahan_officer(areas=["31.71.01.1001"]))

    flood = make_report(at=(-6.2650, 106.7800), category_code="banjir", status="dispatched")
    dsda = officer(agency="DSDA")
    to_dbm = client.post(
        f"/api/v1/officer/reports/{flood.id}/transfer",
        json={"agency_code": "DBM", "reason": "Jalan amblas, bukan saluran"},
        headers={**auth_header(dsda), "If-Match": if_match(client, dsda, flood.id)},
    )
    assert to_dbm.status_code == 200
    assert (to_dbm.json["status"], to_dbm.json["agency_code"], to_dbm.json["assigned_officer_id"]) == (
        "verified",
        "DBM",
        None,
    )
    entry = db.session.scalars(
        select(ReportHistory).where(ReportHistory.report_id == flood.id).order_by(ReportHistory.id.desc())
    ).first()
    assert entry.details == {"from_agency_code": "DSDA", "to_agency_code": "DBM"}
    closed = make_report(status="closed")
    refused = client.post(
        f"/api/v1/officer/reports/{closed.id}/transfer",
        json={"agency_code": "DSDA", "reason": "coba"},
        headers={**auth_header(staff), "If-Match": f'"{closed.version}"'},
    )
    assert refused.status_code == 409 and refused.json["code"] == "transfer_not_allowed"


def test_admin_routes_an_unrouted_report(client, ctx):
    report = stored_unrouted_report("sampah")
    boss = admin()
    routed = client.post(
        f"/api/v1/officer/reports/{report.id}/transfer",
        json={"kelurahan_code": "31.72.02.1001", "reason": "Sampah di dermaga Tanjung Priok"},
        headers={**auth_header(boss), "If-Match": f'"{report.version}"'},
    )
    assert routed.status_code == 200 and routed.json["kelurahan_code"] == "31.72.02.1001"
    assert client.get("/api/v1/officer/reports?unrouted=true", headers=auth_header(boss)).json["items"] == []


def _start_work(client, staff, report):
    """The officer starts the work: the answer carries the capture token the first evidence photo needs."""
    started = client.post(
        f"/api/v1/reports/{report.id}/transitions",
        json={"to": "in_progress"},
        headers={**auth_header(staff), "If-Match": f'"{report.version}"'},
    )
    assert started.status_code == 200, started.json
    return started.json["capture_token"]["token"], started.headers["ETag"]


def _evidence_form(token, photo, *, at=None, lat=-6.27102, lon=106.77703, accuracy=8.0, phase="after"):
    fields = {
        "token": token,
        "captured_at": (at or utcnow()).isoformat(),
        "latitude": str(lat),
        "longitude": str(lon),
        "accuracy_m": str(accuracy),
        "phase": phase,
        "photos": [FileStorage(io.BytesIO(photo), filename="bukti.png")],
    }
    return encode_multipart({k: v for k, v in fields.items() if v is not None})


def test_evidence_may_be_an_iphone_heic(client, ctx, photo_storage):
    staff = officer()
    report = make_report(status="dispatched", assigned_officer_id=staff.id)
    token, _etag = _start_work(client, staff, report)
    boundary, body = encode_multipart(
        {
            "token": token,
            "captured_at": utcnow().isoformat(),
            "latitude": "-6.2710",
            "longitude": "106.7770",
            "accuracy_m": "5",
            "photos": [FileStorage(io.BytesIO(heic_with_gps()), filename="bukti.heic")],
        }
    )
    uploaded = client.post(
        f"/api/v1/officer/reports/{report.id}/evidence",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=auth_header(staff),
    )
    assert uploaded.status_code == 201, uploaded.json
    assert [(p["kind"], p["content_type"]) for p in uploaded.json] == [("evidence", "image/jpeg")]
    served = client.get(uploaded.json[0]["url"], headers=auth_header(staff))
    assert served.mimetype == "image/jpeg" and b"iPhoneRahasia" not in served.data


def test_evidence_upload_then_resolve(client, ctx, photo_storage):
    # Issue 15: evidence needs the capture token of the assignment, a capture time and a GPS fix; the officer's
    # "done" waits for validation (awaiting_validation) where it used to be resolved in one step.
    staff = officer()
    report = make_report(status="dispatched", assigned_officer_id=staff.id)
    token, etag = _start_work(client, staff, report)
    boundary, body = _evidence_form(token, noise_png(1))
    content_type = f"multipart/form-data; boundary={boundary}"
    outsider = client.post(
        f"/api/v1/officer/reports/{report.id}/evidence",
        data=body,
        content_type=content_type,
        headers=auth_header(officer(agency="DLH")),
    )
    assert outsider.status_code == 403
    uploaded = client.post(
        f"/api/v1/officer/reports/{report.id}/evidence",
        data=body,
        content_type=content_type,
        headers=auth_header(staff),
    )
    assert uploaded.status_code == 201, uploaded.json
    assert uploaded.json[0]["kind"] == "evidence"
    resolved = client.post(
        f"/api/v1/reports/{report.id}/transitions",
        json={"to": "awaiting_validation", "note": "Sudah ditambal"},
        headers={**auth_header(staff), "If-Match": etag},
    )
    assert resolved.status_code == 200, resolved.json
    public = client.get(f"/api/v1/reports/{report.id}").json
    assert public["resolution_note"] == "Sudah ditambal"
    assert [p["kind"] for p in public["photos"]] == ["evidence"]
    assert client.get(public["photos"][0]["url"]).status_code == 200
    late = client.post(
        f"/api/v1/officer/reports/{report.id}/evidence",
        data=body,
        content_type=content_type,
        headers=auth_header(staff),
    )
    assert late.status_code == 409 and late.json["code"] == "evidence_not_allowed"


def test_staff_detail_has_notes_and_history_but_the_reporter_only_by_id(client, ctx):
    reporter = citizen(full_name="Dewi Kartika", phone="+6281233344455")
    report = make_report(reporter, anonymous=True)
    staff = officer()
    note = client.post(
        f"/api/v1/officer/reports/{report.id}/notes",
        json={"body": "Sudah koordinasi dengan RT"},
        headers=auth_header(staff),
    )
    assert note.status_code == 201 and note.json["internal"] is True
    detail = client.get(f"/api/v1/officer/reports/{report.id}", headers=auth_header(staff))
    assert detail.status_code == 200
    body = detail.get_data(as_text=True)
    assert detail.json["reporter_id"] == reporter.id and detail.json["anonymous"] is True
    assert "Dewi" not in body and "81233344455" not in body and reporter.nik not in body
    assert [c["body"] for c in detail.json["comments"]] == ["Sudah koordinasi dengan RT"]
    # Issue 15: the history holds every step, the internal note too (left out of the reporter's view).
    assert [h["action"] for h in detail.json["history"]] == ["create", "note"]
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.subject_id == reporter.id)) is None
    for outsider in (officer(agency="DLH", areas=["31.71"]), citizen()):
        assert client.get(f"/api/v1/officer/reports/{report.id}", headers=auth_header(outsider)).status_code == 403
    assert (
        client.post(
            f"/api/v1/officer/reports/{report.id}/notes",
            json={"body": "x"},
            headers=auth_header(officer(agency="DLH", areas=["31.71"])),
        ).status_code
        == 403
    )


def test_reading_the_reporters_contact_needs_a_reason_and_is_audited(client, ctx):
    reporter = citizen(full_name="Dewi Kartika", phone="+6281233344455")
    report = make_report(reporter, anonymous=True)
    staff = officer()
    url = f"/api/v1/officer/reports/{report.id}/reporter"
    no_reason = client.get(url, headers=auth_header(staff))
    assert no_reason.status_code == 422 and no_reason.json["code"] == "reason_required"
    contact = client.get(url, headers={**auth_header(staff), "X-Access-Reason": "Menanyakan titik lokasi"})
    assert contact.status_code == 200
    assert (contact.json["full_name"], contact.json["phone"]) == ("Dewi Kartika", "+6281233344455")
    assert contact.json["nik_masked"] == reporter.nik_masked and reporter.nik not in contact.get_data(as_text=True)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.subject_id == reporter.id))
    assert (entry.actor_id, entry.action) == (staff.id, "report.reporter.read")
    assert report.id in entry.reason and "Menanyakan titik lokasi" in entry.reason
    assert (
        client.get(
            url, headers={**auth_header(officer(agency="DLH", areas=["31.71"])), "X-Access-Reason": "Penasaran saja"}
        ).status_code
        == 403
    )
    export = client.get("/api/v1/me/data-export", headers=auth_header(reporter)).json
    assert export["accessed_by_officials"][0]["action"] == "report.reporter.read"


def test_citizens_cannot_call_officer_functions(client, ctx):
    report = make_report(status="verified")
    user = citizen()
    headers = {**auth_header(user), "If-Match": f'"{report.version}"'}
    for path, body in (
        ("claim", None),
        ("assign", {"officer_id": user.id}),
        ("duplicate", {"duplicate_of": "x"}),
        ("transfer", {"agency_code": "DSDA", "reason": "x"}),
        ("notes", {"body": "x"}),
    ):
        response = client.post(f"/api/v1/officer/reports/{report.id}/{path}", json=body, headers=headers)
        assert response.status_code == 403, path
    verify = client.post(f"/api/v1/reports/{report.id}/transitions", json={"to": "dispatched"}, headers=headers)
    assert verify.status_code == 403 and verify.json["code"] == "transition_forbidden"
