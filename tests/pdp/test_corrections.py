"""Correction requests: routed to the agency's queue, acknowledged within 3 x 24 hours or escalated."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from jaki.events import OutboxEvent
from jaki.extensions import db
from jaki.pdp.corrections import escalate_overdue
from jaki.pdp.models import CorrectionRequest
from tests.factories import auth_header, make_user
from tests.services.conftest import staff


def _file(client, user, **body):
    payload = {"domain": "health", "field": "jkn.care_class", "requested_value": "1", "explanation": "Saya kelas 1"}
    return client.post("/api/v1/me/corrections", json={**payload, **body}, headers=auth_header(user))


def _events(type_):
    return db.session.scalars(select(OutboxEvent).where(OutboxEvent.type == type_).order_by(OutboxEvent.id)).all()


def test_a_request_is_routed_acknowledged_in_time_and_closed_with_a_trail(client, demo):
    filed = _file(client, demo.siti)
    assert filed.status_code == 201, filed.json
    body = filed.json
    assert body["agency_code"] == "DINKES" and body["status"] == "submitted"
    assert body["reference"].startswith("KRK-") and filed.headers["Location"].endswith(body["id"])
    created = db.session.get(CorrectionRequest, body["id"])
    assert created.ack_due_at - created.created_at == timedelta(hours=72)
    assert _file(client, demo.siti).status_code == 409  # one open request per field

    overview = client.get("/api/v1/me/overview", headers=auth_header(demo.siti)).json
    assert overview["disputed"]["health"][0]["field"] == "jkn.care_class"

    dinkes, dinsos = staff("DINKES"), staff("DINSOS")
    queue = client.get("/api/v1/officer/corrections", headers=auth_header(dinkes)).json["items"]
    assert [r["reference"] for r in queue] == [body["reference"]]
    assert client.get("/api/v1/officer/corrections", headers=auth_header(dinsos)).json["items"] == []
    url = f"/api/v1/officer/corrections/{body['id']}/status"
    assert client.post(url, json={"status": "acknowledged"}, headers=auth_header(dinsos)).status_code == 403
    assert client.post(url, json={"status": "acknowledged"}, headers=auth_header(dinkes)).status_code == 200
    assert client.post(url, json={"status": "corrected"}, headers=auth_header(dinkes)).status_code == 422  # a note
    done = client.post(url, json={"status": "corrected", "note": "Kelas diperbaiki"}, headers=auth_header(dinkes))
    assert done.status_code == 200 and done.json["status"] == "corrected"
    assert [t["status"] for t in done.json["trail"]] == ["submitted", "acknowledged", "corrected"]
    assert client.post(url, json={"status": "acknowledged"}, headers=auth_header(dinkes)).status_code == 409

    # Acknowledged in time: the deadline passing escalates nothing.
    assert escalate_overdue(created.created_at + timedelta(hours=80)) == 0
    told = [e.payload["data"]["status"] for e in _events("pdp.correction.status_changed")]
    assert told == ["submitted", "acknowledged", "corrected"]
    assert all(e.payload["recipients"] == [demo.siti.id] for e in _events("pdp.correction.status_changed"))
    mine = client.get("/api/v1/me/corrections", headers=auth_header(demo.siti)).json["items"]
    assert [r["status"] for r in mine] == ["corrected"]
    assert client.get("/api/v1/me/overview", headers=auth_header(demo.siti)).json["disputed"] == {}


def test_a_request_not_acknowledged_by_its_deadline_escalates_once(client, demo):
    admin = make_user(role="agency_admin", agency_code="DINSOS")
    rizky = next(
        m
        for m in client.get("/api/v1/me/household", headers=auth_header(demo.siti)).json["members"]
        if m["full_name"] == "Rizky Santoso"
    )
    filed = _file(
        client,
        demo.siti,
        domain="social_aid",
        field="programme.disbursement",
        member_id=rizky["member_id"],
        explanation="KJP bulan Juli belum diterima",
    ).json
    request = db.session.get(CorrectionRequest, filed["id"])
    assert escalate_overdue(request.ack_due_at - timedelta(minutes=1)) == 0
    assert escalate_overdue(request.ack_due_at + timedelta(minutes=1)) == 1
    assert escalate_overdue(request.ack_due_at + timedelta(hours=1)) == 0  # once
    assert request.status == "escalated" and request.escalated_at is not None
    (event,) = _events("pdp.correction.escalated")
    assert sorted(event.payload["recipients"]) == sorted([demo.siti.id, admin.id])
    view = client.get(f"/api/v1/me/corrections/{filed['id']}", headers=auth_header(demo.siti)).json
    assert [t["status"] for t in view["trail"]] == ["submitted", "escalated"]
    # Escalated still answers: the agency may acknowledge late.
    late = client.post(
        f"/api/v1/officer/corrections/{filed['id']}/status",
        json={"status": "acknowledged"},
        headers=auth_header(staff("DINSOS")),
    )
    assert late.status_code == 200


def test_unknown_fields_and_someone_elses_child_are_refused(client, demo):
    bad_field = _file(client, demo.siti, field="diagnosis")
    assert bad_field.status_code == 422 and "field" in bad_field.json["errors"]
    bad_domain = _file(client, demo.siti, domain="weather")
    assert bad_domain.status_code == 422 and "domain" in bad_domain.json["errors"]
    siti_child = client.get("/api/v1/me/household", headers=auth_header(demo.siti)).json["members"][1]
    other = _file(client, demo.ahmad, member_id=siti_child["member_id"])
    assert other.status_code == 422 and "member_id" in other.json["errors"]
    assert client.get("/api/v1/me/corrections/nope", headers=auth_header(demo.ahmad)).status_code == 404
