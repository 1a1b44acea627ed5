"""Officers finding reports: by the reference a citizen reads out, and the queue's overdue, breached, area, agency
and text filters (within the staff scope; admins across agencies)."""

from datetime import timedelta

import pytest

from jaki.db import utcnow
from jaki.reports.search import reference_digits
from tests.factories import auth_header
from tests.reports.factories import admin, agency_admin, citizen, make_report, officer


def queue_ids(client, user, query=""):
    response = client.get(f"/api/v1/officer/reports{query}", headers=auth_header(user))
    assert response.status_code == 200, response.json
    return [r["id"] for r in response.json["items"]]


@pytest.mark.parametrize(
    "spoken", ["LAP-3F2A9C1B", "lap-3f2a9c1b", " LAP 3F2A 9C1B ", "3F2A9C1B", "3f2a-9c1b", "LAP-3F2A.9C1B"]
)
def test_a_reference_is_read_however_it_is_typed(spoken):
    assert reference_digits(spoken) == "3f2a9c1b"


@pytest.mark.parametrize("junk", ["", "LAP-", "LAP-3F2A9C1", "LAP-3F2A9C1BX", "LAP-GGGGGGGG", "x" * 100, None])
def test_anything_else_is_no_reference(junk):
    assert reference_digits(junk) is None


def test_an_officer_finds_the_report_a_citizen_reads_out(client, ctx):
    report = make_report(status="verified")
    staff = officer()  # DBM, 31.74.05: the report is theirs
    spoken = " " + report.reference.lower().replace("-", " ") + " "
    response = client.get(
        "/api/v1/officer/reports/by-reference", query_string={"reference": spoken}, headers=auth_header(staff)
    )
    assert response.status_code == 200, response.json
    assert response.json["id"] == report.id and response.json["reference"] == report.reference
    assert response.headers["ETag"] == f'"{report.version}"'  # ready for If-Match on the next step

    # Another agency's officer is told it is not theirs; an admin sees it whatever the agency.
    dsda = officer(agency="DSDA", areas=["31.74.05"])
    other = client.get(f"/api/v1/officer/reports/by-reference?reference={report.reference}", headers=auth_header(dsda))
    assert other.status_code == 403
    everyone = client.get(
        f"/api/v1/officer/reports/by-reference?reference={report.reference}", headers=auth_header(admin())
    )
    assert everyone.status_code == 200 and everyone.json["id"] == report.id


def test_a_wrong_reference_is_a_clear_answer(client, ctx):
    staff = officer()
    bad = client.get("/api/v1/officer/reports/by-reference?reference=LAP-12", headers=auth_header(staff))
    assert bad.status_code == 422 and bad.json["code"] == "reference_invalid" and "LAP-" in bad.json["message"]
    missing = client.get("/api/v1/officer/reports/by-reference?reference=LAP-00000000", headers=auth_header(staff))
    assert missing.status_code == 404 and missing.json["code"] == "reference_not_found"
    english = client.get(
        "/api/v1/officer/reports/by-reference?reference=LAP-00000000",
        headers={**auth_header(staff), "Accept-Language": "en"},
    )
    assert english.json["message"] == "No report has this reference."
    assert client.get("/api/v1/officer/reports/by-reference?reference=LAP-00000000").status_code == 401
    assert (
        client.get(
            "/api/v1/officer/reports/by-reference?reference=LAP-00000000", headers=auth_header(citizen())
        ).status_code
        == 403
    )


def test_queue_filters_overdue_breached_area_agency_and_text(client, ctx):
    now = utcnow()
    late = make_report(status="dispatched", sla_due_at=now - timedelta(hours=2))
    breached = make_report(
        status="in_progress", sla_breached_at=now - timedelta(hours=1), sla_due_at=now - timedelta(hours=3)
    )
    on_time = make_report(
        status="verified", description="Trotoar amblas dekat halte busway", address="Jl. Ciputat Raya"
    )
    blok_m = make_report(at="blok_m", status="verified")  # 31.74.07
    flood = make_report(at=(-6.2600, 106.7790), category_code="banjir", status="dispatched")  # DSDA
    boss = agency_admin()  # DBM, 31.74

    assert set(queue_ids(client, boss, "?overdue=true")) == {late.id, breached.id}
    assert queue_ids(client, boss, "?sla_breached=true") == [breached.id]
    assert set(queue_ids(client, boss, "?area=31.74.07")) == {blok_m.id}
    assert set(queue_ids(client, boss, "?area=31.74.05.1002")) == {late.id, breached.id, on_time.id}
    # Text: description or address, any case; a reference finds its report.
    assert queue_ids(client, boss, "?q=HALTE%20busway") == [on_time.id]
    assert queue_ids(client, boss, "?q=ciputat") == [on_time.id]
    assert queue_ids(client, boss, f"?q={blok_m.reference}") == [blok_m.id]
    assert queue_ids(client, boss, "?q=100%25") == []  # % is a character, not a wildcard
    # Filters narrow the scope, never widen it: DBM's admin asking for DSDA's work gets nothing; an admin gets it.
    assert queue_ids(client, boss, "?agency=DSDA") == []
    assert queue_ids(client, admin(), "?agency=DSDA") == [flood.id]
    assert set(queue_ids(client, admin(), "?agency=DBM&overdue=true")) == {late.id, breached.id}
    bad = client.get("/api/v1/officer/reports?area=Jakarta", headers=auth_header(boss))
    assert bad.status_code == 422 and "area" in bad.json["errors"]
