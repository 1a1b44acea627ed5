"""GET requests (filters, default window, cap, pages), one request, tokens, and what the public may see."""

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import insert

from config import Testing
from jaki.db import utcnow
from jaki.extensions import db
from jaki.reports import operations as reports
from jaki.reports.models import Report
from tests.factories import make_user
from tests.open311.helpers import (
    BASE,
    MONAS,
    PONDOK_PINANG,
    children,
    error_descriptions,
    make_report,
    png_bytes,
    seed_categories,
    text,
    xml,
)
from tests.reports.factories import report_row

REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$")


def ids(client, query="", fmt="json"):
    response = client.get(f"{BASE}/requests.{fmt}{query}")
    assert response.status_code == 200, response.data
    if fmt == "xml":
        return [text(r, "service_request_id") for r in xml(response)]
    return [r["service_request_id"] for r in response.json]


def test_requests_list_in_xml_with_the_specs_elements(client, ctx):
    report = make_report(address="Jl. Pondok Pinang Raya")
    response = client.get(f"{BASE}/requests.xml")
    root = xml(response)
    assert root.tag == "service_requests" and children(root) == ["request"]
    item = root[0]
    assert children(item) == REQUEST_FIELDS
    assert text(item, "service_request_id") == report.id
    assert text(item, "status") == "open" and text(item, "status_notes") == "Menunggu"
    assert text(item, "service_code") == "jalan_rusak" and text(item, "service_name") == "Jalan rusak"
    assert text(item, "agency_responsible") == "Dinas Bina Marga"
    assert text(item, "address") == "Jl. Pondok Pinang Raya"
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3C.match(text(item, field)), text(item, field)
    assert float(text(item, "lat")) == PONDOK_PINANG[0] and float(text(item, "long")) == PONDOK_PINANG[1]

    body = client.get(f"{BASE}/requests.json").json
    assert list(body[0]) == REQUEST_FIELDS and body[0]["lat"] == PONDOK_PINANG[0]
    assert body[0]["zipcode"] is None and W3C.match(body[0]["requested_datetime"])


def test_filter_by_ids_overrides_everything_else(client, ctx):
    a, b, c = make_report(), make_report(category_code="banjir"), make_report(age_days=200)
    assert sorted(ids(client, f"?service_request_id={a.id},{c.id}")) == sorted([a.id, c.id])
    # Old, other service, other status: the ids win, as the spec says.
    assert ids(client, f"?service_request_id={c.id}&service_code=banjir&status=closed") == [c.id]
    assert ids(client, f"?service_request_id={b.id},{uuid.uuid4()}") == [b.id]


def test_filter_by_service_code_and_status(client, ctx):
    road = make_report()
    flood = make_report(category_code="banjir")
    done = make_report(status="resolved", resolution_note="Lubang sudah ditambal", resolved_at=utcnow())
    closed = make_report(category_code="banjir", status="closed", closed_at=utcnow())
    merged = make_report(status="duplicate", duplicate_of_id=road.id)
    assert set(ids(client, "?service_code=banjir")) == {flood.id, closed.id}
    assert set(ids(client, "?status=open")) == {road.id, flood.id}
    assert set(ids(client, "?status=closed")) == {done.id, closed.id, merged.id}
    assert set(ids(client, "?status=open,closed")) == {road.id, flood.id, done.id, closed.id, merged.id}
    assert set(ids(client, "?status=closed&service_code=banjir")) == {closed.id}
    bad = client.get(f"{BASE}/requests.xml?status=pending")
    assert bad.status_code == 400 and error_descriptions(bad)[0].startswith("status:")


def test_status_notes_are_public_notes(client, ctx):
    road = make_report()
    make_report(status="resolved", resolution_note="Lubang sudah ditambal", resolved_at=utcnow(), at=MONAS)
    make_report(status="duplicate", duplicate_of_id=road.id, category_code="banjir")
    body = {r["service_code"] + r["status"]: r for r in client.get(f"{BASE}/requests.json").json}
    assert body["jalan_rusakclosed"]["status_notes"] == "Lubang sudah ditambal"
    assert body["jalan_rusakclosed"]["expected_datetime"] is None
    assert body["banjirclosed"]["status_notes"] == f"Digabung dengan laporan {road.id}."


def test_date_filters(client, ctx):
    old = make_report(age_days=40)
    recent = make_report(age_days=5)
    now = make_report()
    day = timedelta(days=1)
    start = (utcnow() - 50 * day).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (utcnow() - 10 * day).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(client, f"?start_date={start}&end_date={end}") == [old.id]
    assert set(ids(client, f"?start_date={end}")) == {recent.id, now.id}
    assert ids(client, f"?end_date={end}") == [old.id]
    # A "+07:00" offset the client forgot to encode arrives as " 07:00": still understood.
    wib = (utcnow() + timedelta(hours=7) - 10 * day).strftime("%Y-%m-%dT%H:%M:%S")
    assert ids(client, f"?end_date={wib}+07:00") == [old.id]
    assert ids(client, f"?end_date={wib}%2B07:00") == [old.id]
    # A date alone (Jakarta's midnight) is a W3C datetime too.
    assert set(ids(client, f"?start_date={(utcnow() - 6 * day).date().isoformat()}")) == {recent.id, now.id}


