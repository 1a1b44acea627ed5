"""Production refuses every fake at start (one message naming each), for web, worker and CLI alike."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import func, select

from config import Production, get_config
from config.production import ConfigurationError, production_problems, settings_of
from jaki.auth.crypto import FieldCipher, InvalidKey, decode_aes_key
from tests.support.production import production_env, run_flask

GOOD_SETTINGS = {
    **settings_of(Production),
    "SECRET_KEY": "s" * 40,
    "JWT_SECRET_KEY": "j" * 40,
    "NIK_ENCRYPTION_KEY": base64.b64encode(b"k" * 32).decode(),
    "NIK_HMAC_KEY": "h" * 40,
    "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://jaki@db/jaki",
    "REDIS_URL": "redis://cache:6379/0",
    "RATELIMIT_STORAGE_URI": "redis://cache:6379/0",
    "JOBS_BACKEND": "rq",
    "SMS_BACKEND": "http",
    "SMS_HTTP_URL": "https://sms.example/send",
    "DUKCAPIL_BACKEND": "http",
    "DUKCAPIL_URL": "https://dukcapil.example",
    "PUSH_BACKEND": "fcm",
    "FCM_PROJECT_ID": "jaki-jakarta",
    "FCM_URL": None,
    "STORAGE_BACKEND": "s3",
    "S3_BUCKET": "jaki-media",
}


def _problems(**changes) -> str:
    return "; ".join(production_problems({**GOOD_SETTINGS, **changes}))


@pytest.fixture
def credentials(tmp_path):
    path = tmp_path / "fcm.json"
    path.write_text("{}")
    GOOD_SETTINGS["FCM_CREDENTIALS_FILE"] = str(path)
    yield path
    GOOD_SETTINGS.pop("FCM_CREDENTIALS_FILE")


def test_real_settings_pass(credentials):
    assert production_problems(GOOD_SETTINGS) == []
    Production.check(GOOD_SETTINGS)


def test_the_defaults_are_refused_in_one_message_naming_every_setting():
    with pytest.raises(ConfigurationError) as caught:
        Production.check(settings_of(Production))
    message = caught.value.message
    assert message.startswith("Refusing to start in production: ") and "\n" not in message
    for name in (
        "JAKI_SECRET_KEY",
        "JAKI_JWT_SECRET_KEY",
        "JAKI_NIK_ENCRYPTION_KEY",
        "JAKI_NIK_HMAC_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "JAKI_SMS_BACKEND=record",
        "JAKI_DUKCAPIL_BACKEND=local",
        "JAKI_FCM_PROJECT_ID",
        "JAKI_FCM_CREDENTIALS_FILE",
        "JAKI_S3_BUCKET",
    ):
        assert name in message, name


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"SMS_BACKEND": "record"}, "JAKI_SMS_BACKEND=record sends no SMS"),
        ({"SMS_HTTP_URL": None}, "JAKI_SMS_BACKEND=http needs JAKI_SMS_HTTP_URL"),
        ({"DUKCAPIL_BACKEND": "local"}, "JAKI_DUKCAPIL_BACKEND=local checks identities against the demo"),
        ({"DUKCAPIL_URL": None}, "JAKI_DUKCAPIL_BACKEND=http needs JAKI_DUKCAPIL_URL"),
        ({"PUSH_BACKEND": "record"}, "JAKI_PUSH_BACKEND=record delivers no push"),
        ({"FCM_PROJECT_ID": None}, "JAKI_PUSH_BACKEND=fcm needs JAKI_FCM_PROJECT_ID"),
        ({"FCM_CREDENTIALS_FILE": None}, "needs JAKI_FCM_CREDENTIALS_FILE"),
        ({"FCM_CREDENTIALS_FILE": "/nonexistent/fcm.json"}, "/nonexistent/fcm.json is not a readable file"),
        ({"S3_BUCKET": None}, "JAKI_STORAGE_BACKEND=s3 needs JAKI_S3_BUCKET"),
        ({"S3_ACCESS_KEY_ID": "AKIA"}, "JAKI_S3_ACCESS_KEY_ID and JAKI_S3_SECRET_ACCESS_KEY"),
        ({"NIK_ENCRYPTION_KEY": "not base64 at all!"}, "JAKI_NIK_ENCRYPTION_KEY is not valid base64"),
        ({"NIK_ENCRYPTION_KEY": base64.b64encode(b"k" * 20).decode()}, "decodes to 20 bytes"),
        ({"NIK_HMAC_KEY": "short-key"}, "JAKI_NIK_HMAC_KEY is too weak"),
        ({"SECRET_KEY": "x" * 40, "JWT_SECRET_KEY": "x" * 40}, "must differ from JAKI_SECRET_KEY"),
        ({"JWT_SECRET_KEY": "too-short"}, "JAKI_JWT_SECRET_KEY is missing, a development default or shorter"),
        ({"SQLALCHEMY_DATABASE_URI": "sqlite:///jaki.db"}, "DATABASE_URL must point at PostgreSQL"),
        ({"RATELIMIT_STORAGE_URI": "memory://"}, "keeps rate limits per process"),
        ({"JOBS_BACKEND": "inline"}, "JAKI_JOBS_BACKEND must be rq"),
    ],
)
def test_each_fake_or_weak_setting_is_named(credentials, changes, named):
    assert named in _problems(**changes)


def test_an_overridden_fcm_url_needs_no_credentials_file():
    """A push gateway of the operator's (or the local stub) is called with anonymous credentials by design."""
    assert _problems(FCM_URL="http://127.0.0.1:9/v1/projects/{}/messages:send") == ""


