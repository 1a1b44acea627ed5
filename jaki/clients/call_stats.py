"""Latency and outcome of every agency call, kept where every process reads them (Redis) or in memory (embedded)."""

from __future__ import annotations

import logging
import math
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable

import redis

log = logging.getLogger(__name__)

# Latencies of the last successful calls kept per agency: enough for a stable median and p95 on the board.
RECENT = 100
# A store that failed is left alone this long (as the breaker does): an outage must not slow every agency call.
STORE_RETRY_AFTER_S = 5.0
_TTL_S = 7 * 24 * 3600


def summarise(last: dict, latencies: list[float]) -> dict:
    """The board's view of one agency's calls: counts, last times and latency of the recent successful ones."""

    def number(key):
        value = last.get(key)
        return float(value) if value not in (None, "") else None

    ordered = sorted(latencies)
    return {
        "calls": int(last.get("calls") or 0),
        "failures": int(last.get("failures") or 0),
        "last_call_at": number("last_call_at"),
        "last_success_at": number("last_success_at"),
        "last_failure_at": number("last_failure_at"),
        "last_latency_ms": number("last_latency_ms"),
        "latency_p50_ms": round(statistics.median(ordered), 1) if ordered else None,
        "latency_p95_ms": round(ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)], 1)
        if ordered
        else None,
        "latency_samples": len(ordered),
    }


class MemoryCallStats:
    """One process's record (the embedded default runs one process)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._last: dict[str, dict] = {}
        self._latencies: dict[str, deque] = {}

    def record(self, name: str, ok: bool, latency_ms: float, now: float) -> None:
        with self._lock:
            last = self._last.setdefault(name, {"calls": 0, "failures": 0})
            last["calls"] += 1
            last["last_call_at"] = now
            last["last_latency_ms"] = round(latency_ms, 1)
            if ok:
                last["last_success_at"] = now
                self._latencies.setdefault(name, deque(maxlen=RECENT)).append(latency_ms)
            else:
                last["failures"] += 1
                last["last_failure_at"] = now

    def read(self, names: list[str]) -> dict[str, dict]:
        with self._lock:
            return {n: summarise(dict(self._last.get(n, {})), list(self._latencies.get(n, ()))) for n in names}

    def reset(self, name: str) -> None:
        with self._lock:
            self._last.pop(name, None)
            self._latencies.pop(name, None)


class RedisCallStats:
    """Shared by every process and machine: one pipelined round trip per call, no script, nothing to wait for
    but Redis's answer. Keys {prefix}:{name}:last (hash) and :latency (list of the last RECENT), with a TTL."""

    def __init__(self, client: redis.Redis, prefix: str = "jaki:agency-calls"):
        self._redis = client
        self._prefix = prefix

    def keys(self, name: str) -> tuple[str, str]:
        base = f"{self._prefix}:{{{name}}}"
        return f"{base}:last", f"{base}:latency"

    def record(self, name: str, ok: bool, latency_ms: float, now: float) -> None:
        last, latency = self.keys(name)
        pipe = self._redis.pipeline(transaction=False)
        fields = {"last_call_at": repr(now), "last_latency_ms": f"{latency_ms:.1f}"}
        fields["last_success_at" if ok else "last_failure_at"] = repr(now)
        pipe.hset(last, mapping=fields)
        pipe.hincrby(last, "calls", 1)
        if ok:
            pipe.lpush(latency, f"{latency_ms:.1f}")
            pipe.ltrim(latency, 0, RECENT - 1)
            pipe.expire(latency, _TTL_S)
        else:
            pipe.hincrby(last, "failures", 1)
        pipe.expire(last, _TTL_S)
        pipe.execute()

    def read(self, names: list[str]) -> dict[str, dict]:
        pipe = self._redis.pipeline(transaction=False)
        for name in names:
            last, latency = self.keys(name)
            pipe.hgetall(last)
            pipe.lrange(latency, 0, RECENT - 1)
        answers = pipe.execute()
        out = {}
        for i, name in enumerate(names):
            raw, samples = answers[2 * i], answers[2 * i + 1]
            last = {k.decode(): v.decode() for k, v in raw.items()}
            out[name] = summarise(last, [float(v) for v in samples])
        return out

    def reset(self, name: str) -> None:
        self._redis.delete(*self.keys(name))


class CallRecorder:
    """What the agency client calls after every call. Never raises: a broken store costs the record, not the call."""

    def __init__(self, store: MemoryCallStats | RedisCallStats, *, clock: Callable[[], float] = time.time):
        self.store = store
        self._clock = clock
        self._down_until = -math.inf

    def record(self, name: str, ok: bool, latency_ms: float) -> None:
        now = self._clock()
        if now < self._down_until:
            return
        try:
            self.store.record(name, ok, latency_ms, now)
        except redis.RedisError as exc:
            self._down_until = now + STORE_RETRY_AFTER_S
            log.warning("agency call stats store unavailable", extra={"agency": name, "error": type(exc).__name__})

    def read(self, names: list[str]) -> dict[str, dict] | None:
        """Each agency's summary; None when the store cannot be read (the board then says "unknown")."""
        try:
            return self.store.read(names)
        except redis.RedisError as exc:
            log.warning("agency call stats store unavailable", extra={"error": type(exc).__name__})
            return None
