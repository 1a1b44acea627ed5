"""CORS: an allow-list of exact origins from JAKI_CORS_ORIGINS, none by default; preflights for the API's headers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jaki.cors import CorsMisconfigured, checked_origins

DASHBOARD = "https://dasbor.jakarta.go.id"


def test_no_origin_is_allowed_by_default(app, client):
    assert app.config["CORS_ALLOWED_ORIGINS"] == ()
    preflight = client.options(
        "/api/v1/reports",
        headers={"Origin": DASHBOARD, "Access-Control-Request-Method": "POST"},
    )
    answer = client.get("/api/v1/me", headers={"Origin": DASHBOARD})
    for response in (preflight, answer):
        assert not [name for name, _value in response.headers if name.lower().startswith("access-control-")]


def test_origins_must_be_exact_and_https_in_production():
    configured = [" https://Dasbor.Jakarta.go.id ", "http://localhost:3000", "https://dasbor.jakarta.go.id"]
    assert checked_origins(configured, production=False) == ["https://dasbor.jakarta.go.id", "http://localhost:3000"]
    for bad in ("*", "https://*.jakarta.go.id", "https://dasbor.jakarta.go.id/", "dasbor.jakarta.go.id", "null"):
        with pytest.raises(CorsMisconfigured, match="JAKI_CORS_ORIGINS"):
            checked_origins([bad], production=False)
    with pytest.raises(CorsMisconfigured, match="https://host"):
        checked_origins(["http://dasbor.jakarta.go.id"], production=True)
    assert checked_origins([], production=True) == []


# The settings are read from the environment when config is imported, so the configured app runs in a fresh
# interpreter (another app in this process would also rebind the shared extensions).
SCRIPT = """
import json
from flask_migrate import upgrade
from config import Testing
from jaki import create_app

app = create_app(Testing)
with app.app_context():
    upgrade(revision="heads")
client = app.test_client()
out = []
DASHBOARD = "https://dasbor.jakarta.go.id"

def record(name, response):
    headers = {k.lower(): ", ".join(response.headers.getlist(k)) for k in set(response.headers.keys())}
    out.append({"name": name, "status": response.status_code, "headers": headers})

def preflight(name, path, method, headers, origin=DASHBOARD):
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        request_headers["Access-Control-Request-Headers"] = headers
    record(name, client.options(path, headers=request_headers))

preflight("file", "/api/v1/reports", "POST", "authorization, content-type, idempotency-key, accept-language")
preflight("edit", "/api/v1/reports/abc/transitions", "POST", "authorization, if-match, content-type")
preflight("admin", "/api/v1/admin/users/abc", "GET", "authorization, x-access-reason")
preflight("patch", "/api/v1/me", "PATCH", "authorization, content-type")
preflight("delete", "/api/v1/me/devices/abc", "DELETE", "authorization")
preflight("local", "/api/v1/areas", "GET", "accept-language", origin="http://localhost:3000")
preflight("evil", "/api/v1/reports", "POST", "authorization", origin="https://jakarta.go.id.evil.example")
for n in range(4):
    preflight(f"login-preflight-{n}", "/api/v1/auth/login", "POST", "content-type")
for n in range(3):
    login = client.post("/api/v1/auth/login", json={"nik": "3174051234560001", "password": "x" * 12})
    record(f"login-{n}", login)
record("categories", client.get("/api/v1/report-categories", headers={"Origin": DASHBOARD}))
record("unauthorized", client.get("/api/v1/me", headers={"Origin": DASHBOARD}))
record("spec", client.get("/openapi.json", headers={"Origin": DASHBOARD}))
record("open311", client.get("/open311/v2/discovery.json", headers={"Origin": DASHBOARD}))
record("health", client.get("/healthz", headers={"Origin": DASHBOARD}))
record("no-origin", client.get("/api/v1/report-categories"))
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def answers(tmp_path_factory) -> dict[str, dict]:
    env = {
        **os.environ,
        "JAKI_INSTANCE_DIR": str(tmp_path_factory.mktemp("cors")),
        "JAKI_CORS_ORIGINS": f"{DASHBOARD}, http://localhost:3000",
        "JAKI_LOGIN_RATE_PER_CLIENT": "2 per minute",
    }
    env.pop("TEST_REDIS_URL", None)
    env.pop("TEST_DATABASE_URL", None)
    done = subprocess.run(  # noqa: S603 - our own fixed script
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return {entry["name"]: entry for entry in json.loads(done.stdout.strip().splitlines()[-1])}


def listed(value: str) -> set[str]:
    return {item.strip().lower() for item in value.split(",")}


@pytest.mark.parametrize(
    ("name", "method", "headers"),
    [
        ("file", "POST", {"authorization", "content-type", "idempotency-key", "accept-language"}),
        ("edit", "POST", {"authorization", "if-match", "content-type"}),
        ("admin", "GET", {"authorization", "x-access-reason"}),
        ("patch", "PATCH", {"authorization", "content-type"}),
        ("delete", "DELETE", {"authorization"}),
    ],
)
def test_preflight_allows_the_apis_methods_and_headers(answers, name, method, headers):
    answer = answers[name]
    assert answer["status"] == 200
    sent = answer["headers"]
    assert sent["access-control-allow-origin"] == DASHBOARD
    assert method.lower() in listed(sent["access-control-allow-methods"])
    assert headers <= listed(sent["access-control-allow-headers"])
    assert sent["access-control-max-age"] == "600"
    assert "access-control-allow-credentials" not in sent  # tokens are headers, never cookies


def test_another_listed_origin_is_allowed_and_an_unlisted_one_is_not(answers):
    assert answers["local"]["headers"]["access-control-allow-origin"] == "http://localhost:3000"
    evil = answers["evil"]["headers"]
    assert not [name for name in evil if name.startswith("access-control-")]


def test_answers_and_errors_expose_what_a_client_reads(answers):
    for name in ("categories", "unauthorized", "spec", "open311"):
        sent = answers[name]["headers"]
        assert sent["access-control-allow-origin"] == DASHBOARD, name
        assert {"etag", "location", "retry-after", "x-request-id"} <= listed(sent["access-control-expose-headers"])
    assert answers["unauthorized"]["status"] == 401  # the envelope is readable by the dashboard too
    assert "access-control-allow-origin" not in answers["health"]["headers"]  # outside the API


def test_every_api_answer_varies_by_origin_for_shared_caches(answers):
    for name in ("categories", "unauthorized", "spec", "open311", "no-origin", "evil", "file", "local"):
        vary = [value.strip().lower() for value in answers[name]["headers"]["vary"].split(",")]
        assert vary.count("origin") == 1, (name, vary)
    assert "access-control-allow-origin" not in answers["no-origin"]["headers"]
    assert "origin" not in listed(answers["health"]["headers"].get("vary", ""))


def test_preflights_do_not_use_up_a_rate_limit(answers):
    assert [answers[f"login-preflight-{n}"]["status"] for n in range(4)] == [200] * 4
    # The limit is 2 a minute and live: the third real attempt is refused, the four preflights counted for none.
    assert [answers[f"login-{n}"]["status"] == 429 for n in range(3)] == [False, False, True]
