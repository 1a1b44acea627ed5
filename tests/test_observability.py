"""Request ids, the JSON access log, the redactor that never breaks a line, rq's routine lines, offline docs."""

from __future__ import annotations

import json
import logging
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaki.logging import DemoteRoutine, JsonFormatter
from tests.factories import auth_header, make_user


class _Collector(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def access_lines():
    """The access log's lines as the JSON formatter writes them, parsed back."""
    collector = _Collector()
    logger = logging.getLogger("jaki.access")
    logger.addHandler(collector)
    formatter = JsonFormatter()
    try:
        yield lambda: [json.loads(formatter.format(r)) for r in collector.records]
    finally:
        logger.removeHandler(collector)


def test_a_clients_request_id_is_returned_and_put_in_the_error_envelope(client):
    response = client.get("/api/v1/me", headers={"X-Request-ID": "app-7f3a.42"})
    assert response.status_code == 401
    assert response.headers["X-Request-ID"] == "app-7f3a.42"
    assert response.get_json()["request_id"] == "app-7f3a.42"


@pytest.mark.parametrize("offered", [None, "", "x" * 200, 'evil"}{"level":"ERROR"}', "spaces are not allowed"])
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_fresh_one(client, offered):
    headers = {} if offered is None else {"X-Request-ID": offered}
    first = client.get("/api/v1/nothing-here", headers=headers)
    second = client.get("/api/v1/nothing-here", headers=headers)
    made = first.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made) and made != second.headers["X-Request-ID"]
    assert first.get_json()["request_id"] == made


def test_every_response_carries_a_request_id_success_and_429_included(app, client, monkeypatch):
    assert client.get("/healthz").headers["X-Request-ID"]
    monkeypatch.setitem(app.config, "OPEN311_GET_RATE_PER_CLIENT", "1 per minute")
    client.get("/open311/v2/discovery.json")
    limited = client.get("/open311/v2/discovery.json")
    assert limited.status_code == 429 and limited.headers["X-Request-ID"]


def test_one_access_line_per_request_with_route_template_status_duration_and_user(client, ctx, access_lines):
    user = make_user()
    headers = {**auth_header(user), "X-Request-ID": "trace-1"}
    client.get("/api/v1/me", headers=headers)
    client.get("/api/v1/reports/not-a-report-id")
    client.get("/no/such/path")
    lines = access_lines()
    assert len(lines) == 3
    me, missing, unmatched = lines
    assert me["logger"] == "jaki.access" and me["message"] == "request"
    assert (me["method"], me["route"], me["status"], me["user_id"], me["request_id"]) == (
        "GET",
        "/api/v1/me",
        200,
        user.id,
        "trace-1",
    )
    assert isinstance(me["duration_ms"], float) and me["duration_ms"] >= 0
    assert missing["route"] == "/api/v1/reports/<string:report_id>" and missing["status"] == 404
    assert missing["user_id"] is None
    assert unmatched["route"] is None and unmatched["status"] == 404
    raw = json.dumps(lines)
    assert user.nik not in raw and headers["Authorization"].split()[1] not in raw


def test_every_line_logged_during_a_request_carries_its_id(client, ctx):
    collector = _Collector()
    root = logging.getLogger()
    root.addHandler(collector)
    try:
        client.get("/api/v1/me", headers={"X-Request-ID": "trace-2", **auth_header(make_user())})
    finally:
        root.removeHandler(collector)
    formatter = JsonFormatter()
    lines = [json.loads(formatter.format(r)) for r in collector.records]
    assert lines and all(line.get("request_id") == "trace-2" for line in lines)


def _record(message: str, **extra) -> logging.LogRecord:
    record = logging.LogRecord("jaki.test", logging.INFO, __file__, 1, message, (), None)
    record.__dict__.update(extra)
    return record


def test_the_redactor_works_on_values_and_keeps_the_line_json():
    formatted = JsonFormatter().format(
        _record(
            'GET /open311/v2/tokens.json?code="%7D&password=hunter22",} token: eyJhbGciOi.eyJzdWIiOi.sig',
            path='/cb?code=abc"}]',
            code="service_unavailable",  # a field named code is an error code, not a secret
            nik="3174054107900003",
            otp="123456",
            detail={"phone": "+6281234567890", "note": ["NIK 3174054107900003"]},
        )
    )
    line = json.loads(formatted)
    assert line["code"] == "service_unavailable"
    assert line["nik"] == line["otp"] == "[redacted]" and line["detail"]["phone"] == "[redacted]"
    assert line["detail"]["note"] == ["NIK [nik]"]
    assert "hunter22" not in formatted and "abc" not in line["path"] and "eyJhbGciOi.eyJzdWIiOi" not in formatted
    assert "3174054107900003" not in formatted and "6281234567890" not in formatted


@settings(max_examples=200, deadline=None)
@given(
    message=st.text(alphabet=st.characters(codec="utf-8"), max_size=80),
    value=st.text(alphabet=st.sampled_from('code=token:password="}],{\\\n 0123456789abc'), max_size=60),
)
def test_no_message_or_value_can_break_a_lines_json(message, value):
    line = json.loads(JsonFormatter().format(_record(message, path=value, items=[value, {"k": value}])))
    assert set(line) >= {"time", "level", "logger", "message", "path", "items"}


def _rq_record(message: str, *args) -> logging.LogRecord:
    return logging.LogRecord("rq.worker", logging.INFO, __file__, 1, message, args, None)


def test_rqs_routine_lines_for_periodic_jobs_go_to_debug():
    from jaki.schedule import DESCRIPTION_PREFIX, JOB_ID_PREFIX

    demote = DemoteRoutine(JOB_ID_PREFIX, DESCRIPTION_PREFIX)
    job_id = JOB_ID_PREFIX + "jaki_notifications_tasks_relay_outbox-119744350"
    root = logging.getLogger()
    level = root.level
    try:
        root.setLevel(logging.INFO)
        periodic = _rq_record("Worker %s: %s: %s (%s)", "w1", "jaki-default", "Job OK", job_id)
        assert demote.filter(periodic) is False and periodic.levelname == "DEBUG"
        done = _rq_record("Successfully completed %s job in %ss on worker %s", "periodic jaki.x.relay", 0.1, "w1")
        assert demote.filter(done) is False
        citizen_job = _rq_record("Worker %s: %s: %s (%s)", "w1", "jaki-notify", "Job OK", "notify-abc")
        assert demote.filter(citizen_job) is True and citizen_job.levelname == "INFO"
        warning = logging.LogRecord("rq.worker", logging.WARNING, __file__, 1, "moved %s", (job_id,), None)
        assert demote.filter(warning) is True
        root.setLevel(logging.DEBUG)
        assert demote.filter(_rq_record("Worker %s: job %s result is kept", "w1", job_id)) is True
    finally:
        root.setLevel(level)


def test_docs_load_only_local_assets_and_jaki_serves_them(client):
    page = client.get("/docs").get_data(as_text=True)
    references = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert len(references) == 3
    assert not [ref for ref in references if "//" in ref], references
    for ref in references:
        asset = client.get(ref)
        try:
            assert asset.status_code == 200, ref
            assert len(asset.get_data()) > 10_000
            assert asset.mimetype in ("text/css", "text/javascript", "application/javascript")
        finally:
            asset.close()
    assert client.get("/docs/assets/index.html").status_code == 404
    assert client.get("/docs/assets/..%2F__init__.py").status_code == 404
