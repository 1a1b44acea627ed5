"""Every domain's endpoint on the local connectors (the embedded default), the overview, officers' lookups."""

from sqlalchemy import select

from jaki.audit import AuditEntry
from jaki.extensions import db
from tests.factories import auth_header, make_user
from tests.services.conftest import staff


def _people(section) -> dict[str, dict]:
    return {p["full_name"].split()[0]: p for p in section["data"]["people"]}


def _ok_local(section, domain):
    assert section["status"] == "ok", section
    assert section["domain"] == domain
    assert section["source"]["connector"] == "local"
    assert section["as_of"] and section["cached"] is False and section["reason"] is None


def test_health_shows_jkn_immunisations_and_visits_for_me_and_my_children(client, demo):
    response = client.get("/api/v1/me/health", headers=auth_header(demo.siti))
    assert response.status_code == 200
    _ok_local(response.json, "health")
    people = _people(response.json)
    assert list(people) == ["Siti", "Rizky", "Aisyah"]
    jkn = people["Siti"]["jkn"]
    assert jkn["segment"] == "PBPU" and jkn["care_class"] == 2 and jkn["status"] == "aktif"
    assert jkn["card_number_masked"] == "*********0011"
    assert "0001234500011" not in response.get_data(as_text=True)
    assert jkn["faskes"]["name"] == "Puskesmas Kecamatan Kebayoran Lama"
    rizky = people["Rizky"]["immunisations"]
    assert rizky[0]["vaccine"] == "Hepatitis B (HB-0)" and len(rizky) == 14
    assert [v["purpose"] for v in people["Aisyah"]["upcoming_visits"]] == ["BIAS Td kelas 2"]
    assert people["Rizky"]["upcoming_visits"] == []


def test_education_shows_enrolment_and_kjp_plus_with_disbursements(client, demo):
    section = client.get("/api/v1/me/education", headers=auth_header(demo.siti)).json
    _ok_local(section, "education")
    rizky = _people(section)["Rizky"]
    assert rizky["enrolments"][0]["school_name"] == "SMP Negeri 48 Jakarta"
    assert rizky["enrolments"][0]["status"] == "aktif"
    kjp = rizky["scholarships"][0]
    assert kjp["code"] == "KJP_PLUS" and kjp["status"] == "aktif" and kjp["monthly_amount"] == 300_000
    assert len(kjp["disbursements"]) == 3 and kjp["next_disbursement_on"]
    assert kjp["account_masked"].endswith("4501") and "5001234501" not in str(section)


def test_adult_childs_kjmu_is_not_shown_to_the_parent(client, demo):
    section = client.get("/api/v1/me/education", headers=auth_header(demo.ahmad)).json
    assert list(_people(section)) == ["Ahmad"]
    assert "KJMU" not in str(section)


def test_social_aid_shows_dtks_programmes_and_next_date(client, demo):
    section = client.get("/api/v1/me/social-aid", headers=auth_header(demo.siti)).json
    _ok_local(section, "social_aid")
    people = _people(section)
    assert people["Siti"]["dtks"]["registered"] is True and people["Siti"]["dtks"]["desil"] == 3
    assert people["Siti"]["programmes"] == []
    aisyah = people["Aisyah"]["programmes"][0]
    assert aisyah["code"] == "KJP_PLUS" and aisyah["bank"] == "Bank DKI" and aisyah["next_disbursement_on"]


def test_tax_is_my_own_bills_unpaid_soonest_first(client, demo):
    section = client.get("/api/v1/me/tax", headers=auth_header(demo.siti)).json
    _ok_local(section, "tax")
    assert list(_people(section)) == ["Siti"]  # not Budi's car, not the children
    bills = _people(section)["Siti"]["bills"]
    assert [b["kind"] for b in bills] == ["pkb", "pbb"]
    assert bills[0]["paid"] is False and bills[0]["amount"] == 412_000 and bills[0]["object_id"] == "B 3217 SRH"
    assert bills[1]["amount"] == 0 and bills[1]["exemption"] == "pembebasan_pbb_rumah_tinggal"


def test_overview_has_every_section_and_the_household(client, demo):
    response = client.get("/api/v1/me/overview", headers=auth_header(demo.siti))
    assert response.status_code == 200
    body = response.json
    assert set(body["sections"]) == {"health", "education", "social_aid", "tax", "permits", "letters"}
    for name, section in body["sections"].items():
        _ok_local(section, name)
    assert [m["full_name"] for m in body["household"]["members"]] == [
        "Siti Rahayu",
        "Rizky Santoso",
        "Aisyah Putri Santoso",
    ]
    letters = _people(body["sections"]["letters"])["Siti"]["applications"]
    assert {a["type_code"]: a["status"] for a in letters} == {"SKD": "issued", "SKTM": "submitted"}
    permits = _people(body["sections"]["permits"])["Siti"]["applications"]
    assert permits == []
    ahmad = client.get("/api/v1/me/overview", headers=auth_header(demo.ahmad)).json
    assert _people(ahmad["sections"]["permits"])["Ahmad"]["applications"][0]["status"] == "in_verification"
    for nik in demo.niks.values():
        assert nik not in response.get_data(as_text=True)


