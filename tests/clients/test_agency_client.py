"""AgencyClient against a misbehaving agency over real HTTP: deadlines, size limits, validation, breaker."""

from __future__ import annotations

import datetime as dt
import logging
import pickle
import socket
import threading
import time
import uuid

import httpx
import pytest
from marshmallow import fields

from jaki.clients.agency_client import (
    AgencyClient,
    AgencyError,
    AgencyNotFound,
    AgencySchema,
    AgencyUnavailable,
    make_http_client,
)
from jaki.clients.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker, MemoryBreakerStore
from tests.support.fake_agency import FakeAgency

NIK = "3171012345678901"
TOKEN = "agency-token-do-not-log-0123456789"
SECRET_BODY = b'{"error": "stack trace with SECRET-BODY-MARKER inside"}'
VACCINATIONS_PATH = f"/residents/{NIK}/vaccinations"
VACCINATIONS = {
    "nik": NIK,
    "name": "Siti Rahayu",
    "internal_score": 7,
    "vaccinations": [
        {"vaccine": "BCG", "dose": 1, "given_on": "2024-01-15", "batch": "X1"},
        {"vaccine": "Polio", "dose": 2, "given_on": "2024-03-02"},
    ],
}
ROUTES = {
    VACCINATIONS_PATH: VACCINATIONS,
    "/clinics": [{"code": "PKM-01", "name": "Puskesmas Gambir"}, {"code": "PKM-02", "name": "Puskesmas Tanah Abang"}],
    "/scalar": 42,
    "/nan": {"value": float("nan")},
    "/applications": lambda request: {"received": request.json(), "id": "APP-1"},
}
# Scheduling slack allowed past a deadline: the deadline is enforced per socket operation, so a few
# milliseconds is typical; CI machines get room.
MARGIN = 0.35


class VaccinationSchema(AgencySchema):
    vaccine = fields.Str(required=True)
    dose = fields.Int(required=True)
    given_on = fields.Date(required=True)


class VaccinationRecordSchema(AgencySchema):
    nik = fields.Str(required=True)
    name = fields.Str(required=True)
    vaccinations = fields.List(fields.Nested(VaccinationSchema), required=True)


class ClinicSchema(AgencySchema):
    code = fields.Str(required=True)
    name = fields.Str(required=True)


class FakeClock:
    def __init__(self):
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def agency():
    with FakeAgency(ROUTES) as fake:
        yield fake


@pytest.fixture
def http():
    with make_http_client() as client:
        yield client


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def breaker(clock):
    return CircuitBreaker(
        f"agency:test-{uuid.uuid4().hex[:8]}",
        MemoryBreakerStore(),
        failure_threshold=3,
        window_s=30,
        open_for_s=5,
        clock=clock,
    )


@pytest.fixture
def make_client(agency, http, breaker):
    def make(**overrides) -> AgencyClient:
        options = {
            "auth_token": TOKEN,
            "connect_timeout": 0.5,
            "read_timeout": 0.5,
            "total_timeout": 1.0,
            "backoff_base": 0.01,
            "breaker": breaker,
            "http": http,
        }
        options.update(overrides)
        return AgencyClient("dinkes", agency.url, **options)

    return make


def _get_vaccinations(client: AgencyClient, **kwargs):
    return client.get_json("/residents/{nik}/vaccinations", path_params={"nik": NIK}, **kwargs)


def _timed_failure(call, expected=AgencyUnavailable) -> tuple[AgencyError, float]:
    started = time.monotonic()
    with pytest.raises(expected) as info:
        call()
    return info.value, time.monotonic() - started


# --- Good answers ---------------------------------------------------------------------------------------