@pytest.mark.parametrize("size", [16, 24, 32])
def test_every_documented_aes_key_size_is_accepted_and_works(credentials, size):
    raw = bytes(range(size))
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode() + "\n"):
        assert decode_aes_key(encoded) == raw
        assert _problems(NIK_ENCRYPTION_KEY=encoded) == ""
        field = FieldCipher(encoded, "h" * 40)
        assert field.decrypt(field.encrypt("3174050107900003", "nik"), "nik") == "3174050107900003"


def test_the_cipher_refuses_the_keys_the_check_refuses():
    with pytest.raises(InvalidKey):
        FieldCipher("not base64 at all!", "h" * 40)
    with pytest.raises(InvalidKey):
        FieldCipher(base64.b64encode(b"k" * 20).decode(), "h" * 40)


def test_unknown_environment_name():
    with pytest.raises(ConfigurationError):
        get_config("staging-typo")
    assert get_config("testing").ENV_NAME == "testing"


@pytest.mark.parametrize("command", [["jobs", "worker"], ["db", "upgrade", "heads"], ["demo", "seed"]])
def test_cli_commands_refuse_with_one_line_and_no_traceback(command):
    env = production_env(
        JAKI_SMS_BACKEND="record", JAKI_DUKCAPIL_BACKEND="local", JAKI_S3_BUCKET=None, JAKI_NIK_ENCRYPTION_KEY="x"
    )
    done = run_flask(command, env)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: Refusing to start in production: "), done.stderr
    for named in ("JAKI_SMS_BACKEND=record", "JAKI_DUKCAPIL_BACKEND=local", "JAKI_S3_BUCKET", "is not valid base64"):
        assert named in lines[0]


def test_demo_seed_refuses_in_production_before_touching_the_database():
    # Every setting is valid; the database does not even exist: the refusal comes first.
    done = run_flask(["demo", "seed"], production_env())
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "flask demo seed refuses to run with JAKI_ENV=production" in done.stderr


def test_demo_seed_in_production_writes_nothing(app, ctx, monkeypatch):
    from jaki.agencies.models import Agency
    from jaki.auth.models import User
    from jaki.extensions import db

    def counts():
        return [db.session.scalar(select(func.count()).select_from(model)) for model in (User, Agency)]

    before = counts()
    monkeypatch.setitem(app.config, "JAKI_ENV", "production")
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 1
    assert "refuses to run with JAKI_ENV=production" in result.output
    assert "jakarta-demo-2026" not in result.output
    assert counts() == before