def test_a_citizen_without_records_gets_empty_sections(client, demo):
    user = make_user()
    body = client.get("/api/v1/me/overview", headers=auth_header(user)).json
    health = body["sections"]["health"]["data"]["people"][0]
    assert health["jkn"] is None and health["immunisations"] == []
    assert body["sections"]["tax"]["data"]["people"][0]["bills"] == []


def test_officer_reads_one_person_in_their_own_domain_with_an_audit_row(client, demo):
    officer = staff("DINKES")
    body = {"nik": demo.niks["Rizky"], "reason": "Verifikasi status imunisasi anak sekolah"}
    response = client.post("/api/v1/officer/services/health/lookup", json=body, headers=auth_header(officer))
    assert response.status_code == 200, response.json
    assert response.json["has_account"] is False and len(response.json["data"]["immunisations"]) == 14
    assert demo.niks["Rizky"] not in response.get_data(as_text=True)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.actor_id == officer.id))
    assert entry.action == "services.health.read" and entry.reason == body["reason"]

    siti = client.post(
        "/api/v1/officer/services/health/lookup", headers=auth_header(officer), json={**body, "nik": demo.niks["Siti"]}
    )
    assert siti.json["has_account"] is True
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.actor_id == officer.id).order_by(AuditEntry.id.desc())
    ).first()
    assert entry.subject_id == demo.siti.id


def test_officer_cannot_read_another_agencys_domain(client, demo):
    body = {"nik": demo.niks["Siti"], "reason": "Ingin tahu saja ya"}
    dinkes = staff("DINKES")
    for domain in ("tax", "social-aid", "education", "permits"):
        response = client.post(f"/api/v1/officer/services/{domain}/lookup", json=body, headers=auth_header(dinkes))
        assert response.status_code == 403, domain
        assert response.json["code"] == "domain_not_for_agency"
    letters = client.post("/api/v1/officer/services/letters/lookup", json=body, headers=auth_header(dinkes))
    assert letters.status_code == 403
    unknown = client.post("/api/v1/officer/services/weather/lookup", json=body, headers=auth_header(dinkes))
    assert unknown.status_code == 404
    citizen = client.post("/api/v1/officer/services/health/lookup", json=body, headers=auth_header(demo.siti))
    assert citizen.status_code == 403
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.actor_id == dinkes.id)) is None


def test_officer_lookup_needs_a_reason_and_a_valid_nik(client, demo):
    officer = staff("DINKES")
    no_reason = client.post(
        "/api/v1/officer/services/health/lookup",
        headers=auth_header(officer),
        json={"nik": demo.niks["Siti"], "reason": "  "},
    )
    assert no_reason.status_code == 422 and no_reason.json["code"] == "reason_required"
    # A NUL could not be stored in the audit row (PostgreSQL): refused like any unusable reason, never a 500.
    nul = client.post(
        "/api/v1/officer/services/health/lookup",
        headers=auth_header(officer),
        json={"nik": demo.niks["Siti"], "reason": "Pemeriksaan\u0000 rutin"},
    )
    assert nul.status_code == 422 and set(nul.json["errors"]) == {"reason"}
    bad_nik = client.post(
        "/api/v1/officer/services/health/lookup",
        headers=auth_header(officer),
        json={"nik": "12345", "reason": "Pemeriksaan rutin"},
    )
    assert bad_nik.status_code == 422 and bad_nik.json["code"] == "nik_format"


def test_data_export_has_a_section_per_domain(client, demo):
    response = client.get("/api/v1/me/data-export", headers=auth_header(demo.siti))
    assert response.status_code == 200
    body = response.json
    assert body["health"]["jkn"]["segment"] == "PBPU"
    assert body["social_aid"]["dtks"]["registered"] is True
    assert body["tax"]["bills"][0]["object_id"] == "B 3217 SRH"
    assert {a["type_code"] for a in body["letters"]} == {"SKD", "SKTM"}
    assert body["letters"][0]["timeline"][0]["to_status"] == "draft"
    assert body["permits"] == [] and body["services_cached_answers"] == {}
    # Only her own records: the children's are theirs.
    assert body["health"]["immunisations"] == []


def test_section_endpoints_need_login(client, demo):
    for path in ("overview", "health", "education", "social-aid", "tax", "permits", "letters"):
        assert client.get(f"/api/v1/me/{path}").status_code == 401


def test_refresh_is_rate_limited_per_account_but_reading_is_not(client, demo, settings):
    settings(SERVICES_REFRESH_RATE="2 per minute")
    headers = auth_header(demo.siti)
    codes = [client.get("/api/v1/me/overview?refresh=true", headers=headers).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert client.get("/api/v1/me/overview", headers=headers).status_code == 200
    assert client.get("/api/v1/me/overview?refresh=false", headers=headers).status_code == 200
    assert client.get("/api/v1/me/health?refresh=1", headers=headers).status_code == 429  # one budget per account
    assert client.get("/api/v1/me/overview?refresh=true", headers=auth_header(demo.ahmad)).status_code == 200
