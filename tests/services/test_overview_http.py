"""The overview over real HTTP to fake agencies on 127.0.0.1: slow, failing, flapping, malformed, oversized."""

import json
import logging
import time

import pytest
from sqlalchemy import select

from jaki.auth.crypto import nik_index
from jaki.extensions import db
from jaki.services.models import SectionCache
from tests.factories import auth_header, make_user
from tests.services.conftest import agency_payloads, staff

OVERVIEW = "/api/v1/me/overview"


def _overview(client, user, *, refresh=False, lang=None):
    headers = auth_header(user)
    if lang:
        headers["Accept-Language"] = lang
    response = client.get(OVERVIEW + ("?refresh=true" if refresh else ""), headers=headers)
    assert response.status_code == 200, response.json
    return response.json["sections"]


def _people(section) -> dict[str, dict]:
    return {p["full_name"].split()[0]: p for p in section["data"]["people"]}


def test_all_agencies_answer_over_http(client, demo, agencies):
    sections = _overview(client, demo.siti)
    for name in ("health", "education", "social_aid", "tax", "permits"):
        assert sections[name]["status"] == "ok", (name, sections[name])
        assert sections[name]["source"]["connector"] == "http" and sections[name]["cached"] is False
    assert sections["letters"]["source"]["connector"] == "local"  # kelurahan offices have no API
    health = _people(sections["health"])
    assert health["Siti"]["jkn"]["card_number_masked"] == "*********0011"
    assert [i["vaccine"] for i in health["Rizky"]["immunisations"]] == ["BCG", "Campak"]
    assert health["Rizky"]["upcoming_visits"][0]["scheduled_for"] == "2099-01-05T02:00:00+00:00"
    assert health["Aisyah"] == {**health["Aisyah"], "jkn": None, "immunisations": []}
    kjp = _people(sections["education"])["Rizky"]["scholarships"][0]
    assert kjp["account_masked"] == "******4501" and kjp["name"] == "Kartu Jakarta Pintar Plus"
    assert _people(sections["education"])["Siti"] == {
        **_people(sections["education"])["Siti"],
        "enrolments": [],
        "scholarships": [],
    }  # 404: no records
    assert _people(sections["tax"])["Siti"]["bills"][0]["owed"] is True
    # What the agency sent beyond the schema never reaches the citizen.
    text = json.dumps(sections)
    assert "SHOULD-NEVER-BE-SHOWN" not in text and "diagnosis" not in text
    # One call per person per domain; the NIK travels in the path, to the agency only.
    assert agencies["DINKES"].total_calls == 3 and agencies["BAPENDA"].total_calls == 1
    assert agencies["DINKES"].requests[0].headers.get("Accept-Encoding") == "identity"


@pytest.mark.parametrize(
    "mode, options, reason",
    [
        ("fail", {}, "http_status"),
        ("slow", {"delay": 3.0}, "timeout"),
        ("hang", {}, "timeout"),
        ("trickle", {"interval": 0.3}, "timeout"),
        ("malformed", {}, "malformed"),
        ("html", {}, "malformed"),
        ("oversized", {"size": 200_000}, "too_large"),
        ("oversized", {"size": 200_000, "content_length": False}, "too_large"),
        ("wrong_schema", {}, "invalid"),
        ("wrong_schema", {"payload": {"bills": [{"bill_id": "1", "kind": "pkb", "amount": "banyak"}]}}, "invalid"),
    ],
)
def test_a_misbehaving_agency_is_an_unavailable_section_never_an_error(client, demo, agencies, mode, options, reason):
    agencies["BAPENDA"].set_mode(mode, **options)
    response = client.get(OVERVIEW, headers=auth_header(demo.siti))
    assert response.status_code == 200
    sections = response.json["sections"]
    tax = sections["tax"]
    assert (tax["status"], tax["reason"], tax["data"], tax["as_of"]) == ("unavailable", reason, None, None)
    assert tax["message"].startswith("Data dari Bapenda sedang tidak tersedia")
    assert all(sections[name]["status"] == "ok" for name in sections if name != "tax")
    assert "xxxxxxxx" not in response.get_data(as_text=True)  # nothing of the answer is passed through


