"""Need to know: officials read a person's account within their scope, or by a reviewed break-glass read."""

from __future__ import annotations

from jaki.extensions import db
from tests.factories import auth_header, ensure_agency, make_user
from tests.reports.factories import make_report

URL = "/api/v1/admin/users/{}"


def _read(client, reader, person, **headers):
    return client.get(
        URL.format(person.id), headers={**auth_header(reader), "X-Access-Reason": "Tindak lanjut laporan", **headers}
    )


def test_scope_is_the_area_the_agency_cases_and_the_cases_held(client, ctx, areas):
    ensure_agency("DBM")
    ensure_agency("DINKES", "Dinas Kesehatan")
    officer = make_user(role="officer", agency_code="DBM", areas=["31.74.05"])
    elsewhere = make_user(role="officer", agency_code="DBM", areas=["31.71"])
    stranger = make_user(full_name="Warga Lain")
    refused = _read(client, officer, stranger)
    assert refused.status_code == 403 and refused.json["code"] == "pdp_need_to_know"

    reporter = make_user(full_name="Pelapor Jalan")
    report = make_report(reporter=reporter)  # Pondok Pinang, 31.74.05: DBM's case in the officer's area
    assert report.agency_code == "DBM"
    assert _read(client, officer, reporter).status_code == 200
    assert _read(client, elsewhere, reporter).status_code == 403  # another area of the same agency
    report.assigned_officer_id = elsewhere.id
    db.session.flush()
    assert _read(client, elsewhere, reporter).status_code == 200  # a case they hold
    resident = make_user(full_name="Warga Pondok Pinang", home_kelurahan_code="31.74.05.1002")
    assert _read(client, officer, resident).status_code == 200  # their area

    colleague = make_user(role="officer", agency_code="DINKES")
    assert _read(client, officer, colleague).status_code == 403
    assert _read(client, officer, colleague, **{"X-Break-Glass": "emergency"}).status_code == 403  # staff: admins'
    assert _read(client, officer, officer).status_code == 200  # one's own
    assert _read(client, make_user(role="admin"), stranger).status_code == 200  # account administration


def test_break_glass_needs_a_listed_reason_is_shown_to_the_citizen_and_reviewed(client, ctx):
    ensure_agency("DINKES", "Dinas Kesehatan")
    officer = make_user(role="officer", agency_code="DINKES", full_name="Petugas Dinkes")
    supervisor = make_user(role="agency_admin", agency_code="DINKES")
    citizen = make_user(full_name="Warga Sehat")

    unknown = _read(client, officer, citizen, **{"X-Break-Glass": "curious"})
    assert unknown.status_code == 422 and "X-Break-Glass" in unknown.json["errors"]
    assert _read(client, officer, citizen, **{"X-Break-Glass": "emergency"}).status_code == 200

    log = client.get("/api/v1/me/access-log", headers=auth_header(citizen)).json["items"]
    assert len(log) == 1 and log[0]["break_glass"] is True and log[0]["review_status"] == "pending"
    assert log[0]["official"]["name"] == "Petugas Dinkes"  # a break-glass read names the official

    queue = client.get("/api/v1/admin/break-glass", headers=auth_header(supervisor)).json["items"]
    assert [(e["break_glass_code"], e["actor_id"]) for e in queue] == [("emergency", officer.id)]
    other_agency = make_user(role="agency_admin", agency_code=ensure_agency("DBM").code)
    assert client.get("/api/v1/admin/break-glass", headers=auth_header(other_agency)).json["items"] == []
    entry = queue[0]["id"]
    url = f"/api/v1/admin/break-glass/{entry}/review"
    assert client.post(url, json={"verdict": "justified"}, headers=auth_header(officer)).status_code == 403
    assert client.post(url, json={"verdict": "justified"}, headers=auth_header(other_agency)).status_code == 403
    done = client.post(url, json={"verdict": "unjustified", "note": "Tidak darurat"}, headers=auth_header(supervisor))
    assert done.status_code == 200 and done.json["review_status"] == "unjustified"
    again = client.post(url, json={"verdict": "justified"}, headers=auth_header(make_user(role="admin")))
    assert again.status_code == 409
    log = client.get("/api/v1/me/access-log", headers=auth_header(citizen)).json["items"]
    assert log[0]["review_status"] == "unjustified"


def test_an_application_the_agency_handles_puts_the_applicant_in_scope(client, demo):
    from sqlalchemy import select

    from jaki.services.permits.models import Application

    submitted = db.session.scalars(
        select(Application).where(Application.applicant_id == demo.siti.id, Application.status != "draft")
    ).first()
    agency = submitted.type.agency_code
    officer = make_user(role="officer", agency_code=agency)  # no areas: only the agency's cases
    other = make_user(role="officer", agency_code="DINSOS")
    assert _read(client, officer, demo.siti).status_code == 200
    assert _read(client, other, demo.siti).status_code == 403
