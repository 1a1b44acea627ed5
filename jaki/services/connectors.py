"""One connector interface per domain: a local one over jaki's tables and an HTTP one over the agency's REST API."""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from flask import current_app

from jaki.services.agency_client import AgencyClient, AgencyNotFound, AgencySchema, make_http_client
from jaki.services.breaker import CircuitBreaker, MemoryBreakerStore, RedisBreakerStore
from jaki.services.call_stats import CallRecorder, MemoryCallStats, RedisCallStats

log = logging.getLogger(__name__)

# Defaults for the settings below; config/__init__.py may define any of them (a None value means "default").
DEFAULTS: dict[str, Any] = {
    "AGENCY_CONNECT_TIMEOUT": 1.0,  # seconds to open a connection
    "AGENCY_READ_TIMEOUT": 2.0,  # seconds between bytes
    "AGENCY_TOTAL_TIMEOUT": 2.5,  # seconds for a whole call, retries included
    "AGENCY_MAX_RESPONSE_BYTES": 512 * 1024,
    "AGENCY_RETRIES": 1,  # extra attempts for reads (GET) only
    "AGENCY_BACKOFF_BASE": 0.1,
    "AGENCY_BREAKER_FAILURES": 5,
    "AGENCY_BREAKER_WINDOW_SECONDS": 30.0,
    "AGENCY_BREAKER_OPEN_SECONDS": 15.0,
    "SERVICES_POOL_SIZE": 32,  # threads per process for concurrent agency calls
    "SERVICES_OVERVIEW_DEADLINE_SECONDS": 3.0,  # the overview answers by then whatever the agencies do
    "SERVICES_CACHE_FRESH_SECONDS": 300,  # an answer younger than this is served without calling the agency
    "SERVICES_CACHE_STALE_SECONDS": 3 * 24 * 3600,  # an older one is shown, marked stale, when the agency is down
    "SERVICES_REFRESH_RATE": "30 per minute",  # ?refresh=true (every agency called again) per account
    "SERVICES_ELIGIBILITY_RATE": "10 per hour",  # cek bansos per account
    "SERVICES_ELIGIBILITY_RATE_PER_CLIENT": "30 per hour",  # cek bansos per IP address
    "SERVICES_DOCUMENT_MAX_BYTES": 10 * 1024 * 1024,
}


def setting(name: str):
    value = current_app.config.get(name)
    return DEFAULTS.get(name) if value is None else value


# Dukcapil already has its own settings in config (DUKCAPIL_URL, DUKCAPIL_TOKEN).
_LEGACY = {"DUKCAPIL": "DUKCAPIL"}


def _agency_setting(code: str, suffix: str) -> str | None:
    value = current_app.config.get(f"AGENCY_{code.replace('-', '_')}_{suffix}")
    if not value and code in _LEGACY:
        value = current_app.config.get(f"{_LEGACY[code]}_{suffix}")
    return value or None


def agency_url(code: str) -> str | None:
    """AGENCY_<CODE>_URL: the agency's REST API; unset means the local connector (the embedded default)."""
    return _agency_setting(code, "URL")


def agency_token(code: str) -> str | None:
    """AGENCY_<CODE>_TOKEN: sent as a bearer token; never logged, never shown (not even to admins)."""
    return _agency_setting(code, "TOKEN")


@dataclass(frozen=True)
class Subject:
    """A person whose records a connector fetches. The NIK never leaves the process except to the agency."""

    member_id: str
    nik: str = field(repr=False)
    nik_index: str = field(repr=False)


class Connector:
    domain: ClassVar[str]
    agency_code: ClassVar[str]
    kind: ClassVar[str]


class LocalConnector(Connector):
    """Answers from jaki's own tables; runs in the request thread with its session (it is fast)."""

    kind = "local"

    def fetch(self, subjects: list[Subject]) -> dict[str, dict]:
        """member_id -> that person's records in this domain (JSON-able)."""
        raise NotImplementedError


class HttpConnector(Connector):
    """Answers from the agency's API. fetch_one runs in a pool thread: no app context, no database session."""

    kind = "http"
    path: ClassVar[str]  # POSTed {"nik": ...}: the NIK travels in the body, never in a URL (UU PDP)
    schema: ClassVar[type[AgencySchema]]

    def __init__(self, client: AgencyClient):
        self.client = client

    def fetch_one(self, subject: Subject) -> dict:
        try:
            loaded = self.client.query_json(self.path, {"nik": subject.nik}, schema=self.schema)
        except AgencyNotFound:
            return self.empty()
        return self.present(loaded)

    def empty(self) -> dict:
        raise NotImplementedError

    def present(self, loaded: dict) -> dict:
        """The validated answer in jaki's own shape: nothing the agency sent is passed through unchecked."""
        raise NotImplementedError


@dataclass(frozen=True)
class DomainSpec:
    name: str
    agency_code: str  # who answers (and whose officers may read it)
    local: type[LocalConnector]
    http: type[HttpConnector] | None
    dependents: bool  # whether the head of family sees the children's records too
    officer_agencies: tuple[str, ...] = ()


SPECS: dict[str, DomainSpec] = {}
ORDER = ("health", "education", "social_aid", "tax", "permits", "letters")


