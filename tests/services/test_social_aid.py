"""Cek bansos (own household only, rate-limited) and recorded disbursements with their bansos.disbursed event."""

from sqlalchemy import select

from jaki.events import OutboxEvent
from jaki.extensions import db
from tests.factories import auth_header, make_nik
from tests.services.conftest import staff

URL = "/api/v1/me/social-aid/eligibility"


def _programmes(body) -> dict[str, dict]:
    return {p["code"]: p for p in body["programmes"]}


def test_check_for_my_child_and_myself(client, demo):
    response = client.post(URL, json={"nik": demo.niks["Rizky"]}, headers=auth_header(demo.siti))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["full_name"] == "Rizky Santoso" and body["is_self"] is False
    assert body["dtks"] == {"registered": True, "desil": 3}
    kjp = _programmes(body)["KJP_PLUS"]
    assert kjp["eligible"] is True and kjp["reasons"] == [] and kjp["enrolment_status"] == "aktif"
    assert kjp["name"] == "Kartu Jakarta Pintar Plus"
    assert _programmes(body)["KLJ"]["reasons"] == ["age_out_of_range"]
    assert demo.niks["Rizky"] not in response.get_data(as_text=True)

    mine = client.post(URL, json={"nik": demo.niks["Siti"]}, headers=auth_header(demo.siti)).json
    assert mine["is_self"] is True
    assert _programmes(mine)["KJP_PLUS"]["reasons"] == ["age_out_of_range", "not_in_school"]


def test_other_niks_are_refused_alike_whether_they_exist_or_not(client, demo):
    for nik in (demo.niks["Ahmad"], demo.niks["Budi"], demo.niks["Nur"], make_nik()):
        response = client.post(URL, json={"nik": nik}, headers=auth_header(demo.siti))
        assert response.status_code == 403
        assert response.json["code"] == "nik_not_in_household"
    adult_child = client.post(URL, json={"nik": demo.niks["Nur"]}, headers=auth_header(demo.ahmad))
    assert adult_child.status_code == 403


def test_check_is_rate_limited_per_account(client, demo, settings):
    settings(SERVICES_ELIGIBILITY_RATE="3 per hour")
    headers = auth_header(demo.siti)
    codes = [client.post(URL, json={"nik": demo.niks["Siti"]}, headers=headers).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.post(URL, json={"nik": demo.niks["Rizky"]}, headers=headers)
    assert limited.json["code"] == "rate_limited" and limited.headers["Retry-After"]
    # Refused NIKs count too: trying many NIKs is exactly what the limit is for.
    ahmad = auth_header(demo.ahmad)
    assert client.post(URL, json={"nik": make_nik()}, headers=ahmad).status_code == 403
    assert client.post(URL, json={"nik": demo.niks["Ahmad"]}, headers=ahmad).status_code == 200


def test_check_validates_the_nik_and_needs_login(client, demo):
    bad = client.post(URL, json={"nik": "31740541"}, headers=auth_header(demo.siti))
    assert bad.status_code == 422 and "nik" in bad.json["errors"]
    assert client.post(URL, json={"nik": demo.niks["Siti"]}).status_code == 401


def test_programmes_are_public(client, demo):
    response = client.get("/api/v1/social-aid/programmes")
    assert response.status_code == 200
    codes = {p["code"]: p for p in response.json}
    assert {"KJP_PLUS", "KJMU", "PKD", "KLJ", "KPDJ", "KAJ"} <= set(codes)
    assert codes["KLJ"]["umbrella"] == "PKD"


def test_officer_records_a_disbursement_and_the_parent_is_notified(client, demo):
    officer = staff("DINSOS")
    # KJP Plus is Dinas Pendidikan's programme: Dinas Sosial may not record it.
    # A period far from the seeded ones (which follow today's date).
    body = {
        "nik": demo.niks["Rizky"],
        "programme_code": "KJP_PLUS",
        "period": "2030-01",
        "amount": 300_000,
        "disbursed_on": "2030-01-20",
    }
    wrong = client.post("/api/v1/officer/social-aid/disbursements", json=body, headers=auth_header(officer))
    assert wrong.status_code == 403 and wrong.json["code"] == "domain_not_for_agency"

    from tests.factories import make_user

    disdik = make_user(role="officer", agency_code="DISDIK", areas=["31"])
    response = client.post("/api/v1/officer/social-aid/disbursements", json=body, headers=auth_header(disdik))
    assert response.status_code == 201, response.json
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.type == "bansos.disbursed"))
    assert event.payload["recipients"] == [demo.siti.id]  # Rizky is 12: his mother, head of the household
    assert event.payload["data"] == {
        "disbursement_id": str(response.json["id"]),
        "programme": "KJP_PLUS",
        "period": "2030-01",
    }
    assert "300000" not in str(event.payload) and demo.niks["Rizky"] not in str(event.payload)

    again = client.post("/api/v1/officer/social-aid/disbursements", json=body, headers=auth_header(disdik))
    assert again.status_code == 409 and again.json["code"] == "disbursement_exists"

    kjp = client.get("/api/v1/me/education", headers=auth_header(demo.siti)).json["data"]["people"][1]
    assert kjp["scholarships"][0]["disbursements"][0]["period"] == "2030-01"
    assert kjp["scholarships"][0]["next_disbursement_on"] == "2030-02-20"


def test_disbursement_for_someone_without_an_account_notifies_nobody(client, demo):
    body = {
        "nik": demo.niks["Maria"],
        "programme_code": "KLJ",
        "period": "2030-01",
        "amount": 300_000,
        "disbursed_on": "2030-01-20",
    }
    response = client.post("/api/v1/officer/social-aid/disbursements", json=body, headers=auth_header(staff("DINSOS")))
    assert response.status_code == 201
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.type == "bansos.disbursed"))
    assert event.payload["recipients"] == []
    not_enrolled = client.post(
        "/api/v1/officer/social-aid/disbursements",
        headers=auth_header(staff("DINSOS")),
        json={**body, "nik": demo.niks["Siti"]},
    )
    assert not_enrolled.status_code == 404 and not_enrolled.json["code"] == "enrolment_not_found"
    citizen = client.post("/api/v1/officer/social-aid/disbursements", json=body, headers=auth_header(demo.siti))
    assert citizen.status_code == 403
