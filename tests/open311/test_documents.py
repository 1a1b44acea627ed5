"""Discovery, services and service definitions in XML and JSON; errors of every kind in Open311's format."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jaki.extensions import db
from jaki.reports.models import Category
from tests.open311.helpers import BASE, children, error_descriptions, seed_categories, text, xml

SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]


def test_discovery_lists_the_endpoint_in_both_formats(client, ctx):
    root = xml(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert children(root) == ["changeset", "contact", "key_service", "endpoints"]
    assert text(root, "changeset").endswith("+07:00")
    endpoint = root.find("endpoints/endpoint")
    assert children(endpoint) == ["specification", "url", "changeset", "type", "formats"]
    assert text(endpoint, "specification") == "http://wiki.open311.org/GeoReport_v2"
    assert text(endpoint, "url") == "http://localhost/open311/v2"
    assert text(endpoint, "type") == "test"
    assert [f.text for f in endpoint.find("formats")] == ["text/xml", "application/json"]

    body = client.get(f"{BASE}/discovery.json").json
    assert body["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    assert body["endpoints"][0]["url"] == "http://localhost/open311/v2"


def test_services_are_the_active_categories_with_their_agency(client, ctx):
    seed_categories()
    db.session.get(Category, "pkl_liar").active = False
    db.session.commit()
    response = client.get(f"{BASE}/services.xml")
    assert response.status_code == 200
    root = xml(response)
    assert root.tag == "services" and {c.tag for c in root} == {"service"}
    codes = [text(s, "service_code") for s in root]
    assert "jalan_rusak" in codes and "banjir" in codes and "pkl_liar" not in codes
    road = root[codes.index("jalan_rusak")]
    assert children(road) == SERVICE_FIELDS
    assert text(road, "service_name") == "Jalan rusak"
    assert text(road, "group") == "Dinas Bina Marga"
    assert text(road, "metadata") == "false" and text(road, "type") == "realtime"
    assert "72 jam" in text(road, "description")
    assert "damaged road" in text(road, "keywords")

    listed = client.get(f"{BASE}/services.json").json
    assert [s["service_code"] for s in listed] == codes
    assert list(listed[0]) == SERVICE_FIELDS
    assert listed[codes.index("jalan_rusak")]["metadata"] is False


def test_services_speak_english_when_asked(client, ctx):
    seed_categories()
    listed = client.get(f"{BASE}/services.json", headers={"Accept-Language": "en"}).json
    road = next(s for s in listed if s["service_code"] == "jalan_rusak")
    assert road["service_name"] == "Damaged road" and "72 hours" in road["description"]


def test_service_definition_and_unknown_service(client, ctx):
    seed_categories()
    root = xml(client.get(f"{BASE}/services/banjir.xml"))
    assert root.tag == "service_definition" and children(root) == ["service_code", "attributes"]
    assert text(root, "service_code") == "banjir" and len(root.find("attributes")) == 0
    assert client.get(f"{BASE}/services/banjir.json").json == {"service_code": "banjir", "attributes": []}

    missing = client.get(f"{BASE}/services/tidak_ada.xml")
    assert missing.status_code == 404
    assert "service_code" in error_descriptions(missing)[0]
    assert client.get(f"{BASE}/services/tidak_ada.json").status_code == 404


@pytest.mark.parametrize(
    "path, fmt",
    [
        ("/nothing.xml", "xml"),
        ("/nothing.json", "json"),
        ("/services.csv", "xml"),
        ("/services", "xml"),
        ("/requests/a/b.json", "json"),
        ("", "xml"),
    ],
)
def test_unknown_paths_under_the_base_are_open311_404s(client, ctx, path, fmt):
    response = client.get(BASE + path)
    assert response.status_code == 404
    assert response.content_type.startswith("text/xml" if fmt == "xml" else "application/json")
    assert error_descriptions(response) == ["Data tidak ditemukan."]


def test_wrong_method_is_an_open311_405_with_allow(client, ctx):
    response = client.delete(f"{BASE}/services.json")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert error_descriptions(response) == ["Metode tidak diizinkan."]
    assert client.put(f"{BASE}/requests.xml").status_code == 405


def test_paths_outside_the_base_keep_jakis_envelope(client, ctx):
    body = client.get("/api/v1/nothing-here").json
    assert body["code"] == "not_found" and body["status"] == 404


def test_jurisdiction_is_ignored_when_ours_and_refused_when_not(client, ctx):
    seed_categories()
    assert client.get(f"{BASE}/services.xml?jurisdiction_id=jakarta.go.id").status_code == 200
    assert client.get(f"{BASE}/services.xml?jurisdiction_id=").status_code == 200
    response = client.get(f"{BASE}/services.json?jurisdiction_id=sf.gov")
    assert response.status_code == 404
    assert "jakarta.go.id" in error_descriptions(response)[0]


def test_base_path_is_configurable(tmp_path):
    # Another app in this process would rebind the shared extensions (api, limiter): use a fresh interpreter.
    script = (
        "from config import Testing\n"
        "from jaki import create_app\n"
        "app = create_app({**{k: getattr(Testing, k) for k in dir(Testing) if k.isupper()},"
        " 'OPEN311_BASE_PATH': '/georeport/v2/'})\n"
        "c = app.test_client()\n"
        "print(c.get('/georeport/v2/discovery.json').json['endpoints'][0]['url'])\n"
        "print(c.get('/georeport/v2/nope.json').status_code, c.get('/open311/v2/discovery.json').status_code)\n"
    )
    env = {**os.environ, "JAKI_INSTANCE_DIR": str(tmp_path)}
    env.pop("TEST_REDIS_URL", None)
    env.pop("TEST_DATABASE_URL", None)
    done = subprocess.run(  # noqa: S603 - our own fixed script
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["http://localhost/georeport/v2", "404", "404"]


def test_unexpected_failure_is_an_open311_500(app, client, ctx, monkeypatch):
    from jaki.open311 import operations

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(operations, "list_services", broken)
    response = client.get(f"{BASE}/services.xml")
    assert response.status_code == 500
    assert error_descriptions(response) == ["Terjadi kesalahan pada sistem. Silakan coba lagi."]