def test_ok_with_schema_loads_and_drops_unknown_fields(make_client, agency):
    data = _get_vaccinations(make_client(), schema=VaccinationRecordSchema())
    assert data == {
        "nik": NIK,
        "name": "Siti Rahayu",
        "vaccinations": [
            {"vaccine": "BCG", "dose": 1, "given_on": dt.date(2024, 1, 15)},
            {"vaccine": "Polio", "dose": 2, "given_on": dt.date(2024, 3, 2)},
        ],
    }
    (request,) = agency.requests
    assert request.path == VACCINATIONS_PATH
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Accept-Encoding"] == "identity"


def test_list_answer_with_a_many_schema_and_query_params(make_client, agency):
    data = make_client().get_json("/clinics", params={"kelurahan": "Gambir"}, schema=ClinicSchema(many=True))
    assert [clinic["code"] for clinic in data] == ["PKM-01", "PKM-02"]
    assert agency.requests[0].query == {"kelurahan": ["Gambir"]}


def test_without_schema_returns_the_json_and_a_bare_scalar_is_invalid(make_client):
    client = make_client()
    assert _get_vaccinations(client) == VACCINATIONS
    error, _ = _timed_failure(lambda: client.get_json("/scalar"))
    assert error.reason == "invalid"


def test_api_key_header_instead_of_bearer(make_client, agency):
    make_client(auth_token=None, api_key="key-123", api_key_header="X-Agency-Key").get_json("/clinics")
    headers = agency.requests[0].headers
    assert headers["X-Agency-Key"] == "key-123"
    assert "Authorization" not in headers


def test_slow_within_the_timeouts_is_fine(make_client, agency):
    agency.set_mode("slow", delay=0.2)
    assert make_client().get_json("/clinics", schema=ClinicSchema(many=True))


def test_post_sends_json_and_returns_the_answer(make_client, agency):
    answer = make_client().post_json("/applications", {"nik": NIK, "kind": "bansos"})
    assert answer == {"received": {"nik": NIK, "kind": "bansos"}, "id": "APP-1"}
    assert agency.requests[0].headers["Content-Type"] == "application/json"
    assert "Idempotency-Key" not in agency.requests[0].headers


# --- Time ---------------------------------------------------------------------------------------------


def test_slow_beyond_the_timeout_gives_up_by_the_deadline(make_client, agency):
    agency.set_mode("slow", delay=3)
    error, elapsed = _timed_failure(lambda: _get_vaccinations(make_client()))
    assert error.reason == "timeout"
    assert elapsed < 1.0 + MARGIN
    # Retried, but only within the deadline: 0.5 s read timeouts leave room for at most three attempts.
    assert 2 <= agency.calls[VACCINATIONS_PATH] <= 3


def test_hang_ends_at_the_deadline_even_with_a_longer_read_timeout(make_client, agency):
    agency.set_mode("hang")
    error, elapsed = _timed_failure(lambda: _get_vaccinations(make_client(read_timeout=30, retries=0)))
    assert error.reason == "timeout"
    assert 1.0 - 0.05 <= elapsed < 1.0 + MARGIN


@pytest.mark.parametrize(
    "options",
    [{}, {"content_length": False}, {"trickle_headers": True}],
    ids=["content_length", "chunked", "headers"],
)
def test_trickle_is_stopped_by_the_overall_deadline(make_client, agency, options):
    # Every byte arrives well within the read timeout: only an overall deadline can end this.
    agency.set_mode("trickle", interval=0.05, **options)
    error, elapsed = _timed_failure(lambda: _get_vaccinations(make_client(read_timeout=0.5, retries=0)))
    assert error.reason == "timeout"
    assert 1.0 - 0.05 <= elapsed < 1.0 + MARGIN


def test_plain_httpx_client_still_ends_a_trickle_within_one_read_timeout(make_client, agency):
    agency.set_mode("trickle", interval=0.3)
    with httpx.Client() as plain:
        client = make_client(http=plain, read_timeout=0.5, retries=0)
        error, elapsed = _timed_failure(lambda: _get_vaccinations(client))
    assert error.reason == "timeout"
    assert elapsed < 1.0 + 0.5 + MARGIN