@pytest.mark.parametrize(
    "query, word",
    [
        ("?start_date=kemarin", "start_date:"),
        ("?start_date=2026-01-10T00:00:00Z&end_date=2026-01-01T00:00:00Z", "start_date:"),
        ("?start_date=2026-01-01T00:00:00Z&end_date=2026-05-01T00:00:00Z", "end_date:"),
        ("?page=0", "page:"),
        ("?page_size=abc", "page_size:"),
    ],
)
def test_bad_query_parameters_are_400(client, ctx, query, word):
    response = client.get(f"{BASE}/requests.json{query}")
    assert response.status_code == 400
    assert error_descriptions(response)[0].startswith(word), error_descriptions(response)


def test_without_dates_the_last_90_days(client, ctx):
    inside = make_report(age_days=89)
    make_report(age_days=91)
    assert ids(client) == [inside.id]


def test_empty_parameters_behave_as_missing(client, ctx):
    a = make_report()
    b = make_report(category_code="banjir", status="closed", closed_at=utcnow())
    make_report(age_days=120)
    expected = ids(client)
    assert set(expected) == {a.id, b.id}
    query = "?service_request_id=&service_code=&start_date=&end_date=&status=&page=&page_size=&jurisdiction_id="
    assert ids(client, query) == expected
    assert ids(client, "?status=%20&service_code=", fmt="xml") == expected


def test_unknown_parameters_are_ignored(client, ctx):
    report = make_report()
    assert ids(client, "?vendor_extension=1&extensions=true") == [report.id]


def _bulk(count: int, *, category_code="sampah") -> list[str]:
    """Many public reports at once (rows only: the cap is about reading)."""
    seed_categories()
    now = utcnow()
    lat, lon = PONDOK_PINANG
    rows = []
    for i in range(count):
        at = now - timedelta(seconds=i)
        rows.append(
            report_row(
                lat,
                lon,
                source="app",
                category_code=category_code,
                description=f"Tumpukan sampah {i}",
                agency_code="DLH",
                sla_due_at=now + timedelta(hours=24),
                created_at=at,
                updated_at=at,
            )
        )
    db.session.execute(insert(Report), rows)
    db.session.commit()
    return [r["id"] for r in rows]


def test_at_most_1000_results(client, ctx):
    _bulk(1001)
    assert len(ids(client)) == 1000
    assert len(ids(client, "?page_size=5000")) == 1000
    assert len(ids(client, "?page=2")) == 1


def test_too_many_ids_is_400(client, ctx):
    query = ",".join(str(uuid.uuid4()) for _ in range(1001))
    response = client.get(f"{BASE}/requests.json?service_request_id={query}")
    assert response.status_code == 400


def test_pages_walk_the_list_newest_first_without_overlap(client, ctx):
    made = _bulk(7)  # newest first already
    pages = [ids(client, f"?page={n}&page_size=3") for n in (1, 2, 3, 4)]
    assert pages == [made[0:3], made[3:6], made[6:7], []]
    assert ids(client, "?page_size=3") == made[0:3]
    assert ids(client, "?page=2&page_size=3&service_code=jalan_rusak") == []


def test_the_cap_is_a_setting(app, client, ctx):
    made = _bulk(4)
    app.config["OPEN311_MAX_RESULTS"] = 3
    try:
        assert ids(client) == made[:3]
        assert ids(client, "?page=2") == made[3:]
    finally:
        app.config["OPEN311_MAX_RESULTS"] = Testing.OPEN311_MAX_RESULTS


def test_one_request_and_unknown_ones(client, ctx):
    report = make_report()
    root = xml(client.get(f"{BASE}/requests/{report.id}.xml"))
    assert root.tag == "service_requests" and len(root) == 1 and children(root[0]) == REQUEST_FIELDS
    assert client.get(f"{BASE}/requests/{report.id}.json").json[0]["service_request_id"] == report.id
    for missing in (str(uuid.uuid4()), "x" * 80, "bukan-id"):
        for fmt in ("xml", "json"):
            response = client.get(f"{BASE}/requests/{missing}.{fmt}")
            assert response.status_code == 404
            assert error_descriptions(response) == ["service_request_id tidak ditemukan."]


def test_rejected_reports_are_not_public(client, ctx):
    rejected = make_report(status="rejected", rejection_reason="Iklan")
    assert client.get(f"{BASE}/requests/{rejected.id}.json").status_code == 404
    assert ids(client) == []
    assert ids(client, f"?service_request_id={rejected.id}") == []


