"""POST requests: API keys, required fields, jaki's pipeline behind it, sealed contact data, rate limits, no SSRF."""

import logging
import socket

import pytest
from sqlalchemy import func, select

from config import Testing
from jaki.events import OutboxEvent
from jaki.extensions import db
from jaki.open311 import operations
from jaki.open311.models import ApiKey, Submission
from jaki.reports.models import Report, ReportHistory
from tests.open311.helpers import (
    BANDUNG,
    BASE,
    MONAS,
    PONDOK_PINANG,
    children,
    error_descriptions,
    make_report,
    text,
    xml,
)

CONTACT = {
    "email": "rahasia.pelapor@example.com",
    "phone": "081298765432",
    "first_name": "Wulandari",
    "last_name": "Kusumawardani",
    "account_id": "akun-7731",
    "device_id": "perangkat-5521",
}


def form(key, **overrides):
    body = {
        "api_key": key,
        "service_code": "jalan_rusak",
        "lat": str(PONDOK_PINANG[0]),
        "long": str(PONDOK_PINANG[1]),
        "address_string": "Jl. Pondok Pinang Raya",
        "description": "Aspal mengelupas dan berlubang dalam",
        **CONTACT,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def post(client, body, fmt="xml", **kwargs):
    return client.post(f"{BASE}/requests.{fmt}", data=body, **kwargs)


def count_reports():
    return db.session.scalar(select(func.count(Report.id)))


def test_post_creates_a_report_through_jakis_pipeline(client, api_key):
    response = post(client, form(api_key, **{"attribute[kedalaman]": "20cm"}))
    assert response.status_code == 200, response.data
    root = xml(response)
    assert root.tag == "service_requests" and children(root) == ["request"]
    item = root[0]
    assert children(item) == ["service_request_id", "token", "service_notice", "account_id"]
    assert text(item, "account_id") == "akun-7731"
    assert "Dinas Bina Marga" in text(item, "service_notice") and "72 jam" in text(item, "service_notice")

    report = db.session.get(Report, text(item, "service_request_id"))
    assert report.source == "open311" and report.reporter_id is None
    assert report.kelurahan_code == "31.74.05.1002" and report.agency_code == "DBM"  # routed
    assert report.status == "submitted" and report.sla_due_at > report.created_at  # SLA clock
    assert report.description == "Aspal mengelupas dan berlubang dalam"
    assert report.address == "Jl. Pondok Pinang Raya"
    history = db.session.scalars(select(ReportHistory).where(ReportHistory.report_id == report.id)).all()
    assert [h.action for h in history] == ["create"]

    submission = db.session.scalar(select(Submission).where(Submission.report_id == report.id))
    assert submission.token == text(item, "token") and submission.attributes == {"kedalaman": "20cm"}
    for value in CONTACT.values():  # sealed, not stored in clear
        assert value not in submission.contact_sealed
    assert db.session.scalar(select(ApiKey.last_used_at)) is not None


def test_post_json_mirrors_xml(client, api_key):
    response = post(client, form(api_key, account_id=""), fmt="json")
    assert response.status_code == 200
    body = response.json
    assert isinstance(body, list) and list(body[0]) == ["service_request_id", "token", "service_notice", "account_id"]
    assert body[0]["account_id"] is None


@pytest.mark.parametrize("key", [None, "", "   ", "o311_salah", "x" * 500])
def test_missing_or_bad_api_key_is_403(client, api_key, key):
    before = count_reports()
    response = post(client, form(key))
    assert response.status_code == 403
    assert "api_key" in error_descriptions(response)[0]
    assert count_reports() == before


def test_revoked_key_is_403(client, api_key):
    key = db.session.scalar(select(ApiKey))
    operations.revoke_key(key.id)
    assert post(client, form(api_key)).status_code == 403


def test_api_key_is_checked_before_anything_else(client, api_key):
    response = post(client, form("salah", service_code=None, lat=None), fmt="json")
    assert response.status_code == 403


@pytest.mark.parametrize("service_code", [None, "", "  "])
def test_missing_service_code_is_400(client, api_key, service_code):
    response = post(client, form(api_key, service_code=service_code))
    assert response.status_code == 400
    assert error_descriptions(response) == ["service_code wajib diisi."]


def test_unknown_service_code_is_400(client, api_key):
    response = post(client, form(api_key, service_code="tidak_ada"), fmt="json")
    assert response.status_code == 400 and "service_code" in error_descriptions(response)[0]


@pytest.mark.parametrize(
    "location",
    [
        {"lat": None, "long": None},
        {"lat": "", "long": ""},
        {"lat": None, "long": None, "address_string": "Jl. Sudirman No. 1"},
        {"lat": None, "long": None, "address_id": "ALAMAT-123"},
        {"lat": str(MONAS[0]), "long": None},
    ],
)
def test_without_coordinates_is_400_saying_so(client, api_key, location):
    before = count_reports()
    response = post(client, form(api_key, **location))
    assert response.status_code == 400
    assert "lat dan long" in error_descriptions(response)[0]
    assert count_reports() == before


def test_location_errors_in_english(client, api_key):
    response = post(client, form(api_key, lat=None, long=None), headers={"Accept-Language": "en"})
    assert "Coordinates are required" in error_descriptions(response)[0]


def test_outside_jakarta_is_400(client, api_key):
    before = count_reports()
    response = post(client, form(api_key, lat=str(BANDUNG[0]), long=str(BANDUNG[1])), fmt="json")
    assert response.status_code == 400
    descriptions = error_descriptions(response)
    assert descriptions and all(
        d.startswith(("lat:", "long:")) and "luar wilayah DKI Jakarta" in d for d in descriptions
    )
    assert count_reports() == before


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"lat": "utara"}, "lat"),
        ({"long": "nan"}, "long"),
        ({"lat": "95"}, "lat"),
        ({"email": "bukan-email"}, "email"),
        ({"media_url": "ftp://example.org/a.jpg"}, "media_url"),
        ({"media_url": "javascript:alert(1)"}, "media_url"),
        ({"description": "x" * 2001}, "description"),
        ({"description": "abc"}, "description"),
        ({"address_string": "J" * 301}, "address_string"),
        ({"attribute[a]": "v" * 501}, "attribute[a]"),
    ],
)
def test_invalid_fields_are_400_naming_the_field(client, api_key, fields, field):
    response = post(client, form(api_key, **fields))
    assert response.status_code == 400
    assert any(d.startswith(field + ":") for d in error_descriptions(response)), error_descriptions(response)


