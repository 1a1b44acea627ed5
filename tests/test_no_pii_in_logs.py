"""Logs never hold a NIK, password, token, OTP or phone number, through every identity flow."""

import json
import logging

from sqlalchemy import select

from jaki.auth.crypto import cipher
from jaki.auth.models import RecordedMessage
from jaki.extensions import db
from jaki.logging import JsonFormatter, redact
from tests.factories import auth_header, ensure_agency, make_resident, make_user

PASSWORD = "rahasia-sekali-123"
PHONE = "081234567890"


class _Collector(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def _raw_text(record: logging.LogRecord) -> str:
    """Everything a record carries, before the redactor: message, args and extra fields."""
    standard = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__)
    extras = {k: v for k, v in record.__dict__.items() if k not in standard}
    return f"{record.getMessage()} {json.dumps(extras, default=str)}"


def test_identity_flows_log_no_personal_data(app, client, ctx):
    collector = _Collector()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    try:
        nik, _ = make_resident()
        client.post(
            "/api/v1/auth/register",
            json={
                "nik": nik,
                "full_name": "Siti Rahayu",
                "birth_date": "1990-07-01",
                "phone": PHONE,
                "password": PASSWORD,
            },
        )
        otp_row = db.session.scalars(
            select(RecordedMessage).where(RecordedMessage.recipient == cipher().blind_index("+6281234567890", "phone"))
        ).first()
        otp = otp_row.body.split(": ")[1][:6]
        client.post("/api/v1/auth/otp/verify", json={"nik": nik, "code": "999999" if otp != "999999" else "000000"})
        client.post("/api/v1/auth/otp/verify", json={"nik": nik, "code": otp})
        client.post("/api/v1/auth/login", json={"nik": nik, "password": "salah-salah-salah"})
        pair = client.post("/api/v1/auth/login", json={"nik": nik, "password": PASSWORD}).json
        refreshed = client.post(
            "/api/v1/auth/refresh", headers={"Authorization": f"Bearer {pair['refresh_token']}"}
        ).json
        client.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {pair['refresh_token']}"})  # reuse
        for _ in range(12):  # trip the per-NIK rate limiter, which logs its key
            client.post("/api/v1/auth/login", json={"nik": nik, "password": "salah-salah-salah"})
        ensure_agency()
        officer = make_user(role="officer", agency_code="DBM")
        client.get(f"/api/v1/admin/users/{officer.id}", headers={**auth_header(officer), "X-Access-Reason": "cek data"})
        client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {refreshed['access_token']}"})
    finally:
        root.removeHandler(collector)
        root.setLevel(old_level)

    assert len(collector.records) >= 5  # the flows did log something
    secrets = {
        "nik": nik,
        "password": PASSWORD,
        "phone": PHONE,
        "phone_e164": "+6281234567890",
        "phone_local": "6281234567890",
        "otp": otp,
        "access": pair["access_token"],
        "refresh": pair["refresh_token"],
        "refreshed": refreshed["access_token"],
    }
    formatter = JsonFormatter()
    for record in collector.records:
        raw = _raw_text(record)
        formatted = formatter.format(record)
        for name, value in secrets.items():
            if name == "otp" and record.name == "flask-limiter":
                continue  # limiter lines carry a 64-hex key hash in which any 6 digits may occur by chance
            assert value not in raw, f"{name} in raw log record from {record.name}: {raw[:200]}"
            assert value not in formatted, f"{name} in formatted log from {record.name}"


def test_redactor_is_a_last_line_of_defence():
    text = redact('nik 3174054107900003 phone +6281234567890 token eyJhbGciOi.eyJzdWIiOi.sig password="hunter22"')
    assert "3174054107900003" not in text and "6281234567890" not in text
    assert "eyJhbGciOi.eyJzdWIiOi" not in text and "hunter22" not in text