def test_connection_refused(make_client, breaker):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client()
    client.base_url = f"http://127.0.0.1:{port}"
    error, elapsed = _timed_failure(lambda: client.get_json("/clinics"))
    assert error.reason == "connection"
    assert elapsed < 1.0 + MARGIN
    assert breaker.snapshot()["failures_in_window"] == 1


# --- Retries --------------------------------------------------------------------------------------------


def test_server_error_is_retried_then_unavailable(make_client, agency, breaker):
    agency.set_mode("fail")
    error, _ = _timed_failure(lambda: _get_vaccinations(make_client(retries=2)))
    assert (error.reason, error.status) == ("http_status", 500)
    assert agency.calls[VACCINATIONS_PATH] == 1 + 2
    # One logical call is one breaker failure, however many attempts it took.
    assert breaker.snapshot()["failures_in_window"] == 1


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried(make_client, agency, status):
    agency.set_mode("fail", status=status)
    error, _ = _timed_failure(lambda: make_client(retries=1).get_json("/clinics"))
    assert error.status == status
    assert agency.calls["/clinics"] == 2


@pytest.mark.parametrize(("status", "breaker_failure"), [(400, False), (401, False), (422, False), (429, True)])
def test_4xx_is_never_retried(make_client, agency, breaker, status, breaker_failure):
    agency.set_mode("fail", status=status, body=SECRET_BODY)
    error, _ = _timed_failure(lambda: make_client().get_json("/clinics"))
    assert (error.reason, error.status) == ("http_status", status)
    assert agency.calls["/clinics"] == 1
    assert breaker.snapshot()["failures_in_window"] == int(breaker_failure)


def test_redirects_are_not_followed(make_client, agency):
    agency.set_mode("fail", status=302, headers={"Location": "http://127.0.0.1:1/elsewhere"})
    error, _ = _timed_failure(lambda: make_client().get_json("/clinics"))
    assert (error.reason, error.status) == ("http_status", 302)
    assert agency.calls["/clinics"] == 1


def test_no_retry_that_would_end_past_the_deadline(make_client, agency):
    agency.set_mode("fail")
    error, elapsed = _timed_failure(lambda: make_client(backoff_base=5.0).get_json("/clinics"))
    assert error.reason == "http_status"
    assert agency.calls["/clinics"] == 1
    assert elapsed < 0.5


def test_no_retry_once_the_breaker_has_opened(make_client, agency, breaker):
    class OpenedMeanwhile(CircuitBreaker):
        state = OPEN  # another process opened it while this call was failing

    agency.set_mode("fail")
    client = make_client(breaker=OpenedMeanwhile(breaker.name, breaker.store))
    _timed_failure(lambda: client.get_json("/clinics"))
    assert agency.calls["/clinics"] == 1


def test_flapping_agency_is_absorbed_by_retries(make_client, agency, breaker):
    agency.set_mode("flapping")  # fail, ok, fail, ok...
    client = make_client(retries=1)
    for _ in range(4):
        assert client.get_json("/clinics")
    assert agency.calls["/clinics"] == 8
    assert breaker.snapshot()["failures_in_window"] == 0


def test_post_is_not_retried(make_client, agency):
    agency.set_mode("fail", status=503)
    error, _ = _timed_failure(lambda: make_client(retries=2).post_json("/applications", {"nik": NIK}))
    assert error.status == 503
    assert agency.calls["/applications"] == 1


def test_post_with_idempotency_key_is_retried_with_the_same_key(make_client, agency):
    agency.set_mode("fail", status=503)
    key = str(uuid.uuid4())
    _timed_failure(lambda: make_client(retries=2).post_json("/applications", {"nik": NIK}, idempotency_key=key))
    assert agency.calls["/applications"] == 3
    assert {request.headers["Idempotency-Key"] for request in agency.requests} == {key}


