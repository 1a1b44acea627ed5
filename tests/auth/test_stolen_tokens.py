"""A stolen access token is no side door: re-authentication and password change share the login's limits and lock;
tokens missing a claim jaki relies on are refused."""

import time
from datetime import timedelta

import jwt as pyjwt
import pytest

from jaki.auth.crypto import nik_index
from jaki.auth.models import LoginThrottle
from jaki.db import utcnow
from jaki.extensions import db
from tests.factories import PASSWORD, make_user

WRONG = "bukan-kata-sandi-saya"


def _login(client, nik, password=PASSWORD, **kwargs):
    return client.post("/api/v1/auth/login", json={"nik": nik, "password": password}, **kwargs)


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def _reauth(client, token, password):
    return client.post("/api/v1/auth/reauthenticate", json={"password": password}, headers=_bearer(token))


def _change(client, token, current, new="kata-sandi-baru-yang-kuat"):
    return client.post(
        "/api/v1/me/password", json={"current_password": current, "new_password": new}, headers=_bearer(token)
    )


@pytest.fixture
def config(app):
    """Set config keys for one test; the originals come back afterwards."""
    saved = {}

    def set_(**values):
        for key, value in values.items():
            saved.setdefault(key, app.config[key])
            app.config[key] = value

    yield set_
    app.config.update(saved)


def _expire_lock(user):
    throttle = db.session.get(LoginThrottle, nik_index(user.nik))
    throttle.locked_until = utcnow() - timedelta(seconds=1)
    db.session.flush()


