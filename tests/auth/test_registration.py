"""Registration against the population registry, phone verification by OTP, one account per NIK."""

from datetime import date, timedelta

from sqlalchemy import select, update

from jaki.auth.crypto import cipher, nik_index
from jaki.auth.models import OtpChallenge, RecordedMessage, User
from jaki.db import utcnow
from jaki.extensions import db
from tests.factories import make_resident

PASSWORD = "rahasia-sekali-123"


def _register(client, nik, **overrides):
    body = {
        "nik": nik,
        "full_name": "Siti Rahayu",
        "birth_date": "1990-07-01",
        "phone": "0812-3456-7890",
        "password": PASSWORD,
        **overrides,
    }
    return client.post("/api/v1/auth/register", json=body)


def _last_otp(phone="+6281234567890") -> str:
    index = cipher().blind_index(phone, "phone")
    message = db.session.scalars(
        select(RecordedMessage).where(RecordedMessage.recipient == index).order_by(RecordedMessage.id.desc())
    ).first()
    return message.body.split(": ")[1][:6]


def test_register_verify_login(client, ctx):
    nik, _ = make_resident()
    response = _register(client, nik)
    assert response.status_code == 201, response.json
    assert response.json["status"] == "pending"
    assert response.json["otp_sent_to"] == "+628*******890"
    user = db.session.scalar(select(User).where(User.nik_index == nik_index(nik)))
    # Stored encrypted and hashed, never in clear.
    assert nik not in user.nik_encrypted and user.nik == nik
    assert user.password_hash.startswith("$argon2id$")
    otp = db.session.scalar(select(OtpChallenge).where(OtpChallenge.user_id == user.id))
    assert len(otp.code_hash) == 64 and _last_otp() not in otp.code_hash

    before = client.post("/api/v1/auth/login", json={"nik": nik, "password": PASSWORD})
    assert before.status_code == 403 and before.json["code"] == "phone_not_verified"

    verified = client.post("/api/v1/auth/otp/verify", json={"nik": nik, "code": _last_otp()})
    assert verified.status_code == 200 and verified.json["status"] == "active"

    login = client.post("/api/v1/auth/login", json={"nik": nik, "password": PASSWORD})
    assert login.status_code == 200
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {login.json['access_token']}"})
    assert me.status_code == 200
    assert me.json["nik_masked"] == nik[:6] + "******" + nik[12:]
    assert "nik" not in me.json and nik not in me.get_data(as_text=True)


def test_one_account_per_nik(client, ctx):
    nik, _ = make_resident()
    assert _register(client, nik).status_code == 201
    again = _register(client, nik, phone="081299998888")
    assert again.status_code == 409 and again.json["code"] == "account_exists"


def test_registry_must_know_the_person(client, ctx):
    nik, _ = make_resident()
    wrong_name = _register(client, nik, full_name="Orang Lain")
    assert wrong_name.status_code == 422 and wrong_name.json["code"] == "nik_not_in_registry"
    stranger = _register(client, "3174054107900999")
    assert stranger.status_code == 422 and stranger.json["code"] == "nik_not_in_registry"
    # Case and spacing of the name do not matter.
    assert _register(client, nik, full_name="  siti   RAHAYU ").status_code == 201


def test_nik_must_agree_with_birth_date(client, ctx):
    nik, _ = make_resident()
    response = _register(client, nik, birth_date="1990-07-02")
    assert response.status_code == 422
    assert response.json["code"] == "nik_birth_date_mismatch"
    assert response.json["errors"]["nik"] == ["Tanggal lahir tidak sesuai dengan NIK."]


def test_invalid_nik_reason_in_indonesian_and_english(client, ctx):
    response = _register(client, "3174053102900001", birth_date="1990-02-28")
    assert response.json["code"] == "nik_birth_date_invalid"
    assert response.json["message"] == "Tanggal lahir pada NIK tidak valid."
    english = client.post(
        "/api/v1/auth/register",
        headers={"Accept-Language": "en-US,en;q=0.9"},
        json={
            "nik": "9974050101900001",
            "full_name": "X Y",
            "birth_date": "1990-01-01",
            "phone": "081234567890",
            "password": PASSWORD,
        },
    )
    assert english.json["code"] == "nik_province_unknown"
    assert english.json["message"] == "Unknown province code in the NIK."


def test_phone_and_password_rules(client, ctx):
    nik, _ = make_resident()
    bad_phone = _register(client, nik, phone="021-555-1234")
    assert bad_phone.status_code == 422 and bad_phone.json["code"] == "phone_invalid"
    weak = _register(client, nik, password="123")
    assert weak.status_code == 422 and weak.json["code"] == "password_weak"
    same_as_nik = _register(client, nik, password=nik)
    assert same_as_nik.json["code"] == "password_weak"


def test_otp_wrong_code_attempts_are_capped(client, ctx, app):
    nik, _ = make_resident()
    _register(client, nik)
    real = _last_otp()
    wrong = "000000" if real != "000000" else "111111"
    for _ in range(app.config["OTP_MAX_ATTEMPTS"]):
        response = client.post("/api/v1/auth/otp/verify", json={"nik": nik, "code": wrong})
        assert response.status_code == 422 and response.json["code"] == "otp_invalid"
    # Even the right code no longer works: a new code must be requested.
    blocked = client.post("/api/v1/auth/otp/verify", json={"nik": nik, "code": real})
    assert blocked.status_code == 429 and blocked.json["code"] == "otp_too_many_attempts"


def test_otp_expires(client, ctx):
    nik, _ = make_resident()
    _register(client, nik)
    db.session.execute(update(OtpChallenge).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = client.post("/api/v1/auth/otp/verify", json={"nik": nik, "code": _last_otp()})
    assert response.status_code == 422 and response.json["code"] == "otp_invalid"


def test_otp_resend_has_a_cooldown_and_does_not_enumerate(client, ctx):
    nik, _ = make_resident()
    _register(client, nik)
    too_soon = client.post("/api/v1/auth/otp/resend", json={"nik": nik})
    assert too_soon.status_code == 429 and int(too_soon.headers["Retry-After"]) > 0
    db.session.execute(update(OtpChallenge).values(created_at=utcnow() - timedelta(minutes=5)))
    first = _last_otp()
    resent = client.post("/api/v1/auth/otp/resend", json={"nik": nik})
    assert resent.status_code == 202
    assert client.post("/api/v1/auth/otp/verify", json={"nik": nik, "code": _last_otp()}).status_code == 200
    assert first is not None
    unknown = client.post("/api/v1/auth/otp/resend", json={"nik": "3174054107900999"})
    assert unknown.status_code == 202 and unknown.json == resent.json


def test_unknown_fields_are_refused(client, ctx):
    nik, _ = make_resident()
    response = _register(client, nik, role="admin")
    assert response.status_code == 422
    assert "role" in response.json["errors"]


def test_registration_birth_date_in_future(client, ctx):
    future = (date.today() + timedelta(days=30)).isoformat()
    response = _register(client, "3174054107900003", birth_date=future)
    assert response.status_code == 422
    assert response.json["code"] in ("nik_birth_date_future", "nik_birth_date_mismatch")
