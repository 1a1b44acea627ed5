"""HTTP caching: language on every localised answer, ETags per representation, 304s, public for anonymous readers."""

import re
import uuid

import pytest

from jaki.auth.models import User
from jaki.extensions import db
from tests.factories import auth_header
from tests.reports.factories import admin, citizen, make_report, officer, seed_categories
from tests.support.fixtures import areas, photo_storage  # noqa: F401 - reports need polygons and photo storage

EN = {"Accept-Language": "en"}


def vary(response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("Vary", "").split(",") if v.strip()}


def test_the_feed_is_shared_briefly_revalidated_and_told_apart_by_language(client, ctx, app, monkeypatch):
    make_report()
    monkeypatch.setitem(app.config, "PUBLIC_CACHE_SECONDS", 45)
    first = client.get("/api/v1/reports")
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "public, max-age=45"
    assert first.headers["Content-Language"] == "id" and {"accept-language", "authorization"} <= vary(first)
    etag = first.headers["ETag"]
    unchanged = client.get("/api/v1/reports", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    # A 304 carries what a cache needs to refresh its copy (RFC 9110: ETag, Vary, Cache-Control), not the body's
    # own headers (werkzeug drops Content-Language and Content-Type from it).
    assert unchanged.headers["ETag"] == etag and "accept-language" in vary(unchanged)
    assert unchanged.headers["Cache-Control"] == "public, max-age=45"
    # The English body is another representation: another tag, and the Indonesian tag does not match it.
    english = client.get("/api/v1/reports", headers={**EN, "If-None-Match": etag})
    assert english.status_code == 200 and english.headers["Content-Language"] == "en"
    assert english.headers["ETag"] != etag
    assert english.json["items"][0]["public_status"] != first.json["items"][0]["public_status"]
    # A new report changes the page: the old tag no longer holds.
    make_report(at="blok_m")
    assert client.get("/api/v1/reports", headers={"If-None-Match": etag}).status_code == 200


def test_a_report_revalidates_and_its_tag_follows_what_the_public_sees(client, ctx):
    report = make_report(status="verified")
    url = f"/api/v1/reports/{report.id}"
    first = client.get(url)
    assert first.headers["Cache-Control"] == "public, no-cache"  # cacheable, but asked again each time
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    # Weak comparison, as RFC 9110 has it for If-None-Match; a list; *.
    assert client.get(url, headers={"If-None-Match": "W/" + first.headers["ETag"]}).status_code == 304
    assert client.get(url, headers={"If-None-Match": f'"nope", {first.headers["ETag"]}'}).status_code == 304
    assert client.get(url, headers={"If-None-Match": "*"}).status_code == 304
    # A +1 changes the count the public sees (not the version If-Match checks): a fresh body, a fresh tag.
    client.post(f"{url}/support", headers=auth_header(citizen()))
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and again.json["support_count"] == first.json["support_count"] + 1
    assert again.headers["ETag"] != first.headers["ETag"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/report-categories",
        "/api/v1/areas?level=kota",
        "/api/v1/areas/31.74",
        "/api/v1/areas.geojson?level=kota",
    ],
)
def test_public_reference_answers_answer_304(client, ctx, path):
    seed_categories()
    first = client.get(path)
    assert first.status_code == 200 and first.headers["Cache-Control"].startswith("public")
    assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert client.get(path, headers={**EN, "If-None-Match": first.headers["ETag"]}).status_code in (200, 304)


def test_errors_are_never_stored_and_say_their_language(client, ctx):
    missing = client.get(f"/api/v1/reports/{uuid.uuid4()}", headers=EN)
    assert missing.status_code == 404 and missing.headers["Cache-Control"] == "no-store"
    assert missing.headers["Content-Language"] == "en" and "accept-language" in vary(missing)
    assert missing.json["message"] == "Not found."


def test_nothing_a_signed_in_caller_reads_is_ever_public(client, ctx):
    """Every GET of the spec, signed in as a citizen, an officer and an admin: `private` (or not stored), unless it
    is exactly what an anonymous reader gets."""
    seed_categories()
    people = {"citizen": citizen(home_kelurahan_code="31.74.05.1002"), "officer": officer(), "admin": admin()}
    report = make_report(people["citizen"], status="verified")
    db.session.commit()
    people = {role: person.id for role, person in people.items()}
    spec = client.get("/openapi.json").get_json()
    ids = {
        "report_id": report.id,
        "request_id": report.id,
        "code": "31.74",
        "fmt": "json",
        "service_code": "jalan_rusak",
    }
    answered = 0
    for path, item in spec["paths"].items():
        if "get" not in item:
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), str(uuid.UUID(int=9))), path)
        for role, person in people.items():
            response = client.get(url, headers=auth_header(db.session.get(User, person)))
            db.session.remove()
            if path.startswith("/open311/"):
                continue  # GeoReport documents are public data whoever asks (no token is read there)
            control = response.headers.get("Cache-Control", "")
            if response.status_code == 200:
                answered += 1
            if "public" in control:
                # Only what anyone gets alike (published open data): the same answer without a token.
                anonymous = client.get(url)
                assert anonymous.status_code == 200 and anonymous.get_data() == response.get_data(), (role, url)
            elif response.status_code == 200:
                assert "private" in control or "no-store" in control, (role, url, control)
    assert answered > 60
