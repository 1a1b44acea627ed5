"""Login, refresh rotation with reuse detection, logout, fresh tokens; forged, expired, alg:none, revoked."""

import base64
import json
import time
from datetime import timedelta

import jwt as pyjwt
import pytest
from flask_jwt_extended import create_access_token

from jaki.auth.models import RefreshToken
from jaki.extensions import db
from tests.factories import PASSWORD, make_user


@pytest.fixture(autouse=True, params=["afresh", "kept"])
def me_answers(request, app, monkeypatch):
    """Every test twice: GET /me from the account row, and kept (jaki.caching): no kept copy may outlive a logout,
    a revocation, a password change or a disabled account."""
    monkeypatch.setitem(app.config, "ME_ANSWER_SECONDS", 60 if request.param == "kept" else 0)
    app.extensions.pop("jaki.memory_caches", None)
    yield
    app.extensions.pop("jaki.memory_caches", None)


def _login(client, user, password=PASSWORD):
    return client.post("/api/v1/auth/login", json={"nik": user.nik, "password": password})


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_login_returns_pair_with_internal_subject(client, ctx, app):
    user = make_user()
    response = _login(client, user)
    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    claims = pyjwt.decode(body["access_token"], app.config["JWT_SECRET_KEY"], algorithms=["HS256"])
    assert claims["sub"] == user.id and claims["role"] == "citizen" and claims["fresh"]
    assert user.nik not in json.dumps(claims)
    refresh_claims = pyjwt.decode(body["refresh_token"], app.config["JWT_SECRET_KEY"], algorithms=["HS256"])
    assert refresh_claims["type"] == "refresh" and refresh_claims["fam"] == claims["fam"]


def test_refresh_rotates_and_reuse_revokes_the_family(client, ctx):
    user = make_user()
    first = _login(client, user).json
    second = client.post("/api/v1/auth/refresh", headers=_bearer(first["refresh_token"]))
    assert second.status_code == 200
    assert second.json["refresh_token"] != first["refresh_token"]
    # The newer tokens work...
    assert client.get("/api/v1/me", headers=_bearer(second.json["access_token"])).status_code == 200
    # ...until someone replays the spent refresh token: then every token of the family dies.
    replay = client.post("/api/v1/auth/refresh", headers=_bearer(first["refresh_token"]))
    assert replay.status_code == 401 and replay.json["code"] == "token_revoked"
    assert client.get("/api/v1/me", headers=_bearer(second.json["access_token"])).status_code == 401
    again = client.post("/api/v1/auth/refresh", headers=_bearer(second.json["refresh_token"]))
    assert again.status_code == 401
    # Another login (another device) is a different family and is unaffected.
    other = _login(client, user).json
    assert client.get("/api/v1/me", headers=_bearer(other["access_token"])).status_code == 200
    assert db.session.query(RefreshToken).filter(RefreshToken.revoked_at.is_not(None)).count() == 2


def test_access_token_cannot_refresh_and_refresh_token_cannot_access(client, ctx):
    user = make_user()
    pair = _login(client, user).json
    assert client.post("/api/v1/auth/refresh", headers=_bearer(pair["access_token"])).status_code == 401
    assert client.get("/api/v1/me", headers=_bearer(pair["refresh_token"])).status_code == 401


