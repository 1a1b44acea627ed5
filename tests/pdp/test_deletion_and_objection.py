"""Closing an account leaves anonymous reports and no personal field; objections stop optional processing."""

from __future__ import annotations

from sqlalchemy import LargeBinary, String, Text, cast, func, select
from sqlalchemy.types import JSON

from jaki import audit
from jaki.auth.models import User
from jaki.auth.operations import send_otp
from jaki.extensions import db
from jaki.notifications import delivery
from jaki.notifications.models import Device
from jaki.pdp import consent, objections
from jaki.pdp.models import AccessLogEntry, ConsentChoice
from tests.factories import PASSWORD, auth_header, make_user
from tests.reports.factories import make_report

NAME = "Larasati Kusumawardhani"


def _scan(needles: dict[str, str]) -> list[str]:
    """Every table, every text-like column: where does any needle still appear?"""
    import jaki.models  # noqa: F401 - every table

    found = []
    for table in db.metadata.sorted_tables:
        for column in table.c:
            if isinstance(column.type, LargeBinary) or not isinstance(column.type, (String, Text, JSON)):
                continue
            for label, needle in needles.items():
                hits = db.session.scalar(
                    select(func.count()).select_from(table).where(cast(column, Text).like(f"%{needle}%"))
                )
                if hits:
                    found.append(f"{label} in {table.name}.{column.name}")
    return found


def test_a_closed_account_leaves_anonymous_reports_and_no_personal_field(client, ctx, areas, app):
    citizen = make_user(full_name=NAME, phone="+6281299887766", home_kelurahan_code="31.74.05.1002")
    nik, index, user_id = citizen.nik, citizen.nik_index, citizen.id
    headers = auth_header(citizen)
    report = make_report(reporter=citizen, description="Lampu jalan mati di depan gang")
    assert client.post(
        f"/api/v1/reports/{report.id}/comments", json={"body": "Masih mati malam ini"}, headers=headers
    ).status_code in (201, 200)
    device = client.post(
        "/api/v1/me/devices", json={"token": "tok-" + "a" * 40, "platform": "android"}, headers=headers
    )
    assert device.status_code in (200, 201)
    send_otp(citizen, "phone_verify", enforce_cooldown=False)
    objections.change(citizen, {"programme_marketing": False})
    client.post(
        "/api/v1/me/corrections",
        json={"domain": "population", "field": "address", "explanation": "Alamat saya sudah pindah"},
        headers=headers,
    )
    admin = make_user(role="admin")
    audit.record(db.session, actor=admin, subject_id=user_id, action="user.read", reason="Bantuan akun warga")
    db.session.flush()
    assert _scan({"name": NAME}), "the scan must see the data while it exists"

    wrong = client.delete("/api/v1/me/account", json={"password": "salah-sandi-x", "confirm": "HAPUS"}, headers=headers)
    assert wrong.status_code == 401
    unconfirmed = client.delete("/api/v1/me/account", json={"password": PASSWORD, "confirm": "ya"}, headers=headers)
    assert unconfirmed.status_code == 422
    closed = client.delete("/api/v1/me/account", json={"password": PASSWORD, "confirm": "HAPUS"}, headers=headers)
    assert closed.status_code == 200, closed.json
    receipt = closed.json
    assert receipt["reference"].startswith("DEL-") and receipt["completed_at"]
    assert {k["what"] for k in receipt["kept"]} >= {"reports_anonymous", "audit_trail"}
    assert all(k["why"] for k in receipt["kept"]) and "account" in {e["what"] for e in receipt["erased"]}
    english = client.get(f"/api/v1/pdp/deletion-receipts/{receipt['reference']}", headers={"Accept-Language": "en"})
    assert english.status_code == 200 and "erased" in english.json["message"]

    for device_id in db.session.scalars(select(Device.id).where(Device.user_id == user_id)).all():
        delivery.sync_topics(device_id)  # the job the commit queued (inline or on rq): unsubscribe, delete
    assert db.session.scalar(select(func.count()).select_from(Device).where(Device.user_id == user_id)) == 0
    sender = delivery.push_sender()
    assert not any("tok-" + "a" * 40 in members for members in getattr(sender, "topics", {}).values())

    leftovers = _scan(
        {"nik": nik, "nik_index": index, "name": NAME, "phone": "81299887766", "phone_e164": "+6281299887766"}
    )
    assert leftovers == []
    row = db.session.get(User, user_id)
    assert row.status == "deleted" and row.full_name == "" and row.nik_index == f"deleted:{user_id}"
    # Reports stay public, anonymous; history keeps the pseudonymous id; the audit row is kept.
    public = client.get(f"/api/v1/reports/{report.id}")
    assert public.status_code == 200 and NAME not in public.get_data(as_text=True)
    assert db.session.get(type(report), report.id).anonymous is True
    assert db.session.scalar(
        select(func.count()).select_from(audit.AuditEntry).where(audit.AuditEntry.subject_id == user_id)
    )
    assert db.session.scalar(select(AccessLogEntry.subject_index).where(AccessLogEntry.action == "user.read")) == (
        f"x:{user_id}"
    )
    # Tokens are dead and the NIK logs in to nothing.
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    login = client.post("/api/v1/auth/login", json={"nik": nik, "password": PASSWORD})
    assert login.status_code == 401
    assert (
        client.get(
            f"/api/v1/admin/users/{user_id}", headers={**auth_header(admin), "X-Access-Reason": "cek akun"}
        ).status_code
        == 404
    )


def test_closing_needs_a_fresh_token(client, ctx):
    user = make_user()
    stale = client.delete(
        "/api/v1/me/account", json={"password": PASSWORD, "confirm": "HAPUS"}, headers=auth_header(user, fresh=False)
    )
    assert stale.status_code == 401 and stale.json["code"] == "fresh_token_required"


def test_objecting_to_area_alerts_leaves_only_city_wide_topics(client, ctx, areas):
    user = make_user(home_kelurahan_code="31.74.05.1002")
    headers = auth_header(user)
    assert client.get("/api/v1/me/consents", headers=headers).json["area_alerts"]["granted"] is True
    device = client.post("/api/v1/me/devices", json={"token": "tok-" + "b" * 40, "platform": "ios"}, headers=headers)
    device_id = device.json["id"]
    delivery.sync_topics(device_id)
    assert len(db.session.get(Device, device_id).topics) > 1  # kelurahan, kecamatan, kota and Jakarta

    changed = client.patch("/api/v1/me/consents", json={"area_alerts": False}, headers=headers)
    assert changed.status_code == 200
    choice = changed.json["area_alerts"]
    assert choice["granted"] is False and choice["effective_by"]
    delivery.sync_topics(device_id)  # the job the change queued (inline, or on rq)
    assert db.session.get(Device, device_id).topics == ["area-31"]
    consent.check_objections_applied()
    assert db.session.get(ConsentChoice, (user.id, consent.AREA_ALERTS)).applied_at is not None
    assert consent.allows(user.id, consent.AREA_ALERTS) is False
    assert consent.allows(user.id, consent.PROGRAMME_MARKETING) is True
    back = client.patch("/api/v1/me/consents", json={"area_alerts": True}, headers=headers).json
    assert back["area_alerts"]["granted"] is True and back["area_alerts"]["effective_by"] is None
    unknown = client.patch("/api/v1/me/consents", json={"location_tracking": False}, headers=headers)
    assert unknown.status_code == 422