def test_fifty_wrong_reauthentications_end_in_429_and_a_lock_like_the_login(client, ctx, app):
    user = make_user()
    token = _login(client, user.nik).json["access_token"]
    answers = [_reauth(client, token, WRONG) for _ in range(50)]
    statuses = [a.status_code for a in answers]
    threshold = app.config["LOGIN_LOCKOUT_THRESHOLD"]
    assert statuses[:threshold] == [401] * threshold
    assert statuses[threshold:] == [429] * (50 - threshold)
    assert answers[threshold].json["code"] == "account_locked" and int(answers[threshold].headers["Retry-After"]) > 0
    assert {a.json["code"] for a in answers[threshold:]} <= {"account_locked", "rate_limited"}
    throttle = db.session.get(LoginThrottle, nik_index(user.nik))
    assert throttle.failures == threshold and throttle.locked_until > utcnow()
    # The right password is refused now, here and at the login: one lock per account.
    assert _reauth(client, token, PASSWORD).status_code == 429
    assert _login(client, user.nik, environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 429


def test_reauthentication_lock_then_success_clears_the_count(client, ctx, app, config):
    config(LOGIN_RATE_PER_NIK="1000 per minute", LOGIN_RATE_PER_CLIENT="1000 per minute")
    user = make_user()
    token = _login(client, user.nik).json["access_token"]
    for _ in range(app.config["LOGIN_LOCKOUT_THRESHOLD"]):
        wrong = _reauth(client, token, WRONG)
        assert wrong.status_code == 401 and wrong.json["code"] == "password_wrong"
    locked = _reauth(client, token, PASSWORD)
    assert locked.status_code == 429 and locked.json["code"] == "account_locked"
    login = _login(client, user.nik)
    assert login.status_code == 429 and login.json["code"] == "account_locked"
    _expire_lock(user)
    fresh = _reauth(client, token, PASSWORD)
    assert fresh.status_code == 200 and fresh.json["access_token"]
    assert db.session.get(LoginThrottle, nik_index(user.nik)) is None


def test_failed_logins_count_towards_the_reauthentication_lock(client, ctx, app, config):
    config(LOGIN_RATE_PER_NIK="1000 per minute", LOGIN_RATE_PER_CLIENT="1000 per minute")
    user = make_user()
    token = _login(client, user.nik).json["access_token"]
    for _ in range(app.config["LOGIN_LOCKOUT_THRESHOLD"]):
        assert _login(client, user.nik, WRONG).status_code == 401
    refused = _reauth(client, token, PASSWORD)
    assert refused.status_code == 429 and refused.json["code"] == "account_locked"


def test_password_change_shares_the_lock(client, ctx, app, config):
    config(LOGIN_RATE_PER_NIK="1000 per minute", LOGIN_RATE_PER_CLIENT="1000 per minute")
    user = make_user()
    token = _login(client, user.nik).json["access_token"]  # fresh: a password change is allowed
    for _ in range(app.config["LOGIN_LOCKOUT_THRESHOLD"]):
        wrong = _change(client, token, WRONG)
        assert wrong.status_code == 401 and wrong.json["code"] == "password_wrong"
    locked = _change(client, token, PASSWORD)
    assert locked.status_code == 429 and locked.json["code"] == "account_locked"
    assert _login(client, user.nik).status_code == 429
    _expire_lock(user)
    changed = _change(client, token, PASSWORD)
    assert changed.status_code == 200
    assert db.session.get(LoginThrottle, nik_index(user.nik)) is None


def test_reauthentication_draws_on_the_logins_per_account_budget(client, ctx, app, config):
    config(LOGIN_LOCKOUT_THRESHOLD=10_000)  # the limiter alone here
    limit = int(app.config["LOGIN_RATE_PER_NIK"].split()[0])
    user = make_user()
    token = _login(client, user.nik).json["access_token"]  # 1 of the budget
    statuses = [_reauth(client, token, WRONG).status_code for _ in range(limit)]
    assert statuses == [401] * (limit - 1) + [429]
    limited = _login(client, user.nik, environ_base={"REMOTE_ADDR": "10.2.2.2"})
    assert limited.status_code == 429 and limited.json["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) > 0
    # The password change (the login's token is fresh) is the same budget; another account from the same client
    # is not.
    assert _change(client, token, WRONG).status_code == 429
    other = make_user()
    assert _login(client, other.nik).status_code == 200


def test_reauthentication_draws_on_the_logins_per_client_budget(client, ctx, app, config):
    config(LOGIN_LOCKOUT_THRESHOLD=10_000, LOGIN_RATE_PER_NIK="1000 per minute")
    limit = int(app.config["LOGIN_RATE_PER_CLIENT"].split()[0])
    user = make_user()
    token = _login(client, user.nik).json["access_token"]
    statuses = [_reauth(client, token, WRONG).status_code for _ in range(limit)]
    assert statuses == [401] * (limit - 1) + [429]
    other = make_user()
    assert _login(client, other.nik).status_code == 429  # same client address
    assert _login(client, other.nik, environ_base={"REMOTE_ADDR": "10.3.3.3"}).status_code == 200


# ---- required claims ------------------------------------------------------------------------------------


def _claims(user, **overrides):
    now = int(time.time())
    claims = {
        "sub": user.id,
        "role": user.role,
        "type": "access",
        "fresh": False,
        "jti": "8c1d1f0e-3a55-4f0e-9d55-2f6d4cbe1a11",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "fam": "f0f0f0f0-0000-4000-8000-000000000000",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not _DROP}


_DROP = object()


def _sign(app, claims):
    return pyjwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")


def test_a_complete_token_signed_with_the_key_is_accepted(client, ctx, app):
    user = make_user()
    response = client.get("/api/v1/me", headers=_bearer(_sign(app, _claims(user))))
    assert response.status_code == 200 and response.json["id"] == user.id


@pytest.mark.parametrize("claim", ["exp", "jti", "type", "sub", "role", "iat"])
def test_a_token_missing_a_required_claim_is_refused(client, ctx, app, claim):
    user = make_user()
    token = _sign(app, _claims(user, **{claim: _DROP}))
    response = client.get("/api/v1/me", headers=_bearer(token))
    assert response.status_code == 401, response.json
    assert response.json["code"] == "token_invalid" and response.headers["WWW-Authenticate"] == "Bearer"
    # Public views that read an optional token refuse it the same way rather than ignoring or crashing.
    public = client.get("/api/v1/reports/00000000-0000-4000-8000-000000000000", headers=_bearer(token))
    assert public.status_code == 401 and public.json["code"] == "token_invalid"


@pytest.mark.parametrize("claim", ["exp", "jti", "type", "sub", "role", "iat"])
def test_a_refresh_token_missing_a_required_claim_is_refused(client, ctx, app, claim):
    user = make_user()
    token = _sign(app, _claims(user, **{"type": "refresh", claim: _DROP}))
    response = client.post("/api/v1/auth/refresh", headers=_bearer(token))
    assert response.status_code == 401 and response.json["code"] == "token_invalid"


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": "99999999999"},
        {"exp": True},
        {"exp": 1.5e10},
        {"iat": "0"},
        {"jti": 42},
        {"jti": ""},
        {"jti": "x" * 65},
        {"type": "id_token"},
        {"role": "superuser"},
        {"role": None},
        {"sub": 123},
    ],
    ids=lambda o: "-".join(f"{k}={v!r}"[:20] for k, v in o.items()),
)
def test_a_token_with_a_claim_of_the_wrong_kind_is_refused(client, ctx, app, overrides):
    user = make_user()
    response = client.get("/api/v1/me", headers=_bearer(_sign(app, _claims(user, **overrides))))
    assert response.status_code == 401 and response.json["code"] == "token_invalid"
