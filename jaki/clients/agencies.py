"""The running app's agency clients: one per agency and process, built from the AGENCY_<CODE>_* settings.

Every domain that calls an agency (the public services, the population registry in identity, the agencies'
health page, the metrics) gets its client, breaker and call recorder here; nothing here knows a domain.
"""

from __future__ import annotations

import os
import threading

import redis
from flask import current_app
from redis.backoff import NoBackoff
from redis.retry import Retry

from jaki.clients.agency_client import AgencyClient, make_http_client
from jaki.clients.breaker import CircuitBreaker, MemoryBreakerStore, RedisBreakerStore
from jaki.clients.call_stats import CallRecorder, MemoryCallStats, RedisCallStats
from jaki.settings import setting

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
