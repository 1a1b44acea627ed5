"""API keys (admin endpoint and CLI, stored hashed) and the staff's audited read of a submitter's contact."""

from sqlalchemy import select

from jaki.audit import AuditEntry
from jaki.extensions import db
from jaki.open311.models import ApiKey
from tests.factories import auth_header, ensure_agency, make_user
from tests.open311.helpers import BASE, MONAS, PONDOK_PINANG, make_report, seed_categories

KEYS = "/api/v1/admin/open311/keys"


def submit(client, key, at=PONDOK_PINANG, **extra):
    body = {
        "api_key": key,
        "service_code": "jalan_rusak",
        "lat": str(at[0]),
        "long": str(at[1]),
        "description": "Jalan berlubang dalam",
        "email": "warga.pengirim@example.com",
        "phone": "081255556666",
        "first_name": "Dian",
        "last_name": "Sastrowardoyo",
        **extra,
    }
    response = client.post(f"{BASE}/requests.json", data=body)
    assert response.status_code == 200, response.json
    return response.json[0]["service_request_id"]


def test_admin_issues_lists_and_revokes_keys(client, ctx):
    seed_categories()
    admin = make_user(role="admin")
    issued = client.post(KEYS, json={"name": "Aplikasi Warga Kota"}, headers=auth_header(admin))
    assert issued.status_code == 201, issued.json
    raw = issued.json["key"]
    assert raw.startswith("o311_") and issued.json["key_prefix"] == raw[:12]
    stored = db.session.scalar(select(ApiKey).where(ApiKey.id == issued.json["id"]))
    assert stored.key_hash != raw and raw not in stored.key_hash and stored.created_by_id == admin.id

    listed = client.get(KEYS, headers=auth_header(admin)).json
    assert [k["name"] for k in listed] == ["Aplikasi Warga Kota"] and "key" not in listed[0]
    assert raw not in str(listed)

    submit(client, raw)
    revoked = client.delete(f"{KEYS}/{issued.json['id']}", headers=auth_header(admin))
    assert revoked.status_code == 200 and revoked.json["revoked_at"]
    assert client.delete(f"{KEYS}/{issued.json['id']}", headers=auth_header(admin)).status_code == 200
    refused = client.post(
        f"{BASE}/requests.xml",
        data={"api_key": raw, "service_code": "jalan_rusak", "lat": str(MONAS[0]), "long": str(MONAS[1])},
    )
    assert refused.status_code == 403
    assert client.delete(f"{KEYS}/tidak-ada", headers=auth_header(admin)).json["code"] == "not_found"


def test_only_admins_manage_keys(client, ctx):
    ensure_agency()
    for role, agency in (("citizen", None), ("officer", "DBM"), ("agency_admin", "DBM")):
        user = make_user(role=role, agency_code=agency)
        response = client.post(KEYS, json={"name": "Coba"}, headers=auth_header(user))
        assert response.status_code == 403 and response.json["code"] == "forbidden"
        assert client.get(KEYS, headers=auth_header(user)).status_code == 403
    assert client.get(KEYS).status_code == 401
    admin = make_user(role="admin")
    bad = client.post(KEYS, json={"name": "x", "extra": 1}, headers=auth_header(admin))
    assert bad.status_code == 422 and bad.json["code"] == "validation_error"


def test_cli_creates_lists_and_revokes_keys(app, client, ctx):
    seed_categories()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["open311", "create-key", "Agregator Open311"])
    assert result.exit_code == 0, result.output
    raw = next(line.split()[1] for line in result.output.splitlines() if line.startswith("key"))
    key_id = next(line.split()[1] for line in result.output.splitlines() if line.startswith("id"))
    submit(client, raw)

    listed = runner.invoke(args=["open311", "list-keys"])
    assert "Agregator Open311" in listed.output and "active" in listed.output and raw not in listed.output
    assert runner.invoke(args=["open311", "revoke-key", key_id]).exit_code == 0
    assert "revoked" in runner.invoke(args=["open311", "list-keys"]).output
    assert runner.invoke(args=["open311", "revoke-key", "tidak-ada"]).exit_code != 0
    assert runner.invoke(args=["open311", "create-key", " "]).exit_code != 0


def test_staff_in_scope_read_the_submitter_contact_audited(client, api_key):
    report_id = submit(client, api_key, media_url="https://foto.example.org/a.jpg", **{"attribute[x]": "1"})
    officer = make_user(role="officer", agency_code="DBM", areas=["31.74.05"])
    url = f"/api/v1/officer/open311/requests/{report_id}/submitter"

    no_reason = client.get(url, headers=auth_header(officer))
    assert no_reason.status_code == 422
    response = client.get(url, headers={**auth_header(officer), "X-Access-Reason": "Konfirmasi lokasi lubang"})
    assert response.status_code == 200, response.json
    assert response.json["email"] == "warga.pengirim@example.com" and response.json["phone"] == "081255556666"
    assert response.json["media_url"] == "https://foto.example.org/a.jpg"
    assert response.json["attributes"] == {"x": "1"}
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "open311.submitter.read"))
    assert entry.actor_id == officer.id and report_id in entry.reason and "email" in entry.fields
    assert "warga.pengirim" not in f"{entry.fields} {entry.reason}"


def test_staff_out_of_scope_and_citizens_cannot(client, api_key):
    report_id = submit(client, api_key)
    url = f"/api/v1/officer/open311/requests/{report_id}/submitter"
    reason = {"X-Access-Reason": "Ingin tahu saja"}
    elsewhere = make_user(role="officer", agency_code="DBM", areas=["31.71.01"])
    assert client.get(url, headers={**auth_header(elsewhere), **reason}).status_code == 403
    citizen = make_user()
    assert client.get(url, headers={**auth_header(citizen), **reason}).status_code == 403
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "open311.submitter.read")) is None


def test_contact_of_a_report_not_from_open311_is_404(client, ctx):
    report = make_report()
    admin = make_user(role="admin")
    response = client.get(
        f"/api/v1/officer/open311/requests/{report.id}/submitter",
        headers={**auth_header(admin), "X-Access-Reason": "Cek data pengirim"},
    )
    assert response.status_code == 404 and response.json["code"] == "not_found"
