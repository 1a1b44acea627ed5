"""The production start-up check: one message naming every setting that would fake, leak or fail."""

from __future__ import annotations

import os
from collections.abc import Mapping

import click

from config import DEV_HMAC_KEY, DEV_NIK_KEY, DEV_SECRET

MIN_SECRET_CHARS = 32
MIN_HMAC_KEY_BYTES = 32  # HMAC-SHA256: a key shorter than the hash weakens the blind index (RFC 2104)


class ConfigurationError(click.ClickException):
    """Settings production must not run with.

    A ClickException so that every `flask` command (`flask jobs worker` included) ends with this one line
    instead of a traceback; gunicorn.conf.py hands the same message to gunicorn, which prints it and exits.
    """


def settings_of(cls) -> dict:
    """A settings class as the mapping Flask's config.from_object makes of it."""
    return {name: getattr(cls, name) for name in dir(cls) if name.isupper()}


def _text(settings: Mapping, name: str) -> str:
    value = settings.get(name)
    return "" if value is None else str(value).strip()


def _secret_problems(settings: Mapping) -> list[str]:
    problems = []
    for name, env in (("SECRET_KEY", "JAKI_SECRET_KEY"), ("JWT_SECRET_KEY", "JAKI_JWT_SECRET_KEY")):
        value = _text(settings, name)
        if not value or value == DEV_SECRET or len(value) < MIN_SECRET_CHARS:
            problems.append(f"{env} is missing, a development default or shorter than {MIN_SECRET_CHARS} characters")
    if not problems and _text(settings, "SECRET_KEY") == _text(settings, "JWT_SECRET_KEY"):
        problems.append("JAKI_JWT_SECRET_KEY must differ from JAKI_SECRET_KEY (one leaked key must not forge both)")
    return problems


def _key_problems(settings: Mapping) -> list[str]:
    # The same decoder the cipher uses, so a key that passes here is a key that works at the first login.
    from jaki.auth.crypto import InvalidKey, decode_aes_key

    problems = []
    nik_key = _text(settings, "NIK_ENCRYPTION_KEY")
    if not nik_key:
        problems.append("JAKI_NIK_ENCRYPTION_KEY is missing")
    elif nik_key == DEV_NIK_KEY:
        problems.append("JAKI_NIK_ENCRYPTION_KEY is the development default")
    else:
        try:
            decode_aes_key(nik_key)
        except InvalidKey as exc:
            problems.append(f"JAKI_NIK_ENCRYPTION_KEY {exc}")
    hmac_key = _text(settings, "NIK_HMAC_KEY")
    if not hmac_key or hmac_key == DEV_HMAC_KEY:
        problems.append("JAKI_NIK_HMAC_KEY is missing or the development default")
    elif len(hmac_key.encode()) < MIN_HMAC_KEY_BYTES:
        problems.append(f"JAKI_NIK_HMAC_KEY is too weak: use at least {MIN_HMAC_KEY_BYTES} random bytes")
    return problems


def _service_problems(settings: Mapping) -> list[str]:
    problems = []
    if not _text(settings, "SQLALCHEMY_DATABASE_URI").startswith("postgresql"):
        problems.append("DATABASE_URL must point at PostgreSQL")
    if not _text(settings, "REDIS_URL"):
        problems.append("REDIS_URL is required")
    elif _text(settings, "RATELIMIT_STORAGE_URI").startswith("memory"):
        problems.append("RATELIMIT_STORAGE_URI=memory:// keeps rate limits per process: point it at Redis or unset it")
    if _text(settings, "JOBS_BACKEND") != "rq":
        problems.append("JAKI_JOBS_BACKEND must be rq (inline runs background jobs inside web requests)")
    return problems


def _sender_problems(settings: Mapping) -> list[str]:
    problems = []
    sms = _text(settings, "SMS_BACKEND")
    if sms == "record":
        problems.append(
            "JAKI_SMS_BACKEND=record sends no SMS and keeps OTP codes in the database: use http with JAKI_SMS_HTTP_URL"
        )
    elif sms != "http":
        problems.append(f"JAKI_SMS_BACKEND={sms or '(empty)'} is unknown: use http")
    elif not _text(settings, "SMS_HTTP_URL"):
        problems.append("JAKI_SMS_BACKEND=http needs JAKI_SMS_HTTP_URL")

    dukcapil = _text(settings, "DUKCAPIL_BACKEND")
    if dukcapil == "local":
        problems.append(
            "JAKI_DUKCAPIL_BACKEND=local checks identities against the demo residents table: "
            "use http with JAKI_DUKCAPIL_URL"
        )
    elif dukcapil != "http":
        problems.append(f"JAKI_DUKCAPIL_BACKEND={dukcapil or '(empty)'} is unknown: use http")
    elif not (_text(settings, "DUKCAPIL_URL") or _text(settings, "AGENCY_DUKCAPIL_URL")):
        problems.append("JAKI_DUKCAPIL_BACKEND=http needs JAKI_DUKCAPIL_URL")

    push = _text(settings, "PUSH_BACKEND")
    if push == "record":
        problems.append("JAKI_PUSH_BACKEND=record delivers no push notification: use fcm")
    elif push != "fcm":
        problems.append(f"JAKI_PUSH_BACKEND={push or '(empty)'} is unknown: use fcm")
    else:
        if not _text(settings, "FCM_PROJECT_ID"):
            problems.append("JAKI_PUSH_BACKEND=fcm needs JAKI_FCM_PROJECT_ID")
        credentials = _text(settings, "FCM_CREDENTIALS_FILE")
        # An overridden FCM_URL (a push gateway of the operator's) is called with anonymous credentials by design.
        if not _text(settings, "FCM_URL"):
            if not credentials:
                problems.append("JAKI_PUSH_BACKEND=fcm needs JAKI_FCM_CREDENTIALS_FILE (a service-account JSON file)")
            elif not (os.path.isfile(credentials) and os.access(credentials, os.R_OK)):
                problems.append(f"JAKI_FCM_CREDENTIALS_FILE {credentials} is not a readable file")

    storage = _text(settings, "STORAGE_BACKEND")
    if storage == "s3":
        if not _text(settings, "S3_BUCKET"):
            problems.append("JAKI_STORAGE_BACKEND=s3 needs JAKI_S3_BUCKET")
        if bool(_text(settings, "S3_ACCESS_KEY_ID")) != bool(_text(settings, "S3_SECRET_ACCESS_KEY")):
            problems.append("set both JAKI_S3_ACCESS_KEY_ID and JAKI_S3_SECRET_ACCESS_KEY, or neither")
    elif storage != "local":
        problems.append(f"JAKI_STORAGE_BACKEND={storage or '(empty)'} is unknown: use s3 (or local on shared disk)")
    return problems


def production_problems(settings: Mapping) -> list[str]:
    """Every reason these settings (a Flask config or settings_of(cls)) must not serve citizens."""
    return [
        *_secret_problems(settings),
        *_key_problems(settings),
        *_service_problems(settings),
        *_sender_problems(settings),
    ]


def check(settings: Mapping) -> None:
    problems = production_problems(settings)
    if problems:
        raise ConfigurationError("Refusing to start in production: " + "; ".join(problems) + ".")