def test_tokens(client, api_key):
    response = client.post(
        f"{BASE}/requests.json",
        data={
            "api_key": api_key,
            "service_code": "sampah",
            "lat": str(MONAS[0]),
            "long": str(MONAS[1]),
            "description": "Sampah menumpuk di trotoar",
            "address_id": "ALAMAT-77",
        },
    )
    created = response.json[0]
    root = xml(client.get(f"{BASE}/tokens/{created['token']}.xml"))
    assert root.tag == "service_requests" and children(root[0]) == ["service_request_id", "token"]
    assert text(root[0], "service_request_id") == created["service_request_id"]
    assert client.get(f"{BASE}/tokens/{created['token']}.json").json == [
        {"service_request_id": created["service_request_id"], "token": created["token"]}
    ]
    missing = client.get(f"{BASE}/tokens/tidak-ada.json")
    assert missing.status_code == 404 and error_descriptions(missing) == ["Token tidak ditemukan."]
    # The address_id the client sent comes back with the request.
    shown = client.get(f"{BASE}/requests/{created['service_request_id']}.json").json[0]
    assert shown["address_id"] == "ALAMAT-77" and shown["service_code"] == "sampah"


def test_media_url_is_the_public_url_of_the_first_photo(client, ctx):
    report = make_report(photos=[png_bytes(), png_bytes((0, 0, 200))])
    shown = client.get(f"{BASE}/requests/{report.id}.json").json[0]
    first = next(p for p in report.photos if p.position == 0)
    assert shown["media_url"] == f"http://localhost/api/v1/reports/{report.id}/photos/{first.id}"
    assert client.get(shown["media_url"]).status_code == 200


def test_text_that_xml_cannot_carry_is_dropped(client, ctx):
    report = make_report(description="Banjir\x0b selutut \x01di sini")
    item = xml(client.get(f"{BASE}/requests/{report.id}.xml"))[0]
    assert text(item, "description") == "Banjir selutut di sini"


# ---- privacy ------------------------------------------------------------------------------------------


def test_no_personal_data_in_any_public_payload(client, api_key):
    citizen = make_user(full_name="Siti Rahayu Wulandari", phone="081311112222")
    named = make_report(citizen, anonymous=False, description="Jalan amblas di depan pasar")
    reports.add_comment(make_user(role="admin"), named.id, "Catatan internal: pelapor tetangga lurah", internal=True)
    contact = {
        "email": "pengirim.rahasia@example.com",
        "phone": "085799990000",
        "first_name": "Rahmat",
        "last_name": "Hidayatullah",
        "account_id": "akun-rahasia-1",
        "device_id": "perangkat-rahasia-1",
    }
    created = client.post(
        f"{BASE}/requests.json",
        data={
            "api_key": api_key,
            "service_code": "banjir",
            "lat": str(MONAS[0]),
            "long": str(MONAS[1]),
            "description": "Genangan air setinggi lutut",
            "media_url": "https://foto.example.org/a.jpg",
            "attribute[catatan]": "isi atribut rahasia",
            **contact,
        },
    ).json[0]

    bodies = []
    for fmt in ("xml", "json"):
        for path in (
            "requests",
            f"requests/{named.id}",
            f"requests/{created['service_request_id']}",
            f"tokens/{created['token']}",
            "services",
            "discovery",
        ):
            response = client.get(f"{BASE}/{path}.{fmt}")
            assert response.status_code == 200, path
            bodies.append(response.data.decode())
    public = "\n".join(bodies)
    secrets = [
        *contact.values(),
        citizen.nik,
        citizen.phone,
        "081311112222",
        "Siti",
        "Wulandari",
        citizen.id,
        "Catatan internal",
        "isi atribut rahasia",
        "foto.example.org",
        api_key,
    ]
    for secret in secrets:
        assert secret not in public, secret
    assert "Jalan amblas di depan pasar" in public  # the description is public, as in the feed


@pytest.mark.parametrize(
    "path",
    [
        "requests.json?service_code=%00",
        "requests.json?service_request_id=a%00b",
        "requests.json?status=%00",
        "requests.json?end_date=0001-01-01T00:00:00Z",
        "requests.json?start_date=9999-12-31T00:00:00Z",
        "requests.json?start_date=2026-01-01T00:00:00%2B25:00",
        "requests.json?page=99999999999999999999",
        "requests.json?page_size=-1",
        "requests/%00.json",
        "tokens/%00.xml",
        "services/%00.json",
    ],
)
def test_hostile_queries_are_open311_errors_not_500s(client, ctx, path):
    seed_categories()
    response = client.get(f"{BASE}/{path}")
    assert response.status_code in (400, 404), (path, response.data)
    error_descriptions(response)


def test_hostile_posts_are_400s(client, api_key):
    base = {"api_key": api_key, "service_code": "sampah", "lat": str(MONAS[0]), "long": str(MONAS[1])}
    for extra in (
        {"description": "Sampah\x00menumpuk"},
        {"email": "a\x00@example.com"},
        {"service_code": "sampah\x00"},
        {"attribute[a\x00]": "1"},
        {"attribute[a]": "\x00"},
        {"lat": "1e400"},
        {"long": "inf"},
    ):
        response = client.post(f"{BASE}/requests.json", data={**base, **extra})
        assert response.status_code == 400, (extra, response.json)
