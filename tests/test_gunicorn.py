"""jaki under gunicorn with the project's gunicorn.conf.py: JSON lines only, metrics across workers, refusals."""

from __future__ import annotations

import json
import os
import subprocess

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.gunicorn import ROOT, Gunicorn, free_port, gunicorn_command
from tests.support.production import production_env


def _testing_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PROMETHEUS_MULTIPROC_DIR", "FLASK_APP")}
    env.update(JAKI_ENV="testing", JAKI_LOG_LEVEL="INFO")
    return env


def _healthz_count(url: str) -> float:
    text = httpx.get(url + "/metrics", timeout=5).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "jaki_http_requests_total" and sample.labels.get("route") == "/healthz":
                return sample.value
    return 0.0


def test_two_workers_count_into_one_metrics_page_and_every_line_is_json(tmp_path):
    server = Gunicorn(_testing_env(), tmp_path / "gunicorn.log", workers=2)
    try:
        server.wait_ready()
        baseline = _healthz_count(server.url)
        with httpx.Client(base_url=server.url) as client:
            for n in range(30):
                # A new connection each time, so both workers answer some of them.
                assert client.get("/healthz", headers={"Connection": "close", "X-Request-ID": f"gu-{n}"}).is_success
        # Whichever worker answers the scrape, it reads every worker's counters.
        assert [_healthz_count(server.url) - baseline for _ in range(4)] == [30.0] * 4
    finally:
        output = server.stop()
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]  # fails on any non-JSON line
    booted = [line for line in lines if line["logger"] == "gunicorn.error" and "Booting worker" in line["message"]]
    assert len(booted) == 2
    assert not [line for line in lines if line["logger"] == "gunicorn.access"]  # jaki's lines are the access log
    access = [line for line in lines if line["logger"] == "jaki.access" and line["route"] == "/healthz"]
    assert {line["request_id"] for line in access} >= {f"gu-{n}" for n in range(30)}
    assert all(line["status"] == 200 and "duration_ms" in line for line in access)


def test_gunicorn_refuses_fakes_with_one_error_line_before_any_worker_boots():
    env = production_env(JAKI_SMS_BACKEND="record", JAKI_PUSH_BACKEND="record", JAKI_NIK_HMAC_KEY="weak")
    done = subprocess.run(  # noqa: S603 - our interpreter, fixed arguments
        gunicorn_command(free_port()), cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output and "Booting worker" not in output
    errors = [line for line in output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1
    for named in ("JAKI_SMS_BACKEND=record", "JAKI_PUSH_BACKEND=record", "JAKI_NIK_HMAC_KEY is too weak"):
        assert named in errors[0]
