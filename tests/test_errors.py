"""One JSON envelope for every error: 404, 405 with Allow, 400 bad JSON, 413, 422 fields, 500, language."""

import logging

import pytest

from tests.factories import make_user


def _is_envelope(response, status, code):
    body = response.get_json()
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert body["status"] == status and body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def test_unknown_route_is_404_envelope(client):
    _is_envelope(client.get("/api/v1/nothing-here"), 404, "not_found")


def test_method_not_allowed_keeps_allow_header(client):
    response = client.delete("/api/v1/auth/login")
    _is_envelope(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_malformed_json_is_400_not_500(client):
    response = client.post("/api/v1/auth/login", data="{nik:", content_type="application/json")
    assert response.status_code in (400, 422)
    assert response.get_json()["code"] in ("bad_request", "validation_error")


def test_validation_errors_list_fields(client):
    body = _is_envelope(client.post("/api/v1/auth/register", json={"nik": 5}), 422, "validation_error")
    assert set(body["errors"]) >= {"nik", "full_name", "birth_date", "phone", "password"}
    assert body["message"] == "Data yang dikirim tidak valid."


def test_english_on_request(client):
    response = client.get("/api/v1/me", headers={"Accept-Language": "en"})
    assert _is_envelope(response, 401, "unauthorized")["message"] == "Please log in first."
    default = client.get("/api/v1/me")
    assert default.get_json()["message"] == "Silakan masuk terlebih dahulu."


def test_bad_token_never_422(client):
    for header in ("Bearer", "Bearer a b c", "Token xyz", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"):
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.get_json()["code"] in ("unauthorized", "token_invalid")


def test_payload_too_large(app, client):
    original = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        response = client.post("/api/v1/auth/login", data="x" * 5000, content_type="application/json")
    finally:
        app.config["MAX_CONTENT_LENGTH"] = original
    _is_envelope(response, 413, "payload_too_large")


def test_unexpected_exception_is_500_envelope_and_logged(client, caplog, monkeypatch):
    from jaki.auth import operations

    def boom(*_args):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(operations, "login", boom)
    with caplog.at_level(logging.ERROR):
        response = client.post("/api/v1/auth/login", json={"nik": "3174054107900003", "password": "x" * 12})
    _is_envelope(response, 500, "internal_error")
    assert "kaboom" not in response.get_data(as_text=True)
    assert any("unhandled error" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("path", ["/openapi.json"])
def test_openapi_spec_served(client, path):
    spec = client.get(path).get_json()
    assert spec["info"]["title"] == "jaki API"
    assert "/api/v1/auth/login" in spec["paths"]
    schemas = spec["components"]["schemas"]
    assert schemas["Error"]["properties"]["code"]["type"] == "string"


def test_docs_page(client):
    response = client.get("/docs")
    assert response.status_code == 200 and b"swagger" in response.data.lower()


def test_me_requires_login_even_for_real_users(client, ctx):
    make_user()
    assert client.get("/api/v1/me").status_code == 401


def test_field_errors_are_indonesian_by_default_and_english_on_request(client):
    body = {
        "nik": "3174054107900003",
        "full_name": "A",
        "birth_date": "bukan-tanggal",
        "phone": "0812",
        "password": "x" * 12,
        "email": "bukan-email",
        "role": "admin",
    }
    errors = client.post("/api/v1/auth/register", json=body).get_json()["errors"]
    assert errors["role"] == ["Kolom tidak dikenal."]
    assert errors["birth_date"] == ["Tanggal tidak valid (format YYYY-MM-DD)."]
    assert errors["email"] == ["Alamat email tidak valid."]
    assert errors["full_name"] == ["Panjang harus antara 2 dan 150."]
    missing = client.post("/api/v1/auth/login", json={}).get_json()["errors"]
    assert missing == {"nik": ["Wajib diisi."], "password": ["Wajib diisi."]}
    english = client.post("/api/v1/auth/login", json={}, headers={"Accept-Language": "en"}).get_json()["errors"]
    assert english["nik"] == ["Missing data for required field."]
