"""The access log: each citizen sees exactly the reads of their own data (and their children's), newest first."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from jaki import audit
from jaki.db import utcnow
from jaki.events import OutboxEvent
from jaki.extensions import db
from jaki.pdp.models import AccessLogEntry
from tests.factories import auth_header, make_user
from tests.services.conftest import staff


def _log(client, user, **params) -> list[dict]:
    response = client.get("/api/v1/me/access-log", query_string=params, headers=auth_header(user))
    assert response.status_code == 200, response.json
    return response.json["items"]


def test_two_citizens_an_officer_and_an_agency_pull_each_see_exactly_their_own(client, agencies, demo):
    dinkes = staff("DINKES")
    lookup = client.post(
        "/api/v1/officer/services/health/lookup",
        json={"nik": demo.niks["Siti"], "reason": "Verifikasi kepesertaan JKN"},
        headers=auth_header(dinkes),
    )
    assert lookup.status_code == 200
    for person in (demo.siti, demo.ahmad):
        assert client.get("/api/v1/me/overview", headers=auth_header(person)).status_code == 200

    siti = _log(client, demo.siti)
    ahmad = _log(client, demo.ahmad)
    siti_ids, ahmad_ids = {e["id"] for e in siti}, {e["id"] for e in ahmad}
    assert siti_ids and ahmad_ids and not siti_ids & ahmad_ids
    assert [e["id"] for e in siti] == sorted(siti_ids, reverse=True)  # newest first

    official = [e for e in siti if e["kind"] == "official"]
    assert len(official) == 1
    read = official[0]
    assert read["organisation"]["agency_code"] == "DINKES" and read["official"]["role"] == "officer"
    assert read["official"]["unit"] == "31.74" and read["official"]["name"] is None  # names only where allowed
    assert read["purpose"] == "Verifikasi kepesertaan JKN" and read["lawful_basis"] == "public_duty"
    assert read["action"] == "services.health.read" and read["member"] is None

    pulls = [e for e in siti if e["kind"] == "agency_pull"]
    agencies_seen = {e["organisation"]["agency_code"] for e in pulls}
    assert {"DINKES", "DISDIK", "DINSOS", "BAPENDA", "DPMPTSP"} <= agencies_seen
    health = [e for e in pulls if e["organisation"]["agency_code"] == "DINKES"]
    # Siti's own pull and her two children's, the children's marked as whose they are.
    assert sorted((e["member"] or {}).get("full_name", "me") for e in health) == [
        "Aisyah Putri Santoso",
        "Rizky Santoso",
        "me",
    ]
    assert all(set(e["fields"]) >= {"jkn", "immunisations", "visits"} for e in health)
    assert all(e["purpose"] == "overview" and e["system"] == "connector:health" for e in health)

    assert {e["kind"] for e in ahmad} == {"agency_pull"}  # nobody read Ahmad's data but the agencies he asked
    assert all(e["member"] is None for e in ahmad)  # his daughter is an adult: her log is hers


def test_keyset_pages_and_a_bad_cursor(client, demo):
    admin = make_user(role="admin")
    for n in range(3):
        audit.record(db.session, actor=admin, subject_id=demo.ahmad.id, action="user.read", reason=f"cek {n}xx")
    first = client.get("/api/v1/me/access-log?limit=2", headers=auth_header(demo.ahmad)).json
    assert [e["purpose"] for e in first["items"]] == ["cek 2xx", "cek 1xx"]
    rest = client.get(
        f"/api/v1/me/access-log?limit=2&cursor={first['next_cursor']}", headers=auth_header(demo.ahmad)
    ).json
    assert [e["purpose"] for e in rest["items"]] == ["cek 0xx"] and rest["next_cursor"] is None
    bad = client.get("/api/v1/me/access-log?cursor=%%%", headers=auth_header(demo.ahmad))
    assert bad.status_code == 422
    assert client.get("/api/v1/me/access-log").status_code == 401


def test_first_read_by_a_new_agency_notifies_once(ctx, demo):
    def events():
        return db.session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.type == "pdp.access.new_agency", OutboxEvent.aggregate_id == demo.siti.id
            )
        ).all()

    officer = staff("DINKES")
    audit.record(db.session, actor=officer, subject_id=demo.siti.id, action="user.read", reason="cek data satu")
    audit.record(db.session, actor=officer, subject_id=demo.siti.id, action="user.read", reason="cek data dua")
    assert [e.payload for e in events()] == [{"recipients": [demo.siti.id], "data": {"agency_code": "DINKES"}}]
    audit.record(db.session, actor=staff("DINSOS"), subject_id=demo.siti.id, action="user.read", reason="cek dinsos")
    assert sorted(e.payload["data"]["agency_code"] for e in events()) == ["DINKES", "DINSOS"]


def test_an_investigation_delays_an_entry_but_never_hides_it_for_good(client, demo):
    admin = make_user(role="admin")
    audit.record(db.session, actor=staff("DINSOS"), subject_id=demo.ahmad.id, action="user.read", reason="penyidikan")
    entry = db.session.scalar(select(AccessLogEntry).where(AccessLogEntry.action == "user.read"))
    too_long = client.post(
        f"/api/v1/admin/access-log/{entry.id}/delay",
        json={"until": (utcnow() + timedelta(days=400)).isoformat(), "reason": "Penyidikan kepolisian"},
        headers=auth_header(admin),
    )
    assert too_long.status_code == 422 and "until" in too_long.json["errors"]
    until = utcnow() + timedelta(days=30)
    delayed = client.post(
        f"/api/v1/admin/access-log/{entry.id}/delay",
        json={"until": until.isoformat(), "reason": "Penyidikan kepolisian"},
        headers=auth_header(admin),
    )
    assert delayed.status_code == 200 and delayed.json["delayed"] is True
    assert entry.id not in {e["id"] for e in _log(client, demo.ahmad)}
    not_admin = client.post(
        f"/api/v1/admin/access-log/{entry.id}/delay",
        json={"until": until.isoformat(), "reason": "Penyidikan kepolisian"},
        headers=auth_header(demo.ahmad),
    )
    assert not_admin.status_code == 403
    entry.delayed_until = utcnow() - timedelta(seconds=1)  # the investigation's hold ran out
    db.session.flush()
    shown = [e for e in _log(client, demo.ahmad) if e["id"] == entry.id]
    assert shown and shown[0]["delayed"] is True


def test_an_open311_submitter_contact_read_reaches_the_account_with_that_phone(client, demo):
    officer = staff("DINKES")
    audit.record(
        db.session,
        actor=officer,
        subject_id=None,
        action="open311.submitter.read",
        fields=("email", "phone"),
        reason="report x: hubungi pelapor",
        subject_contacts=("0" + demo.ahmad.phone.removeprefix("+62"), None),  # as the client typed it
    )
    kinds = [e["kind"] for e in _log(client, demo.ahmad)]
    assert kinds == ["open311_contact"]
    assert [e["kind"] for e in _log(client, demo.siti)] == []


def test_my_data_export_shows_in_my_access_log(client, demo):
    assert client.get("/api/v1/me/data-export", headers=auth_header(demo.ahmad)).status_code == 200
    entries = _log(client, demo.ahmad)
    assert [e["kind"] for e in entries] == ["export"] and entries[0]["lawful_basis"] == "legal_obligation"
    export = client.get("/api/v1/me/data-export", headers=auth_header(demo.ahmad)).json
    assert [e["kind"] for e in export["data_rights"]["access_log"]] == ["export"]


def test_a_call_the_breaker_refused_never_reached_the_agency_and_is_not_logged(client, agencies, demo):
    def dinkes_pulls():
        return db.session.scalars(
            select(AccessLogEntry).where(AccessLogEntry.kind == "agency_pull", AccessLogEntry.agency_code == "DINKES")
        ).all()

    agencies["DINKES"].set_mode("fail")
    headers = auth_header(demo.siti)
    client.get("/api/v1/me/overview?refresh=true", headers=headers)
    failed = len(dinkes_pulls())
    assert failed == 3  # asked (and failed) for Siti and her two children: the agency saw the NIKs
    calls = agencies["DINKES"].total_calls
    client.get("/api/v1/me/overview?refresh=true", headers=headers)  # the breaker is open now
    assert agencies["DINKES"].total_calls == calls and len(dinkes_pulls()) == failed
