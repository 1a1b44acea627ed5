"""HTTP client for the agencies' REST APIs: every answer is untrusted, every call ends by its deadline."""

from __future__ import annotations

import contextvars
import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import httpcore
import httpx
from marshmallow import EXCLUDE, Schema, ValidationError

from jaki.clients.breaker import OPEN, CircuitBreaker, MemoryBreakerStore
from jaki.clients.call_stats import CallRecorder, MemoryCallStats

log = logging.getLogger(__name__)

REASONS = frozenset({"timeout", "connection", "http_status", "too_large", "malformed", "invalid", "circuit_open"})
RETRY_STATUSES = frozenset({500, 502, 503, 504})
# Besides 5xx these say the agency is struggling, so they count against its breaker.
OVERLOAD_STATUSES = frozenset({408, 429})
JSON_MEDIA_TYPE = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")
_SAFE_TOKEN = re.compile(r"[^A-Za-z0-9.+/_-]")
# Long digit runs in a path are identifiers (NIK, KK, NPWP, phone numbers): never logged.
_IDENTIFIER = re.compile(r"[0-9]{6,}")


class AgencyError(Exception):
    """Base of the agency errors; `reason` is stable, the message never carries agency response text."""

    reason = "error"

    def __init__(
        self, agency_code: str, reason: str | None = None, *, status: int | None = None, detail: str | None = None
    ):
        self.agency_code = agency_code
        self.reason = reason or self.reason
        self.status = status
        self.detail = detail
        text = f"agency {agency_code}: {self.reason}"
        super().__init__(f"{text} ({detail})" if detail else text)

    def __reduce__(self):
        # rq pickles exceptions; the default would rebuild from the message alone.
        return (_rebuild_error, (self.__class__, self.agency_code, self.reason, self.status, self.detail))


def _rebuild_error(cls, agency_code, reason, status, detail):
    return cls(agency_code, reason, status=status, detail=detail)


class AgencyUnavailable(AgencyError):
    """The agency gave no usable answer; `reason` is one of REASONS."""

    reason = "connection"


class AgencyNotFound(AgencyError):
    """The agency answered 404: it has no such record. Not a sign of trouble, so not a breaker failure."""

    reason = "not_found"


class AgencySchema(Schema):
    """Base for agency response schemas: `load(unknown=EXCLUDE)` does not reach nested schemas, Meta does."""

    class Meta:
        unknown = EXCLUDE


class _AttemptFailed(Exception):
    def __init__(
        self,
        reason: str,
        detail: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        breaker_failure: bool = True,
    ):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail
        self.status = status
        self.retryable = retryable
        self.breaker_failure = breaker_failure

    def to_error(self, agency_code: str) -> AgencyError:
        cls = AgencyNotFound if self.reason == "not_found" else AgencyUnavailable
        return cls(agency_code, self.reason, status=self.status, detail=self.detail)


# --- Hard deadline --------------------------------------------------------------------------------------
# httpx timeouts bound each socket operation, not the call: a server that trickles headers or body bytes
# just inside the read timeout would hold a worker for ever. The transport below bounds every socket
# read, write and connect by the deadline of the call in progress (a context variable, so a pooled
# connection serves each call with that call's deadline).

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("agency_deadline", default=None)


def _bounded(timeout: float | None, exc_class: type[Exception]) -> float | None:
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise exc_class("agency call deadline exceeded")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream):
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """Name resolution is not covered: getaddrinfo has no timeout; the system resolver's own applies."""

    def __init__(self):
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable | None = None,
    ):
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_tcp(host, port, bounded, local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Iterable | None = None):
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport with every socket operation bounded by the current agency call's deadline."""

    def __init__(self, *, verify: bool | str = True, limits: httpx.Limits | None = None):
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=30)
        super().__init__(verify=verify, limits=limits, trust_env=False)
        if not isinstance(getattr(self, "_pool", None), httpcore.ConnectionPool):
            raise RuntimeError("httpx.HTTPTransport internals changed: review DeadlineTransport")
        # httpx has no option for the network backend: rebuild its pool with the same settings and ours.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_DeadlineBackend(),
        )


def make_http_client(
    *,
    max_connections: int = 100,
    max_keepalive_connections: int = 20,
    keepalive_expiry: float = 30.0,
    verify: bool | str = True,
) -> httpx.Client:
    """A pooled client for AgencyClient. Share one per process; a plain httpx.Client also works, but then
    a trickling server can overrun the deadline by up to one read_timeout."""
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_keepalive_connections,
        keepalive_expiry=keepalive_expiry,
    )
    return httpx.Client(
        transport=DeadlineTransport(verify=verify, limits=limits), trust_env=False, follow_redirects=False
    )


