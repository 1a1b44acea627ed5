"""Dukcapil over HTTP: a person by NIK and their Kartu Keluarga, behind the same untrusted-answer rules."""

import pytest

from jaki.auth.population_http import HttpPopulationRegistry
from jaki.errors import Unavailable
from tests.factories import auth_header
from tests.support.fake_agency import FakeAgency, nik_in_body

KK = "3174050102100011"


@pytest.fixture
def dukcapil(demo, settings):
    siti, rizky, budi = demo.niks["Siti"], demo.niks["Rizky"], demo.niks["Budi"]
    routes = {
        f"/v1/residents/{siti}": {
            "full_name": "SITI RAHAYU",
            "birth_date": "1990-07-01",
            "sex": "F",
            "kk_number": KK,
            "family_relation": "kepala_keluarga",
            "kelurahan_code": "31.74.05.1002",
            "address": "Jl. Pondok Pinang Raya No. 12",
            "religion": "not ours to keep",
        },
        f"/v1/residents/{siti}/household": {
            "kk_number": KK,
            "members": [
                {
                    "nik": siti,
                    "full_name": "SITI RAHAYU",
                    "birth_date": "1990-07-01",
                    "sex": "F",
                    "family_relation": "kepala_keluarga",
                },
                {
                    "nik": budi,
                    "full_name": "BUDI SANTOSO",
                    "birth_date": "1988-03-12",
                    "sex": "M",
                    "family_relation": "suami",
                },
                {
                    "nik": rizky,
                    "full_name": "RIZKY SANTOSO",
                    "birth_date": "2014-05-20",
                    "sex": "M",
                    "family_relation": "anak",
                },
            ],
        },
    }
    with FakeAgency(nik_in_body(routes)) as fake:
        settings(DUKCAPIL_BACKEND="http", DUKCAPIL_URL=fake.url, AGENCY_TOTAL_TIMEOUT=0.8, AGENCY_RETRIES=0)
        yield fake


def test_lookup_and_household_over_http(ctx, demo, dukcapil):
    registry = HttpPopulationRegistry.from_config()
    person = registry.lookup(demo.niks["Siti"])
    assert person.full_name == "SITI RAHAYU" and person.kelurahan_code == "31.74.05.1002"
    assert person.kk_index == demo.siti.kk_index and not hasattr(person, "religion")
    assert registry.lookup(demo.niks["Ahmad"]) is None  # 404: not in the registry
    kk_index, members = registry.household(demo.niks["Siti"])
    assert kk_index == demo.siti.kk_index and len(members) == 3


def test_household_endpoint_uses_dukcapil(client, demo, dukcapil):
    response = client.get("/api/v1/me/household", headers=auth_header(demo.siti))
    assert [m["full_name"] for m in response.json["members"]] == ["Siti Rahayu", "RIZKY SANTOSO"]
    assert response.json["status"] == "ok" and response.json["is_head"] is True


def test_registry_down_shows_only_my_own_records(client, demo, dukcapil):
    dukcapil.set_mode("malformed")
    response = client.get("/api/v1/me/household", headers=auth_header(demo.siti))
    assert response.json["status"] == "unavailable"
    assert [m["full_name"] for m in response.json["members"]] == ["Siti Rahayu"]
    health = client.get("/api/v1/me/health", headers=auth_header(demo.siti)).json
    assert [p["full_name"] for p in health["data"]["people"]] == ["Siti Rahayu"]


def test_lookup_failure_is_a_503_error_not_a_500(ctx, demo, dukcapil):
    dukcapil.set_mode("fail")
    with pytest.raises(Unavailable) as caught:
        HttpPopulationRegistry.from_config().lookup(demo.niks["Siti"])
    assert caught.value.code == "population_registry_unavailable" and caught.value.status == 503


def test_a_wrong_shaped_answer_is_a_503_never_a_person(ctx, demo, dukcapil):
    dukcapil.set_mode("wrong_schema", payload={"data": {"nama": "SITI RAHAYU"}})
    registry = HttpPopulationRegistry.from_config()
    for call in (registry.lookup, registry.household):
        with pytest.raises(Unavailable) as caught:
            call(demo.niks["Siti"])
        assert (caught.value.code, caught.value.params["reason"]) == ("population_registry_unavailable", "invalid")