def register_domain(spec: DomainSpec) -> None:
    SPECS[spec.name] = spec


def domains() -> list[str]:
    return [name for name in ORDER if name in SPECS]


# --- agency clients, breakers and the thread pool ------------------------------------------------------


def _state(app) -> dict:
    state = app.extensions.get("jaki.services")
    if state is None or state["pid"] != os.getpid():
        # New, or inherited through a fork: sockets and locks of the parent are not this process's to use.
        state = {"pid": os.getpid(), "clients": {}, "lock": threading.Lock()}
        app.extensions["jaki.services"] = state
    return state


def _fast_redis(app, state: dict):
    """The Redis client of the stores in front of every agency call (breaker, call stats), or None (embedded):
    short timeouts and no retries, see RedisBreakerStore's docstring. Call with state["lock"] held."""
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    client = state.get("fast_redis")
    if client is None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5, retry=Retry(NoBackoff(), 0))
        state["fast_redis"] = client
    return client


def breaker_store():
    """Redis when configured (shared by every process), else one in-memory store per app."""
    app = current_app._get_current_object()
    state = _state(app)
    with state["lock"]:
        store = state.get("breaker_store")
        if store is None:
            client = _fast_redis(app, state)
            store = RedisBreakerStore(client, prefix="jaki:breaker") if client is not None else MemoryBreakerStore()
            state["breaker_store"] = store
        return store


def call_recorder() -> CallRecorder:
    """Where every agency call's latency and outcome go: Redis when configured (read by every process's board),
    else one in-memory record per app."""
    app = current_app._get_current_object()
    state = _state(app)
    with state["lock"]:
        recorder = state.get("call_recorder")
        if recorder is None:
            client = _fast_redis(app, state)
            recorder = CallRecorder(RedisCallStats(client) if client is not None else MemoryCallStats())
            state["call_recorder"] = recorder
        return recorder


def breaker_for(code: str) -> CircuitBreaker:
    return CircuitBreaker(
        f"agency:{code}",
        breaker_store(),
        failure_threshold=int(setting("AGENCY_BREAKER_FAILURES")),
        window_s=float(setting("AGENCY_BREAKER_WINDOW_SECONDS")),
        open_for_s=float(setting("AGENCY_BREAKER_OPEN_SECONDS")),
    )


def _http_client(state: dict):
    """One pooled HTTP client per app and process (never inherited across a fork); closed by reset()."""
    held = state.get("http")
    if held is None or held[0] != os.getpid():
        held = (os.getpid(), make_http_client(max_connections=int(setting("SERVICES_POOL_SIZE")) * 2))
        state["http"] = held
    return held[1]


def agency_client(code: str) -> AgencyClient | None:
    """The agency's client (one per app and agency), or None when no URL is configured for it."""
    url = agency_url(code)
    if url is None:
        return None
    app = current_app._get_current_object()
    state = _state(app)
    key = (code, url)
    with state["lock"]:
        client = state["clients"].get(key)
    if client is not None:
        return client
    with state["lock"]:
        http = _http_client(state)
    client = AgencyClient(
        code,
        url,
        auth_token=agency_token(code),
        connect_timeout=float(setting("AGENCY_CONNECT_TIMEOUT")),
        read_timeout=float(setting("AGENCY_READ_TIMEOUT")),
        total_timeout=float(setting("AGENCY_TOTAL_TIMEOUT")),
        max_response_bytes=int(setting("AGENCY_MAX_RESPONSE_BYTES")),
        retries=int(setting("AGENCY_RETRIES")),
        backoff_base=float(setting("AGENCY_BACKOFF_BASE")),
        breaker=breaker_for(code),
        http=http,
        recorder=call_recorder(),
    )
    with state["lock"]:
        return state["clients"].setdefault(key, client)


def reset(app) -> None:
    """Forget clients and breaker state (tests, or after the agency settings changed)."""
    state = _state(app)
    with state["lock"]:
        state["clients"].clear()
        state.pop("breaker_store", None)
        state.pop("call_recorder", None)
        state.pop("fast_redis", None)
        held = state.pop("http", None)
    if held is not None and held[0] == os.getpid():
        held[1].close()


def connector_for(domain: str) -> Connector:
    spec = SPECS[domain]
    client = agency_client(spec.agency_code) if spec.http is not None else None
    if client is None:
        return spec.local()
    return spec.http(client)


_pool: tuple[int, int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def pool() -> ThreadPoolExecutor:
    """A bounded pool per process, made on first use so a forked gunicorn worker never inherits threads."""
    global _pool
    size = int(setting("SERVICES_POOL_SIZE"))
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid() or _pool[1] != size:
            if _pool is not None and _pool[0] == os.getpid():
                _pool[2].shutdown(wait=False)  # resized: running calls finish by their own deadlines
            _pool = (os.getpid(), size, ThreadPoolExecutor(max_workers=size, thread_name_prefix="agency"))
        return _pool[2]


# --- shared presentation helpers -------------------------------------------------------------------------


def iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.isoformat()


def mask_number(value: str | None, keep: int = 4) -> str | None:
    """Card and account numbers are shown with their last digits only."""
    if not value:
        return None
    text = "".join(ch for ch in str(value) if ch.isalnum())
    return "*" * max(len(text) - keep, 0) + text[-keep:]