_default_http: tuple[int, httpx.Client] | None = None
_default_http_lock = threading.Lock()
_default_breaker_store: MemoryBreakerStore | None = None  # made on first use: see MemoryBreakerStore
_default_call_stats = MemoryCallStats()


def _default_store() -> MemoryBreakerStore:
    """The in-process breaker store of clients built without a breaker (the app always passes one)."""
    global _default_breaker_store
    with _default_http_lock:
        if _default_breaker_store is None:
            _default_breaker_store = MemoryBreakerStore()
        return _default_breaker_store


def default_http_client() -> httpx.Client:
    """The process's shared client, created on first use so a forked worker never inherits its sockets."""
    global _default_http
    with _default_http_lock:
        if _default_http is None or _default_http[0] != os.getpid():
            _default_http = (os.getpid(), make_http_client())
        return _default_http[1]


# --- Logging hygiene ------------------------------------------------------------------------------------


def redact_path(path: str) -> str:
    return _IDENTIFIER.sub("{id}", path.split("?", 1)[0])


class _RedactHttpxUrls(logging.Filter):
    """httpx logs every request URL at INFO, query string (the NIK) included: keep host and redacted path."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(arg, httpx.URL) for arg in record.args):
            record.args = tuple(
                f"{arg.scheme}://{arg.netloc.decode('ascii', 'replace')}{redact_path(arg.path)}"
                if isinstance(arg, httpx.URL)
                else arg
                for arg in record.args
            )
        return True


_httpx_logger = logging.getLogger("httpx")
if not any(isinstance(f, _RedactHttpxUrls) for f in _httpx_logger.filters):
    _httpx_logger.addFilter(_RedactHttpxUrls())


def _safe_token(value: str, limit: int = 40) -> str:
    """A header value from the agency, reduced to something harmless to put in a message or log."""
    return _SAFE_TOKEN.sub("", value)[:limit] or "none"


_MISSING = "Missing data for required field."


def wrong_shape(messages, top: bool = True) -> bool:
    """Whether marshmallow's errors say the answer is not shaped like ours, rather than one value being odd.

    Shape: the body or a record is not an object (_schema), a top-level field is missing or mistyped, a
    record lacks a required field. Not shape: a value inside a record fails its validation.
    """
    if not isinstance(messages, dict):
        return True
    for key, value in messages.items():
        if key == "_schema":
            return True
        if isinstance(value, dict):
            if wrong_shape(value, top=False):
                return True
        elif top or (isinstance(value, list) and _MISSING in value):
            return True
    return False


def _reject_constant(name: str):
    raise ValueError(f"non-standard JSON constant {name}")


# --- Client ---------------------------------------------------------------------------------------------


class AgencyClient:
    """One agency's REST API. Thread-safe; share one per agency.

    Which failures count against the breaker: timeouts, connection errors, 5xx, 408, 429, malformed and
    oversized answers, and a 200 not shaped like the answer (a missing or mistyped essential field, a record
    that is not an object or lacks a required field: the agency is broken for everyone). Not: 404 (no
    record), other 4xx (our request), an odd value inside an otherwise well-shaped record (one citizen's
    retries must not cut the agency off for everyone); that call still fails. Retries happen inside one
    logical call, which the breaker sees once.
    """

    def __init__(
        self,
        agency_code: str,
        base_url: str,
        *,
        auth_token: str | None = None,
        api_key: str | None = None,
        api_key_header: str = "X-API-Key",
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
        total_timeout: float = 8.0,
        max_response_bytes: int = 1_000_000,
        retries: int = 2,
        backoff_base: float = 0.1,
        backoff_cap: float = 2.0,
        retry_statuses: Iterable[int] = RETRY_STATUSES,
        breaker: CircuitBreaker | None = None,
        http: httpx.Client | None = None,
        recorder: CallRecorder | None = None,
    ):
        base = httpx.URL(base_url)
        if base.scheme not in ("http", "https") or not base.host or base.query or base.fragment:
            raise ValueError("base_url must be an http(s) URL without query or fragment")
        if min(connect_timeout, read_timeout, total_timeout) <= 0 or max_response_bytes <= 0 or retries < 0:
            raise ValueError("timeouts and max_response_bytes must be positive, retries not negative")
        self.agency_code = agency_code
        self.base_url = str(base).rstrip("/")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.total_timeout = total_timeout
        self.max_response_bytes = max_response_bytes
        self.retries = retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.retry_statuses = frozenset(retry_statuses)
        self.breaker = breaker or CircuitBreaker(f"agency:{agency_code}", _default_store())
        # Latency and last success of every call, for the command center's integration board (Redis when shared).
        self.recorder = recorder or CallRecorder(_default_call_stats)
        self._http = http
        self._headers = {
            "Accept": "application/json",
            # Compressed bodies would be inflated before they could be counted: a small zip bomb gets in.
            "Accept-Encoding": "identity",
            "User-Agent": "jaki-agency-client/1",
        }
        if auth_token:
            self._headers["Authorization"] = f"Bearer {auth_token}"
        if api_key:
            self._headers[api_key_header] = api_key

    def __repr__(self) -> str:
        return f"<AgencyClient {self.agency_code} {self.base_url}>"

    @property
    def http(self) -> httpx.Client:
        return self._http or default_http_client()

    def get_json(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        schema: Schema | None = None,
        *,
        path_params: Mapping[str, Any] | None = None,
        log_path: str | None = None,
    ) -> dict | list:
        """GET and return the JSON body, loaded by `schema` if given (unknown fields excluded).

        Put identifiers in `path_params` ("/residents/{nik}") or `params`, never in `path` itself: the
        template is what gets logged. Retried on connection errors, timeouts and RETRY_STATUSES.
        """
        return self._call(
            "GET", path, params=params, schema=schema, path_params=path_params, log_path=log_path, retry=True
        )

    def post_json(
        self,
        path: str,
        payload: Any,
        schema: Schema | None = None,
        idempotency_key: str | None = None,
        *,
        path_params: Mapping[str, Any] | None = None,
        log_path: str | None = None,
    ) -> dict | list | None:
        """POST a JSON payload. Retried only with an idempotency key (sent as Idempotency-Key).

        Returns None for an empty answer (204).
        """
        body = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return self._call(
            "POST",
            path,
            schema=schema,
            path_params=path_params,
            log_path=log_path,
            retry=bool(idempotency_key),
            body=body,
            headers=headers,
        )

    def query_json(
        self, path: str, payload: Mapping[str, Any], schema: Schema | None = None, *, log_path: str | None = None
    ) -> dict | list:
        """A read whose identifiers travel in a JSON body (POST), never in the URL: a NIK must not land in the
        agency's access logs, proxies or our own traces (UU PDP). Safe to repeat, so retried like a GET."""
        body = json.dumps(dict(payload), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
        return self._call(
            "POST",
            path,
            schema=schema,
            log_path=log_path,
            retry=True,
            body=body,
            headers={"Content-Type": "application/json"},
            empty_ok=False,
        )

    # -- internals --

    def _url(self, path: str, path_params: Mapping[str, Any] | None) -> str:
        if not path.startswith("/") or path.startswith("//") or any(c in path for c in "?#\\"):
            raise ValueError("path must be an absolute path without query or fragment; use params")
        if path_params:
            values = {}
            for key, value in path_params.items():
                text = str(value)
                if text in ("", ".", ".."):
                    raise ValueError(f"path parameter {key!r} is empty or a dot segment")
                values[key] = quote(text, safe="")
            path = path.format_map(values)
        return self.base_url + path

    def _schema(self, schema):
        if schema is None or isinstance(schema, Schema):
            return schema
        if isinstance(schema, type) and issubclass(schema, Schema):
            return schema()
        raise TypeError("schema must be a marshmallow Schema")

    def _call(
        self,
        method: str,
        path: str,
        *,
        params=None,
        schema=None,
        path_params=None,
        log_path=None,
        retry: bool,
        body: bytes | None = None,
        headers: dict | None = None,
        empty_ok: bool | None = None,
    ):
        url = self._url(path, path_params)
        shown = log_path or (path if path_params else redact_path(path))
        schema = self._schema(schema)
        context = {"agency": self.agency_code, "agency_method": method, "agency_path": shown}
        if not self.breaker.allow():
            log.warning("agency call refused: circuit open", extra={**context, "reason": "circuit_open"})
            raise AgencyUnavailable(self.agency_code, "circuit_open")

        started = time.monotonic()
        deadline = started + self.total_timeout
        max_attempts = 1 + (self.retries if retry else 0)
        attempt = 0
        try:
            while True:
                attempt += 1
                try:
                    data = self._attempt(
                        method,
                        url,
                        params,
                        {**self._headers, **(headers or {})},
                        body,
                        deadline,
                        empty_ok=method != "GET" if empty_ok is None else empty_ok,
                    )
                    break
                except _AttemptFailed as failure:
                    if not (failure.retryable and attempt < max_attempts and self._backoff(attempt, deadline)):
                        raise
                    log.info(
                        "agency call retried",
                        extra={**context, "reason": failure.reason, "status": failure.status, "attempt": attempt},
                    )
            result = self._validate(data, schema)
        except _AttemptFailed as failure:
            if failure.breaker_failure:
                self.breaker.record_failure()
            else:
                self.breaker.record_success()
            self.recorder.record(self.agency_code, not failure.breaker_failure, (time.monotonic() - started) * 1000)
            log_method = log.info if failure.reason in ("not_found", "invalid") else log.warning
            log_method(
                "agency call failed",
                extra={
                    **context,
                    "reason": failure.reason,
                    "status": failure.status,
                    "detail": failure.detail,
                    "attempts": attempt,
                    "elapsed_ms": round((time.monotonic() - started) * 1000),
                },
            )
            # from None: httpx exceptions carry the request, and with it the URL and its identifiers.
            raise failure.to_error(self.agency_code) from None
        self.breaker.record_success()
        self.recorder.record(self.agency_code, True, (time.monotonic() - started) * 1000)
        log.debug(
            "agency call ok",
            extra={**context, "attempts": attempt, "elapsed_ms": round((time.monotonic() - started) * 1000)},
        )
        return result

    def _backoff(self, attempt: int, deadline: float) -> bool:
        """Sleep before another attempt; False when that would pass the deadline or the breaker opened."""
        # Jitter spreads the retries of many workers; it needs no cryptographic randomness.
        delay = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)  # noqa: S311
        if time.monotonic() + delay >= deadline:
            return False
        if self.breaker.state == OPEN:
            return False
        time.sleep(delay)
        return True

    def _attempt(self, method, url, params, headers, body, deadline, *, empty_ok: bool):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _AttemptFailed("timeout", "deadline exceeded")
        timeout = httpx.Timeout(
            connect=min(self.connect_timeout, remaining),
            read=min(self.read_timeout, remaining),
            write=min(self.read_timeout, remaining),
            pool=remaining,
        )
        request = self.http.build_request(method, url, params=params, headers=headers, content=body, timeout=timeout)
        token = _DEADLINE.set(deadline)
        try:
            response = self.http.send(request, stream=True, follow_redirects=False)
            try:
                return self._read(response, deadline, empty_ok=empty_ok)
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            raise _AttemptFailed("timeout", type(exc).__name__, retryable=True) from None
        except httpx.HTTPError as exc:
            if time.monotonic() >= deadline:
                raise _AttemptFailed("timeout", type(exc).__name__) from None
            raise _AttemptFailed("connection", type(exc).__name__, retryable=True) from None
        finally:
            _DEADLINE.reset(token)

    def _read(self, response: httpx.Response, deadline: float, *, empty_ok: bool):
        status = response.status_code
        if status == 404:
            raise _AttemptFailed("not_found", "HTTP 404", status=404, breaker_failure=False)
        if not 200 <= status < 300:
            raise _AttemptFailed(
                "http_status",
                f"HTTP {status}",
                status=status,
                retryable=status in self.retry_statuses,
                breaker_failure=status >= 500 or status in OVERLOAD_STATUSES,
            )
        if status == 204:
            if empty_ok:
                return None
            raise _AttemptFailed("malformed", "HTTP 204, no body", status=status)
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise _AttemptFailed("malformed", f"content-encoding {_safe_token(encoding)}", status=status)
        media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if not JSON_MEDIA_TYPE.match(media_type):
            raise _AttemptFailed("malformed", f"content-type {_safe_token(media_type)}", status=status)
        declared = response.headers.get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                raise _AttemptFailed("malformed", "invalid content-length", status=status)
            if int(declared) > self.max_response_bytes:
                raise _AttemptFailed(
                    "too_large", f"content-length {int(declared)} > {self.max_response_bytes}", status=status
                )
        received = bytearray()
        # iter_raw: counted as they arrive, before anything decodes them.
        for chunk in response.iter_raw():
            received += chunk
            if len(received) > self.max_response_bytes:
                raise _AttemptFailed("too_large", f"body over {self.max_response_bytes} bytes", status=status)
            if time.monotonic() >= deadline:
                raise _AttemptFailed("timeout", "deadline exceeded reading body", status=status)
        if not received:
            if empty_ok:
                return None
            raise _AttemptFailed("malformed", "empty body", status=status)
        try:
            return json.loads(received, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            raise _AttemptFailed("malformed", "invalid JSON", status=status) from None

    @staticmethod
    def _validate(data, schema: Schema | None):
        if data is None:
            return None
        if schema is None:
            if not isinstance(data, dict | list):
                raise _AttemptFailed("invalid", "JSON body is not an object or array")
            return data
        try:
            return schema.load(data, unknown=EXCLUDE)
        except ValidationError as exc:
            # Field names come from our schema; the agency's values stay out of messages and logs.
            fields = exc.messages if isinstance(exc.messages, dict) else {}
            shape = wrong_shape(exc.messages)
            raise _AttemptFailed(
                "invalid",
                f"{len(fields) or 1} invalid field(s){', wrong shape' if shape else ''}",
                breaker_failure=shape,
            ) from None
