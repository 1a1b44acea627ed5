"""Officers and citizens may type a NIK with spaces, dots or dashes: the same person, the same records."""

from sqlalchemy import select

from jaki.audit import AuditEntry
from jaki.extensions import db
from tests.factories import auth_header, make_user, nik_spellings
from tests.services.conftest import staff

LOOKUP = "/api/v1/officer/services/health/lookup"


def test_officer_health_lookup_finds_the_same_jkn_card_in_any_spelling(client, demo):
    officer = staff("DINKES")
    reason = "Verifikasi kepesertaan JKN di loket"
    plain = client.post(LOOKUP, json={"nik": demo.niks["Siti"], "reason": reason}, headers=auth_header(officer))
    assert plain.status_code == 200 and plain.json["data"]["jkn"]["segment"] == "PBPU"
    for name, form in nik_spellings(demo.niks["Siti"]).items():
        typed = client.post(LOOKUP, json={"nik": form, "reason": reason}, headers=auth_header(officer))
        assert typed.status_code == 200, (name, typed.json)
        assert typed.json["data"] == plain.json["data"], name  # not "no records" and no JKN
        assert typed.json["has_account"] is True and typed.json["nik_masked"] == plain.json["nik_masked"]
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.actor_id == officer.id)).all()
    assert {e.subject_id for e in entries} == {demo.siti.id}  # every read is audited against the one person


def test_officer_lookup_of_an_impossible_nik_is_a_clear_422(client, demo):
    response = client.post(
        LOOKUP, json={"nik": "3174 0541 0790 000", "reason": "Verifikasi"}, headers=auth_header(staff("DINKES"))
    )
    assert response.status_code == 422 and response.json["code"] == "nik_format"


def test_cek_bansos_with_a_dotted_nik(client, demo):
    url = "/api/v1/me/social-aid/eligibility"
    plain = client.post(url, json={"nik": demo.niks["Rizky"]}, headers=auth_header(demo.siti))
    dotted = client.post(url, json={"nik": nik_spellings(demo.niks["Rizky"])["dots"]}, headers=auth_header(demo.siti))
    assert dotted.status_code == 200, dotted.json
    assert dotted.json["full_name"] == "Rizky Santoso" and dotted.json["dtks"] == plain.json["dtks"]


def test_disbursement_with_a_dashed_nik(client, demo):
    disdik = make_user(role="officer", agency_code="DISDIK", areas=["31"])
    body = {
        "nik": nik_spellings(demo.niks["Rizky"])["dashes"],
        "programme_code": "KJP_PLUS",
        "period": "2030-02",
        "amount": 300_000,
        "disbursed_on": "2030-02-20",
    }
    response = client.post("/api/v1/officer/social-aid/disbursements", json=body, headers=auth_header(disdik))
    assert response.status_code == 201, response.json