# --- Bad answers ----------------------------------------------------------------------------------------


def test_404_is_not_found_not_retried_and_not_a_breaker_failure(make_client, agency, breaker):
    agency.set_mode("not_found")
    client = make_client()
    for _ in range(5):  # more than the breaker's threshold
        error, _ = _timed_failure(lambda: _get_vaccinations(client), AgencyNotFound)
        assert isinstance(error, AgencyError)
        assert not isinstance(error, AgencyUnavailable)
        assert (error.reason, error.status) == ("not_found", 404)
    assert agency.calls[VACCINATIONS_PATH] == 5
    snap = breaker.snapshot()
    assert snap["state"] == CLOSED
    assert snap["failures_in_window"] == 0


def test_malformed_json_is_malformed(make_client, agency):
    agency.set_mode("malformed")
    error, _ = _timed_failure(lambda: _get_vaccinations(make_client()))
    assert error.reason == "malformed"
    assert agency.calls[VACCINATIONS_PATH] == 1


def test_nan_is_not_json(make_client):
    error, _ = _timed_failure(lambda: make_client().get_json("/nan"))
    assert error.reason == "malformed"


def test_html_error_page_is_malformed_and_not_passed_on(make_client, agency):
    agency.set_mode("html")
    error, _ = _timed_failure(lambda: _get_vaccinations(make_client()))
    assert error.reason == "malformed"
    assert "html" in error.detail  # "content-type text/html": a summary, not the page
    assert "<" not in str(error)
    assert "Bad Gateway" not in str(error)


def test_compressed_answer_is_refused(make_client, agency):
    agency.set_mode("ok", headers={"Content-Encoding": "gzip"})
    error, _ = _timed_failure(lambda: make_client().get_json("/clinics"))
    assert error.reason == "malformed"


def test_a_wrong_shape_is_a_breaker_failure_and_one_odd_value_is_not(make_client, agency, breaker):
    # Issue 11 changed this: an answer not shaped like ours means the agency is broken for everyone.
    agency.set_mode("wrong_schema")  # a JSON array where an object belongs
    error, _ = _timed_failure(lambda: _get_vaccinations(make_client(), schema=VaccinationRecordSchema()))
    assert error.reason == "invalid"
    assert "expected" not in str(error)  # nothing of the agency's body reaches the message
    assert breaker.snapshot()["failures_in_window"] == 1
    # One record's odd value fails the call but is not held against the agency.
    odd = {"vaccine": "BCG", "dose": "one", "given_on": "2024-01-15"}
    agency.set_mode("wrong_schema", payload={**VACCINATIONS, "vaccinations": [odd]})
    error, _ = _timed_failure(lambda: _get_vaccinations(make_client(), schema=VaccinationRecordSchema()))
    assert error.reason == "invalid"
    assert "one" not in str(error)
    assert breaker.snapshot()["failures_in_window"] == 1
    # A record without a required field is a shape the agency changed: it counts.
    agency.set_mode("wrong_schema", payload={**VACCINATIONS, "vaccinations": [{"vaksin": "BCG", "dosis": 1}]})
    error, _ = _timed_failure(lambda: _get_vaccinations(make_client(), schema=VaccinationRecordSchema()))
    assert error.reason == "invalid" and breaker.snapshot()["failures_in_window"] == 2


@pytest.mark.parametrize(
    ("messages", "shape"),
    [
        (["Invalid input type."], True),
        ({"_schema": ["Invalid input type."]}, True),
        ({"jkn": ["Missing data for required field."]}, True),
        ({"bills": ["Not a valid list."]}, True),
        ({"jkn": {"_schema": ["Invalid input type."]}}, True),
        ({"bills": {0: {"amount": ["Missing data for required field."]}}}, True),
        ({"bills": {0: {"amount": ["Not a valid integer."]}}}, False),
        ({"jkn": {"card_number": ["String does not match expected pattern."]}}, False),
    ],
)
def test_wrong_shape_tells_shape_from_an_odd_value(messages, shape):
    from jaki.clients.agency_client import wrong_shape

    assert wrong_shape(messages) is shape