def test_failure_after_a_good_answer_serves_it_stale_and_says_so(client, demo, agencies, settings):
    first = _overview(client, demo.siti)["tax"]
    assert first["status"] == "ok"
    agencies["BAPENDA"].set_mode("fail")
    settings(SERVICES_CACHE_FRESH_SECONDS=0)  # the cached answer is no longer fresh: ask again
    stale = _overview(client, demo.siti)["tax"]
    assert stale["status"] == "stale" and stale["cached"] is True and stale["reason"] == "http_status"
    assert stale["as_of"] == first["as_of"]
    assert stale["data"] == first["data"]
    assert stale["message"].startswith("Menampilkan data terakhir dari Bapenda per ")
    english = _overview(client, demo.siti, lang="en")["tax"]
    assert english["message"].startswith("Showing the last data from Bapenda as of ")
    # Too old to show: unavailable, not stale.
    settings(SERVICES_CACHE_STALE_SECONDS=0)
    assert _overview(client, demo.siti)["tax"]["status"] == "unavailable"


def test_recent_answers_are_served_from_the_cache_without_calling(client, demo, agencies):
    _overview(client, demo.siti)
    calls = agencies["DINKES"].total_calls
    cached = _overview(client, demo.siti)["health"]
    assert cached["status"] == "ok" and cached["cached"] is True
    assert agencies["DINKES"].total_calls == calls
    refreshed = _overview(client, demo.siti, refresh=True)["health"]
    assert refreshed["cached"] is False and agencies["DINKES"].total_calls == calls + 3
    # Per citizen: Ahmad's overview asks for his own records.
    _overview(client, demo.ahmad)
    assert agencies["DINKES"].total_calls == calls + 4


def test_cache_is_encrypted_at_rest(client, app, demo, agencies):
    _overview(client, demo.siti)
    redis = app.extensions["jaki.redis"]
    if redis is None:
        rows = db.session.scalars(select(SectionCache).where(SectionCache.user_id == demo.siti.id)).all()
        stored = " ".join(row.payload for row in rows)
        assert {row.domain for row in rows} == {"health", "education", "social_aid", "tax", "permits"}
    else:
        keys = list(redis.scan_iter(match=f"jaki:services:cache:{demo.siti.id}:*"))
        assert len(keys) == 5 and all(0 < redis.ttl(key) <= 3 * 24 * 3600 for key in keys)
        stored = " ".join(redis.get(key).decode() for key in keys)
    for secret in ("Rizky", "Puskesmas", "0001234500011", "B 3217 SRH", demo.niks["Siti"]):
        assert secret not in stored


def test_a_changed_household_is_not_served_someone_elses_cache(client, demo, agencies, settings):
    _overview(client, demo.siti)
    agencies["DINKES"].set_mode("fail")
    settings(SERVICES_CACHE_FRESH_SECONDS=0)
    # Rizky is no longer in Siti's household (moved to another KK): the cached answer covered him.
    from jaki.auth.models import Resident

    rizky = db.session.scalar(select(Resident).where(Resident.nik_index == nik_index(demo.niks["Rizky"])))
    rizky.kk_number = "3174050102109876"
    db.session.commit()
    health = _overview(client, demo.siti)["health"]
    assert health["status"] == "unavailable" and health["data"] is None