def test_empty_optional_fields_behave_as_missing(client, api_key):
    body = form(
        api_key,
        description="",
        email="",
        phone="",
        first_name="",
        last_name="",
        account_id="",
        device_id="",
        media_url="",
        address_string="",
        address_id="",
        jurisdiction_id="",
    )
    response = post(client, body, fmt="json")
    assert response.status_code == 200, response.json
    report = db.session.get(Report, response.json[0]["service_request_id"])
    assert report.address is None and "tanpa keterangan" in report.description
    submission = db.session.scalar(select(Submission).where(Submission.report_id == report.id))
    assert submission.contact_sealed is None and submission.media_url is None and submission.address_id is None


def test_unknown_jurisdiction_is_404(client, api_key):
    assert post(client, form(api_key, jurisdiction_id="chicago.gov")).status_code == 404
    assert post(client, form(api_key, jurisdiction_id="jakarta.go.id")).status_code == 200


def test_duplicate_nearby_is_still_created_and_noticed(client, api_key):
    existing = make_report()
    response = post(client, form(api_key), fmt="json")
    assert response.status_code == 200
    assert response.json[0]["service_request_id"] != existing.id
    assert "1 laporan serupa" in response.json[0]["service_notice"]


def test_media_url_is_stored_and_never_fetched(client, api_key, monkeypatch):
    resolved = []
    real_getaddrinfo = socket.getaddrinfo

    def watching(host, *args, **kwargs):
        resolved.append(host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", watching)
    url = "https://foto.contoh-ssrf.example/lubang.jpg?token=abc"
    response = post(client, form(api_key, media_url=url), fmt="json")
    assert response.status_code == 200
    assert not any("contoh-ssrf" in str(host) for host in resolved)
    submission = db.session.scalar(select(Submission))
    assert submission.media_url == url
    shown = client.get(f"{BASE}/requests/{response.json[0]['service_request_id']}.json").json[0]
    assert shown["media_url"] is None  # an unfetched third-party URL is not republished as our photo


def test_submission_commits_with_the_report_or_not_at_all(client, api_key, monkeypatch):
    from jaki.reports import operations as reports

    def failing(*args, **kwargs):
        raise RuntimeError("storage down")

    monkeypatch.setattr(reports, "create_report", failing)
    response = post(client, form(api_key))
    assert response.status_code == 500 and xml(response).tag == "errors"
    assert db.session.scalar(select(func.count(Submission.id))) == 0


def test_no_outbox_event_carries_submitter_data(client, api_key):
    post(client, form(api_key))
    payloads = " ".join(str(e.payload) for e in db.session.scalars(select(OutboxEvent)))
    for value in CONTACT.values():
        assert value not in payloads


def test_submitter_data_never_logged(client, api_key, caplog):
    caplog.set_level(logging.DEBUG)
    post(client, form(api_key))
    post(client, form(api_key, email="bukan-email"))
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "open311 request created" in logged
    for value in (*CONTACT.values(), api_key):
        assert value not in logged


def test_rate_limited_per_api_key(app, client, api_key):
    _other, other_raw = operations.create_key("Aplikasi Lain")
    app.config["OPEN311_POST_RATE_PER_KEY"] = "2 per minute"
    app.config["OPEN311_POST_RATE_PER_CLIENT"] = "100 per minute"
    try:
        statuses = [post(client, form(api_key, lat=str(MONAS[0] + i * 0.001))).status_code for i in range(3)]
        assert statuses == [200, 200, 429]
        limited = post(client, form(api_key), fmt="json")
        assert limited.status_code == 429 and limited.headers["Retry-After"]
        assert error_descriptions(limited) == ["Terlalu banyak permintaan. Coba lagi nanti."]
        assert post(client, form(other_raw)).status_code == 200  # another client's key is not affected
    finally:
        app.config["OPEN311_POST_RATE_PER_KEY"] = Testing.OPEN311_POST_RATE_PER_KEY
        app.config["OPEN311_POST_RATE_PER_CLIENT"] = Testing.OPEN311_POST_RATE_PER_CLIENT


def test_rate_limited_per_client_whatever_the_key(app, client, api_key):
    app.config["OPEN311_POST_RATE_PER_CLIENT"] = "3 per minute"
    try:
        statuses = [post(client, form(f"tebakan-{i}")).status_code for i in range(3)]
        assert statuses == [403, 403, 403]
        assert post(client, form(api_key)).status_code == 429  # guessing keys spends the client's budget
        other = post(client, form(api_key), environ_base={"REMOTE_ADDR": "10.1.2.3"})
        assert other.status_code == 200
    finally:
        app.config["OPEN311_POST_RATE_PER_CLIENT"] = Testing.OPEN311_POST_RATE_PER_CLIENT


def test_gets_are_rate_limited_per_client(app, client, api_key):
    app.config["OPEN311_GET_RATE_PER_CLIENT"] = "2 per minute"
    try:
        assert [client.get(f"{BASE}/services.json").status_code for _ in range(3)] == [200, 200, 429]
    finally:
        app.config["OPEN311_GET_RATE_PER_CLIENT"] = Testing.OPEN311_GET_RATE_PER_CLIENT


def test_an_account_id_that_is_a_nik_is_normalised_in_the_one_place(client, api_key):
    import json

    from jaki.auth.crypto import cipher
    from tests.factories import make_nik, nik_spellings

    nik = make_nik()
    response = post(client, form(api_key, account_id=nik_spellings(nik)["spaces"]), fmt="json")
    assert response.status_code == 200, response.json
    assert response.json[0]["account_id"] == nik
    submission = db.session.scalar(
        select(Submission).where(Submission.report_id == response.json[0]["service_request_id"])
    )
    contact = json.loads(cipher().decrypt(submission.contact_sealed, operations.CONTACT_PURPOSE))
    assert contact["account_id"] == nik
    # Sixteen digits that cannot be a NIK are refused in GeoReport's format, naming the field.
    before = count_reports()
    bad = post(client, form(api_key, account_id="3199-0541-0790-0003"), fmt="json")
    assert bad.status_code == 400
    assert error_descriptions(bad)[0].startswith("account_id:")
    assert count_reports() == before
    # Any other account id is the aggregator's own and kept as sent.
    other = post(client, form(api_key, account_id="akun 7731-B", lat="-6.2650", long="106.7800"), fmt="json")
    assert other.json[0]["account_id"] == "akun 7731-B"


@pytest.mark.parametrize(
    ("lat", "lon", "start"),
    [
        (-6.2383, 106.9756, "Lokasi berada di Kota Bekasi, di luar wilayah DKI Jakarta"),
        (-6.1256, 106.6558, "Lokasi berada di Kota Tangerang, di luar wilayah DKI Jakarta"),  # Soekarno-Hatta
        (-6.0, 106.9, "Lokasi berada di luar wilayah DKI Jakarta"),  # the Java Sea
    ],
    ids=["kota-bekasi", "soekarno-hatta", "java-sea"],
)
def test_a_request_outside_jakarta_is_refused_never_forwarded(client, api_key, lat, lon, start):
    before = count_reports()
    submissions = db.session.scalar(select(func.count(Submission.token)))
    response = post(client, form(api_key, lat=str(lat), long=str(lon)), fmt="json")
    assert response.status_code == 400
    descriptions = error_descriptions(response)
    assert descriptions == [f"lat: {descriptions[0][5:]}", f"long: {descriptions[0][5:]}"]
    assert descriptions[0][5:].startswith(start)
    assert count_reports() == before and db.session.scalar(select(func.count(Submission.token))) == submissions