@pytest.mark.parametrize("content_length", [True, False], ids=["content_length", "chunked"])
def test_oversized_is_too_large(make_client, agency, content_length):
    agency.set_mode("oversized", size=5_000_000, content_length=content_length)
    error, elapsed = _timed_failure(lambda: _get_vaccinations(make_client(max_response_bytes=1_000_000)))
    assert error.reason == "too_large"
    assert elapsed < 0.5
    assert agency.calls[VACCINATIONS_PATH] == 1


def test_answer_just_under_the_limit_is_read(make_client, agency):
    agency.set_mode("oversized", size=100_000, content_length=False)
    assert len(make_client(max_response_bytes=100_000).get_json("/clinics")["padding"]) == 100_000 - 15


# --- Circuit breaker ------------------------------------------------------------------------------------


def test_flapping_opens_the_breaker_then_a_probe_closes_it(make_client, agency, breaker, clock):
    agency.set_mode("flapping", fail_first=3)
    client = make_client(retries=0)
    for _ in range(3):
        assert _timed_failure(lambda: client.get_json("/clinics"))[0].reason == "http_status"
    assert breaker.state == OPEN

    for _ in range(5):
        error, elapsed = _timed_failure(lambda: client.get_json("/clinics"))
        assert error.reason == "circuit_open"
        assert elapsed < 0.05
    assert agency.calls["/clinics"] == 3  # refused without touching the agency

    clock.advance(5)
    assert breaker.state == HALF_OPEN
    assert client.get_json("/clinics")  # the probe: the agency has recovered
    assert agency.calls["/clinics"] == 4
    assert breaker.state == CLOSED
    assert client.get_json("/clinics")
    assert agency.calls["/clinics"] == 5


def test_half_open_lets_only_one_probe_through(make_client, agency, breaker, clock):
    agency.set_mode("fail")
    client = make_client(retries=0)
    for _ in range(3):
        _timed_failure(lambda: client.get_json("/clinics"))
    clock.advance(5)
    agency.set_mode("slow", delay=0.3)
    results = []
    probe = threading.Thread(target=lambda: results.append(client.get_json("/clinics")))
    probe.start()
    time.sleep(0.1)
    error, _ = _timed_failure(lambda: client.get_json("/clinics"))
    assert error.reason == "circuit_open"
    probe.join()
    assert results and breaker.state == CLOSED
    assert agency.calls["/clinics"] == 3 + 1


def test_failed_probe_opens_the_breaker_again(make_client, agency, breaker, clock):
    agency.set_mode("fail")
    client = make_client(retries=0)
    for _ in range(3):
        _timed_failure(lambda: client.get_json("/clinics"))
    clock.advance(5)
    assert _timed_failure(lambda: client.get_json("/clinics"))[0].reason == "http_status"
    assert breaker.state == OPEN
    assert _timed_failure(lambda: client.get_json("/clinics"))[0].reason == "circuit_open"
    assert agency.calls["/clinics"] == 4


# --- What leaves the client -----------------------------------------------------------------------------