def test_logout_revokes_access_and_refresh(client, ctx):
    user = make_user()
    pair = _login(client, user).json
    out = client.post(
        "/api/v1/auth/logout", headers=_bearer(pair["access_token"]), json={"refresh_token": pair["refresh_token"]}
    )
    assert out.status_code == 204
    me = client.get("/api/v1/me", headers=_bearer(pair["access_token"]))
    assert me.status_code == 401 and me.json["code"] == "token_revoked"
    refresh = client.post("/api/v1/auth/refresh", headers=_bearer(pair["refresh_token"]))
    assert refresh.status_code == 401


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_forged_expired_none_and_garbage_tokens_are_401(client, ctx, app):
    user = make_user()
    now = int(time.time())
    claims = {
        "sub": user.id,
        "role": "admin",
        "type": "access",
        "fresh": False,
        "jti": "x",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    forged = pyjwt.encode(claims, "not-the-server-key-but-long-enough-32", algorithm="HS256")
    none_alg = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    expired = create_access_token(
        identity=user.id, additional_claims={"role": user.role}, expires_delta=timedelta(seconds=-5)
    )
    cases = {
        "forged": (forged, "token_invalid"),
        "alg_none": (none_alg, "token_invalid"),
        "expired": (expired, "token_expired"),
        "garbage": ("not.a.jwt", "token_invalid"),
    }
    for name, (token, code) in cases.items():
        response = client.get("/api/v1/me", headers=_bearer(token))
        assert response.status_code == 401, name
        assert response.json["code"] == code, name
        assert response.json["status"] == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
    missing = client.get("/api/v1/me")
    assert missing.status_code == 401 and missing.json["code"] == "unauthorized"
    wrong_scheme = client.get("/api/v1/me", headers={"Authorization": "Basic abc"})
    assert wrong_scheme.status_code == 401


def test_full_nik_needs_a_fresh_token(client, ctx):
    user = make_user()
    pair = _login(client, user).json
    assert client.get("/api/v1/me/nik", headers=_bearer(pair["access_token"])).json == {"nik": user.nik}
    stale = client.post("/api/v1/auth/refresh", headers=_bearer(pair["refresh_token"])).json
    refused = client.get("/api/v1/me/nik", headers=_bearer(stale["access_token"]))
    assert refused.status_code == 401 and refused.json["code"] == "fresh_token_required"
    wrong = client.post(
        "/api/v1/auth/reauthenticate", headers=_bearer(stale["access_token"]), json={"password": "salah-salah-salah"}
    )
    assert wrong.status_code == 401
    fresh = client.post(
        "/api/v1/auth/reauthenticate", headers=_bearer(stale["access_token"]), json={"password": PASSWORD}
    ).json
    assert client.get("/api/v1/me/nik", headers=_bearer(fresh["access_token"])).status_code == 200


def test_password_change_logs_out_other_sessions(client, ctx):
    user = make_user()
    phone_a = _login(client, user).json
    phone_b = _login(client, user).json
    changed = client.post(
        "/api/v1/me/password",
        headers=_bearer(phone_a["access_token"]),
        json={"current_password": PASSWORD, "new_password": "kata-sandi-baru-2026"},
    )
    assert changed.status_code == 200
    assert client.get("/api/v1/me", headers=_bearer(phone_b["access_token"])).status_code == 401
    assert client.get("/api/v1/me", headers=_bearer(changed.json["access_token"])).status_code == 200
    assert _login(client, user).status_code == 401
    assert _login(client, user, "kata-sandi-baru-2026").status_code == 200


def test_disabled_account_tokens_stop_working(client, ctx):
    user = make_user()
    pair = _login(client, user).json
    user.status = "disabled"
    db.session.flush()
    assert client.get("/api/v1/me", headers=_bearer(pair["access_token"])).status_code == 401


def test_rehash_on_login_when_parameters_change(client, ctx, app):
    from jaki.auth.crypto import hash_password

    user = make_user()
    original = app.extensions.pop("jaki.password_hasher")
    app.config["ARGON2_TIME_COST"] = 2
    try:
        assert _login(client, user).status_code == 200
        assert "t=2" in user.password_hash
    finally:
        app.config["ARGON2_TIME_COST"] = 1
        app.extensions["jaki.password_hasher"] = original
    assert hash_password("x").count("t=1") == 1


@pytest.mark.redis
def test_revocations_live_in_redis_with_ttl(client, ctx, app):
    user = make_user()
    pair = _login(client, user).json
    client.post("/api/v1/auth/logout", headers=_bearer(pair["access_token"]))
    redis = app.extensions["jaki.redis"]
    keys = [k.decode() for k in redis.keys("jaki:revoked:*")]
    assert any(k.startswith("jaki:revoked:jti:") for k in keys)
    assert any(k.startswith("jaki:revoked:fam:") for k in keys)
    jti_key = next(k for k in keys if k.startswith("jaki:revoked:jti:"))
    assert 0 < redis.ttl(jti_key) <= 901
