"""No NIK in a URL: every request jaki makes to an agency carries the NIK in its body, never its path or query."""

from __future__ import annotations

from datetime import date

import pytest

from tests.factories import auth_header, make_user
from tests.services.conftest import staff
from tests.support.fake_agency import FakeAgency, nik_in_body

KK = "3174050102100011"


def _member(nik, name, born, sex, relation):
    return {"nik": nik, "full_name": name, "birth_date": born, "sex": sex, "family_relation": relation}


@pytest.fixture
def dukcapil(demo, settings, agencies):
    niks = demo.niks
    household = {
        "kk_number": KK,
        "members": [
            _member(niks["Siti"], "SITI RAHAYU", "1990-07-01", "F", "kepala_keluarga"),
            _member(niks["Budi"], "BUDI SANTOSO", "1988-03-12", "M", "suami"),
            _member(niks["Rizky"], "RIZKY SANTOSO", "2014-05-20", "M", "anak"),
            _member(niks["Aisyah"], "AISYAH PUTRI SANTOSO", "2018-09-09", "F", "anak"),
        ],
    }
    resident = {
        "full_name": "BUDI SANTOSO",
        "birth_date": "1988-03-12",
        "sex": "M",
        "kk_number": KK,
        "family_relation": "suami",
        "kelurahan_code": "31.74.05.1002",
        "address": "Jl. Pondok Pinang Raya No. 12",
    }
    routes = {f"/v1/residents/{niks['Budi']}": resident}
    for name in ("Siti", "Budi"):
        routes[f"/v1/residents/{niks[name]}/household"] = household
    with FakeAgency(nik_in_body(routes)) as fake:
        settings(DUKCAPIL_BACKEND="http", DUKCAPIL_URL=fake.url)
        yield fake


def test_no_outgoing_agency_request_carries_a_nik_in_its_url(client, demo, agencies, dukcapil):
    siti = auth_header(demo.siti)
    assert client.get("/api/v1/me/overview?refresh=true", headers=siti).status_code == 200
    assert client.get("/api/v1/me/health", headers=siti).status_code == 200
    eligibility = client.post("/api/v1/me/social-aid/eligibility", json={"nik": demo.niks["Rizky"]}, headers=siti)
    assert eligibility.status_code == 200
    lookup = client.post(
        "/api/v1/officer/services/health/lookup",
        json={"nik": demo.niks["Rizky"], "reason": "Jadwal imunisasi anak"},
        headers=auth_header(staff("DINKES")),
    )
    assert lookup.status_code == 200
    # Budi is not the head of the family card, and sees his children too (over Dukcapil's API).
    budi = make_user(full_name="Budi Santoso", born=date(1988, 3, 12), nik=demo.niks["Budi"], kk=KK)
    household = client.get("/api/v1/me/household", headers=auth_header(budi)).json
    assert [m["full_name"] for m in household["members"]] == ["Budi Santoso", "RIZKY SANTOSO", "AISYAH PUTRI SANTOSO"]
    assert client.get("/api/v1/me/overview?refresh=true", headers=auth_header(budi)).status_code == 200

    requests = [r for fake in (*agencies.values(), dukcapil) for r in fake.requests]
    assert len(requests) >= 20 and {r.method for r in requests} == {"POST"}
    niks = set(demo.niks.values())
    for request in requests:
        url = request.path + "?" + "&".join(f"{k}={v}" for k, vs in request.query.items() for v in vs)
        assert not any(nik in url for nik in niks), url
        assert request.json()["nik"] in niks  # the NIK is in the body
    assert {r.path for r in dukcapil.requests} == {"/v1/residents/household/query"}