def test_identifiers_tokens_and_bodies_stay_out_of_logs_and_errors(make_client, agency, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client()
    _get_vaccinations(client, params={"nik": NIK})
    client.get_json(VACCINATIONS_PATH)  # identifier written straight into the path: redacted in logs
    agency.set_mode("fail", body=SECRET_BODY)
    errors = [_timed_failure(lambda: _get_vaccinations(client, params={"nik": NIK}))[0]]
    agency.set_mode("html", body=b"<html>SECRET-BODY-MARKER</html>")
    errors.append(_timed_failure(lambda: client.get_json("/clinics", params={"nik": NIK}))[0])

    assert any(record.name == "httpx" for record in caplog.records)  # httpx logged, but redacted
    assert any(getattr(record, "agency_path", None) == "/residents/{nik}/vaccinations" for record in caplog.records)
    assert any(getattr(record, "agency_path", None) == "/residents/{id}/vaccinations" for record in caplog.records)
    logged = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    for error in errors:
        logged += str(error) + repr(error) + repr(error.__dict__)
        assert error.__cause__ is None and error.__suppress_context__
    assert NIK not in logged
    assert TOKEN not in logged
    assert "SECRET-BODY-MARKER" not in logged
    assert TOKEN not in repr(client)


def test_path_params_are_quoted_and_paths_are_checked(make_client, agency):
    client = make_client()
    _timed_failure(
        lambda: client.get_json("/residents/{nik}/vaccinations", path_params={"nik": "x/../../admin"}), AgencyNotFound
    )
    assert agency.requests[0].path == "/residents/x%2F..%2F..%2Fadmin/vaccinations"
    for bad in ("..", ".", ""):
        with pytest.raises(ValueError, match="dot segment"):
            client.get_json("/residents/{nik}", path_params={"nik": bad})
    for bad in ("clinics", "//evil.example/x", "/clinics?nik=1", "/a#b"):
        with pytest.raises(ValueError, match="absolute path"):
            client.get_json(bad)
    assert agency.total_calls == 1


def test_errors_survive_pickling():
    error = AgencyUnavailable("dinkes", "http_status", status=503, detail="HTTP 503")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own exception, as rq stores it
    assert (copy.agency_code, copy.reason, copy.status, copy.detail, str(copy)) == (
        "dinkes",
        "http_status",
        503,
        "HTTP 503",
        str(error),
    )
    copy = pickle.loads(pickle.dumps(AgencyNotFound("dinkes")))  # noqa: S301 - as above
    assert isinstance(copy, AgencyNotFound)
    assert copy.reason == "not_found"


def test_invalid_configuration_is_refused(http):
    with pytest.raises(ValueError, match="base_url"):
        AgencyClient("dinkes", "ftp://agency.example", http=http)
    with pytest.raises(ValueError, match="positive"):
        AgencyClient("dinkes", "https://agency.example", total_timeout=0, http=http)


# --- The fake agency itself (what the benchmark relies on) -------------------------------------------------


def test_fake_agency_injects_latency_per_server_and_per_request(make_client, agency):
    client = make_client(total_timeout=2.0, read_timeout=2.0)
    started = time.monotonic()
    client.get_json("/clinics", params={"fake_delay_ms": 200})
    assert 0.2 <= time.monotonic() - started < 0.2 + MARGIN
    agency.set_latency(0.1, path="/clinics")
    started = time.monotonic()
    client.get_json("/clinics")
    assert 0.1 <= time.monotonic() - started < 0.1 + MARGIN
    started = time.monotonic()
    client.get_json(VACCINATIONS_PATH)
    assert time.monotonic() - started < 0.1


@pytest.mark.parametrize("mode", ["hang", "trickle", "slow"])
def test_fake_agency_shutdown_is_not_blocked_by_stuck_requests(mode):
    outcomes = []
    fake = FakeAgency(ROUTES, mode, delay=60).start()

    def stuck_call():
        # Far longer than the test: only the server's shutdown can end this call.
        with httpx.Client(timeout=30) as client:
            try:
                client.get(fake.url + "/clinics")
            except httpx.HTTPError as exc:
                outcomes.append(type(exc).__name__)

    thread = threading.Thread(target=stuck_call)
    thread.start()
    waited_until = time.monotonic() + 5
    while fake.total_calls == 0 and time.monotonic() < waited_until:
        time.sleep(0.01)
    started = time.monotonic()
    fake.close()
    assert time.monotonic() - started < 1.0
    thread.join(timeout=2)
    assert not thread.is_alive()
