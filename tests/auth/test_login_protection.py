"""Lockout with backoff, rate limits per client and per NIK, and no account enumeration."""

from datetime import timedelta

from sqlalchemy import select

from jaki.auth.crypto import nik_index
from jaki.auth.models import LoginThrottle
from jaki.db import utcnow
from jaki.extensions import db
from tests.factories import PASSWORD, make_user

UNKNOWN_NIK = "3174054107909999"


def _login(client, nik, password, **headers):
    return client.post("/api/v1/auth/login", json={"nik": nik, "password": password}, headers=headers)


def test_unknown_nik_and_wrong_password_get_the_same_answer(client, ctx):
    user = make_user()
    wrong = _login(client, user.nik, "salah-salah-salah")
    unknown = _login(client, UNKNOWN_NIK, "salah-salah-salah")
    malformed = _login(client, "12345", "salah-salah-salah")
    assert wrong.status_code == unknown.status_code == malformed.status_code == 401
    same = [{k: v for k, v in r.json.items() if k != "request_id"} for r in (wrong, unknown, malformed)]
    assert same[0] == same[1] == same[2]  # only each response's own request id differs
    assert wrong.json["code"] == "login_failed"


def test_lockout_after_repeated_failures_with_growing_backoff(client, ctx, app):
    user = make_user()
    threshold = app.config["LOGIN_LOCKOUT_THRESHOLD"]
    for _ in range(threshold - 1):
        assert _login(client, user.nik, "salah-salah-salah").status_code == 401
    assert _login(client, user.nik, "salah-salah-salah").status_code == 401  # this one sets the lock
    locked = _login(client, user.nik, PASSWORD)  # even the right password waits
    assert locked.status_code == 429 and locked.json["code"] == "account_locked"
    first_wait = int(locked.headers["Retry-After"])
    assert 0 < first_wait <= app.config["LOGIN_LOCKOUT_BASE_SECONDS"] + 1

    throttle = db.session.scalar(select(LoginThrottle).where(LoginThrottle.nik_index == nik_index(user.nik)))
    throttle.locked_until = utcnow() - timedelta(seconds=1)  # the lock has run out
    db.session.flush()
    assert _login(client, user.nik, "salah-salah-salah").status_code == 401
    second = _login(client, user.nik, PASSWORD)
    assert second.status_code == 429 and int(second.headers["Retry-After"]) > first_wait  # backoff doubles

    throttle.locked_until = utcnow() - timedelta(seconds=1)
    db.session.flush()
    assert _login(client, user.nik, PASSWORD).status_code == 200
    assert db.session.get(LoginThrottle, throttle.nik_index) is None  # success clears the counter


def test_unknown_nik_is_locked_the_same_way(client, ctx, app):
    for _ in range(app.config["LOGIN_LOCKOUT_THRESHOLD"]):
        _login(client, UNKNOWN_NIK, "salah-salah-salah")
    locked = _login(client, UNKNOWN_NIK, "salah-salah-salah")
    assert locked.status_code == 429 and locked.json["code"] == "account_locked"


def test_rate_limit_per_nik_with_retry_after(client, ctx, app):
    limit = int(app.config["LOGIN_RATE_PER_NIK"].split()[0])
    app.config["LOGIN_LOCKOUT_THRESHOLD"] = 10_000  # isolate the limiter from the lockout here
    try:
        statuses = [_login(client, UNKNOWN_NIK, "salah-salah-salah").status_code for _ in range(limit + 1)]
    finally:
        app.config["LOGIN_LOCKOUT_THRESHOLD"] = 5
    assert statuses[:limit] == [401] * limit
    assert statuses[limit] == 429
    limited = _login(client, UNKNOWN_NIK, "salah-salah-salah")
    assert limited.json["code"] == "rate_limited" and limited.json["status"] == 429
    assert int(limited.headers["Retry-After"]) > 0
    # Another NIK from the same client is still allowed (the per-client limit is higher).
    assert _login(client, "3174054107908888", "salah-salah-salah").status_code == 401


def test_rate_limit_per_client(client, ctx, app):
    limit = int(app.config["LOGIN_RATE_PER_CLIENT"].split()[0])
    app.config["LOGIN_LOCKOUT_THRESHOLD"] = 10_000
    try:
        statuses = [_login(client, f"31740541079{n:05d}", "salah-salah-salah").status_code for n in range(1, limit + 2)]
    finally:
        app.config["LOGIN_LOCKOUT_THRESHOLD"] = 5
    assert statuses.count(429) == 1 and statuses[-1] == 429
    # A different client address has its own budget.
    other = client.post(
        "/api/v1/auth/login", json={"nik": UNKNOWN_NIK, "password": "x" * 10}, environ_base={"REMOTE_ADDR": "10.9.8.7"}
    )
    assert other.status_code == 401


def test_parallel_wrong_passwords_each_count_and_none_is_a_500(app):
    """Guesses sent at once all count towards the lock (a read-then-write counter lost some, and the first
    failure of two at once met a duplicate key)."""
    import threading

    from jaki.auth import operations
    from jaki.errors import JakiError

    nik, guesses = "3174054107907777", 8
    outcomes, lock = [], threading.Lock()
    barrier = threading.Barrier(guesses)

    def guess():
        with app.test_request_context():
            try:
                barrier.wait()
                operations.login(nik, "salah-salah-salah")
            except JakiError as exc:
                outcome = exc.code
            except Exception as exc:  # noqa: BLE001 - reported below
                outcome = repr(exc)
            finally:
                db.session.remove()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=guess) for _ in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    with app.app_context():
        try:
            throttle = db.session.get(LoginThrottle, nik_index(nik))
            assert set(outcomes) <= {"login_failed", "account_locked"} and len(outcomes) == guesses, outcomes
            assert throttle.failures == outcomes.count("login_failed")
            assert throttle.failures >= app.config["LOGIN_LOCKOUT_THRESHOLD"] and throttle.locked_until is not None
        finally:
            db.session.execute(LoginThrottle.__table__.delete().where(LoginThrottle.nik_index == nik_index(nik)))
            db.session.commit()
            db.session.remove()
