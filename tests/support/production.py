"""Settings a production process accepts, for tests that start jaki with JAKI_ENV=production in a subprocess."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

GOOD = {
    "JAKI_ENV": "production",
    "JAKI_SECRET_KEY": "test-production-secret-key-0123456789abcdef",
    "JAKI_JWT_SECRET_KEY": "test-production-jwt-key-0123456789abcdef",
    "JAKI_NIK_ENCRYPTION_KEY": base64.b64encode(b"k" * 16).decode(),  # AES-128: the README allows it
    "JAKI_NIK_HMAC_KEY": "test-production-hmac-key-0123456789abcdef",
    "DATABASE_URL": "postgresql+psycopg://jaki@127.0.0.1:1/nothing-listens-here",
    "REDIS_URL": "redis://127.0.0.1:1/0",
    "JAKI_SMS_BACKEND": "http",
    "JAKI_SMS_HTTP_URL": "http://127.0.0.1:1/sms",
    "JAKI_DUKCAPIL_BACKEND": "http",
    "JAKI_DUKCAPIL_URL": "http://127.0.0.1:1/dukcapil",
    "JAKI_PUSH_BACKEND": "fcm",
    "JAKI_FCM_PROJECT_ID": "jaki-test",
    "JAKI_FCM_URL": "http://127.0.0.1:1/v1/projects/{}/messages:send",
    "JAKI_STORAGE_BACKEND": "s3",
    "JAKI_S3_BUCKET": "jaki-media",
}

# Variables of the test run that must not leak into a production process (they pick Testing's services).
_DROP = ("TEST_DATABASE_URL", "TEST_REDIS_URL", "RATELIMIT_STORAGE_URI", "FLASK_APP", "PROMETHEUS_MULTIPROC_DIR")


def production_env(**overrides: str | None) -> dict[str, str]:
    """The test process's environment without jaki's variables, plus GOOD, plus overrides (None removes one)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAKI_") and k not in _DROP}
    env.update(GOOD)
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    env["FLASK_APP"] = "wsgi.py"
    return env


def run_flask(args: list[str], env: dict[str, str], timeout: float = 60, **options) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, "-m", "flask", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **options,
    )