def test_flapping_agency_opens_the_breaker_and_a_probe_closes_it(client, app, demo, agencies, settings):
    settings(AGENCY_RETRIES=0, AGENCY_BREAKER_OPEN_SECONDS=0.5)
    admin = make_user(role="admin")
    bapenda = agencies["BAPENDA"]
    bapenda.set_mode("flapping", fail_first=3)
    for _ in range(3):
        assert _overview(client, demo.siti, refresh=True)["tax"]["reason"] == "http_status"
    health = client.get("/api/v1/admin/agencies/BAPENDA", headers=auth_header(admin)).json["health"]
    assert health["state"] == "open" and health["error_rate"] == 1.0

    calls = bapenda.total_calls
    refused = _overview(client, demo.siti, refresh=True)["tax"]
    assert refused["reason"] == "circuit_open" and refused["status"] == "unavailable"
    assert bapenda.total_calls == calls  # the agency is left alone while the breaker is open

    time.sleep(0.6)  # past open_for_s: the next call is the probe, and the agency has recovered
    recovered = _overview(client, demo.siti, refresh=True)["tax"]
    assert recovered["status"] == "ok" and bapenda.total_calls == calls + 1
    health = client.get("/api/v1/admin/agencies/BAPENDA", headers=auth_header(admin)).json["health"]
    assert health["state"] == "closed" and health["last_success_at"] is not None


def test_retries_absorb_a_single_failure(client, demo, agencies):
    agencies["DINSOS"].set_mode("flapping", fail_first=1)
    assert _overview(client, demo.siti)["social_aid"]["status"] == "ok"


def test_section_endpoint_uses_the_same_connector(client, demo, agencies):
    agencies["DISDIK"].set_mode("fail")
    response = client.get("/api/v1/me/education", headers=auth_header(demo.siti))
    assert response.status_code == 200 and response.json["status"] == "unavailable"
    assert client.get("/api/v1/me/health", headers=auth_header(demo.siti)).json["status"] == "ok"


def test_logs_carry_no_nik_and_no_agency_text(client, demo, agencies, caplog):
    agencies["DINKES"].set_mode("fail", body=b'{"error": "db error for nik SECRET-MARKER"}')
    with caplog.at_level(logging.DEBUG):
        _overview(client, demo.siti)
    text = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "agency call failed" in text
    for nik in demo.niks.values():
        assert nik not in text
    assert "SECRET-MARKER" not in text


def test_officer_lookup_when_the_agency_is_down_is_503(client, demo, agencies):
    agencies["DINKES"].set_mode("fail")
    response = client.post(
        "/api/v1/officer/services/health/lookup",
        headers=auth_header(staff("DINKES")),
        json={"nik": demo.niks["Siti"], "reason": "Verifikasi kepesertaan JKN"},
    )
    assert response.status_code == 503 and response.json["code"] == "agency_unavailable"
    agencies["DINKES"].reset()
    ok = client.post(
        "/api/v1/officer/services/health/lookup",
        headers=auth_header(staff("DINKES")),
        json={"nik": demo.niks["Siti"], "reason": "Verifikasi kepesertaan JKN"},
    )
    assert ok.status_code == 200 and ok.json["data"]["jkn"]["segment"] == "PBPU"


def test_eligibility_over_http(client, demo, agencies):
    url = "/api/v1/me/social-aid/eligibility"
    response = client.post(url, json={"nik": demo.niks["Siti"]}, headers=auth_header(demo.siti))
    assert response.status_code == 200, response.json
    assert response.json["programmes"] == [
        {
            "code": "KLJ",
            "name": "Kartu Lansia Jakarta",
            "eligible": False,
            "reasons": ["age_out_of_range"],
            "enrolment_status": None,
        }
    ]
    child = client.post(url, json={"nik": demo.niks["Rizky"]}, headers=auth_header(demo.siti))
    assert child.json["dtks"] == {"registered": False, "desil": None}  # the agency has no record: 404
    agencies["DINSOS"].set_mode("malformed")
    down = client.post(url, json={"nik": demo.niks["Siti"]}, headers=auth_header(demo.siti))
    assert down.status_code == 503 and down.json["code"] == "agency_unavailable"


def test_admin_sees_integration_health_but_never_credentials(client, demo, agencies, settings):
    settings(AGENCY_BAPENDA_TOKEN="super-secret-token-123")
    _overview(client, demo.siti)
    admin = make_user(role="admin")
    response = client.get("/api/v1/admin/agencies", headers=auth_header(admin))
    assert response.status_code == 200
    by_code = {a["code"]: a for a in response.json}
    assert by_code["BAPENDA"]["connector"] == "http" and by_code["BAPENDA"]["host"] == "127.0.0.1"
    assert by_code["BAPENDA"]["health"]["state"] == "closed"
    assert by_code["BAPENDA"]["health"]["calls_in_window"] >= 1
    assert by_code["DUKCAPIL"]["connector"] == "local"
    assert "super-secret-token-123" not in response.get_data(as_text=True)
    assert agencies["BAPENDA"].requests[-1].headers["Authorization"] == "Bearer super-secret-token-123"


def test_agency_calls_run_in_pool_threads_without_app_or_session(client, demo, agencies, monkeypatch):
    import threading

    from flask import has_app_context, has_request_context

    from jaki.services.health.connectors import HttpHealth

    seen = []
    original = HttpHealth.present

    def spy(self, loaded):
        seen.append((threading.current_thread().name, has_app_context(), has_request_context()))
        return original(self, loaded)

    monkeypatch.setattr(HttpHealth, "present", spy)
    assert _overview(client, demo.siti)["health"]["status"] == "ok"
    assert len(seen) == 3
    assert all(name.startswith("agency") and not app_ctx and not request_ctx for name, app_ctx, request_ctx in seen)


def test_a_saturated_pool_ends_at_the_overview_deadline(client, demo, agencies, settings):
    settings(SERVICES_POOL_SIZE=1, SERVICES_OVERVIEW_DEADLINE_SECONDS=0.3)
    for fake in agencies.values():
        fake.set_latency(0.2)
    response = client.get(OVERVIEW + "?refresh=true", headers=auth_header(demo.siti))
    assert response.status_code == 200
    sections = response.json["sections"]
    waited = [s for s in sections.values() if s["status"] == "unavailable"]
    assert waited and all(s["reason"] == "timeout" for s in waited)
    assert sections["letters"]["status"] == "ok"


# 200s of the wrong shape, one per agency: what a changed or broken API sends (an envelope around the answer,
# renamed fields, a list missing). Each lacks the section's essential fields.
WRONG_SHAPES = {
    "DINKES": ("health", {"data": {"kepesertaan": {"status": "aktif"}}, "status": "OK"}),
    "DISDIK": ("education", {"enrolments": [], "beasiswa": []}),
    "DINSOS": ("social_aid", {"dtks": {"registered": True, "desil": 3}}),
    "BAPENDA": ("tax", {"tagihan": [{"kode": "PKB-2026-1", "jumlah": 412000}]}),
    "DPMPTSP": ("permits", {"items": []}),
}


def _cache_entry(user, domain):
    from jaki.services.cache import section_cache

    return section_cache().get(user.id, domain)


@pytest.mark.parametrize("code", list(WRONG_SHAPES))
def test_a_wrong_shaped_answer_leaves_the_last_good_data_visible_as_stale(client, demo, agencies, settings, code):
    domain, payload = WRONG_SHAPES[code]
    admin = make_user(role="admin")
    good = _overview(client, demo.siti)[domain]
    assert good["status"] == "ok" and good["data"]["people"]
    cached = _cache_entry(demo.siti, domain)
    agencies[code].set_mode("wrong_schema", payload=payload)
    settings(SERVICES_CACHE_FRESH_SECONDS=0)
    calls = agencies[code].total_calls

    stale = _overview(client, demo.siti, refresh=True)[domain]
    assert agencies[code].total_calls > calls  # the agency was asked, and answered 200
    assert (stale["status"], stale["reason"], stale["cached"]) == ("stale", "invalid", True)
    assert stale["data"] == good["data"] and stale["as_of"] == good["as_of"]
    assert stale["message"].startswith("Menampilkan data terakhir dari ")
    # The bad answer did not replace the good one: the next failure still has it to show.
    assert _cache_entry(demo.siti, domain) == cached
    assert _overview(client, demo.siti, refresh=True)[domain]["data"] == good["data"]
    # A failed call for the breaker too.
    health = client.get(f"/api/v1/admin/agencies/{code}", headers=auth_header(admin)).json["health"]
    assert health["error_rate"] > 0 and health["last_failure_at"] is not None


def test_a_broken_health_agency_never_tells_a_family_it_has_no_jkn(client, demo, agencies, settings):
    """The case of the issue: a 200 without `jkn` read as "no JKN" for the whole family, and cached."""
    first = _people(_overview(client, demo.siti)["health"])
    assert first["Siti"]["jkn"]["segment"] == "PBPU"
    agencies["DINKES"].set_mode("wrong_schema", payload={"immunisations": [], "visits": []})
    settings(SERVICES_CACHE_FRESH_SECONDS=0)
    health = _overview(client, demo.siti, refresh=True)["health"]
    assert health["status"] == "stale" and _people(health)["Siti"]["jkn"]["segment"] == "PBPU"
    # Without a good answer to fall back on, the section is unavailable: no data rather than wrong data.
    _overview(client, demo.ahmad)  # Ahmad has never had a health answer cached
    ahmad = _overview(client, demo.ahmad, refresh=True)["health"]
    assert (ahmad["status"], ahmad["data"]) == ("unavailable", None)


def test_one_odd_record_fails_the_section_but_does_not_trip_the_breaker(client, demo, agencies, settings):
    settings(AGENCY_RETRIES=0)
    admin = make_user(role="admin")
    odd = {"bills": [{**agency_payloads(demo.niks)["BAPENDA"][f"/v1/taxpayers/{demo.niks['Siti']}/bills"]["bills"][0]}]}
    odd["bills"][0]["amount"] = "banyak"
    agencies["BAPENDA"].set_mode("wrong_schema", payload=odd)
    for _ in range(4):  # past the breaker's threshold of 3
        tax = _overview(client, demo.siti, refresh=True)["tax"]
        assert (tax["status"], tax["reason"]) == ("unavailable", "invalid")
    health = client.get("/api/v1/admin/agencies/BAPENDA", headers=auth_header(admin)).json["health"]
    assert (health["state"], health["error_rate"], health["last_failure_at"]) == ("closed", 0.0, None)


@pytest.mark.parametrize(
    ("code", "path", "body"),
    [
        ("DINKES", "/api/v1/officer/services/health/lookup", {"reason": "Verifikasi kepesertaan JKN"}),
        ("DINSOS", "/api/v1/me/social-aid/eligibility", {}),
    ],
)
def test_a_wrong_shaped_answer_to_a_single_read_is_503_not_empty_data(client, demo, agencies, code, path, body):
    agencies[code].set_mode("wrong_schema", payload={"hasil": "ok"})
    user = staff(code) if "officer" in path else demo.siti
    response = client.post(path, json={"nik": demo.niks["Siti"], **body}, headers=auth_header(user))
    assert response.status_code == 503 and response.json["code"] == "agency_unavailable"


def test_every_connectors_answer_names_its_essential_fields():
    """The rule for every agency: each top-level field of an answer is required (null may be allowed, absence
    never), so a body that lacks one is a failed call instead of an empty section."""
    from jaki.services import connectors

    http = {name: spec.http for name, spec in connectors.SPECS.items() if spec.http is not None}
    assert set(http) == {"health", "education", "social_aid", "tax", "permits"}
    for name, connector in http.items():
        fields = connector.schema().fields
        assert fields and all(field.required for field in fields.values()), name
