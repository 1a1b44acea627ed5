"""Pacing pushes to the FCM project's quota: one token bucket shared by every worker (Redis), or in-process.

FCM counts messages per project per minute (600,000 by default). A bucket of capacity C refilled at r per second
lets at most C + 60 r through in any minute, so r = (quota - C) / 60 keeps every sliding minute within the quota,
and a spike after a quiet spell spends the burst C (one second's worth) instead of earning a quota penalty.
"""

from __future__ import annotations

import logging
import math
import threading
import time

from flask import current_app
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

BUCKET_KEY = "jaki:notify:fcm-quota"

# KEYS[1] the bucket; ARGV rate (tokens/s), capacity, n. Takes n tokens and returns 0, or takes nothing and
# returns the milliseconds until n are there. Redis' own clock, so workers on many machines agree.
TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate, capacity, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= n then tokens = tokens - n else wait = math.ceil((n - tokens) / rate * 1000) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return wait
"""


def bucket_shape(quota_per_minute: int, burst_seconds: float) -> tuple[float, float]:
    """(rate per second, capacity) such that no sliding minute passes more than the quota."""
    capacity = max(1.0, quota_per_minute / 60 * burst_seconds)
    rate = max((quota_per_minute - capacity) / 60, 1 / 60)
    return rate, capacity


class LocalBucket:
    """The embedded default (one process, no Redis): the same arithmetic behind a lock."""

    def __init__(self, rate: float, capacity: float, clock=time.monotonic):
        self.rate, self.capacity, self._clock = rate, capacity, clock
        self._tokens, self._at = capacity, clock()
        self._lock = threading.Lock()

    def take(self, n: int) -> float:
        """Take n tokens (0 returned) or none (the seconds to wait returned)."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + max(0.0, now - self._at) * self.rate)
            self._at = now
            if self._tokens >= n:
                self._tokens -= n
                return 0.0
            return (n - self._tokens) / self.rate


class RedisBucket:
    """Shared by every worker of the deployment: one EVALSHA per take."""

    def __init__(self, redis, rate: float, capacity: float, key: str = BUCKET_KEY):
        self.rate, self.capacity, self.key = rate, capacity, key
        self._script = redis.register_script(TAKE)

    def take(self, n: int) -> float:
        return self._script(keys=[self.key], args=[repr(self.rate), repr(self.capacity), n]) / 1000


class Quota:
    """acquire(n) blocks until n sends fit the quota. Redis down: this process falls back to its own bucket at
    the whole rate (a lost push is worse than a short burst over the pace; FCM answers 429 and we back off)."""

    def __init__(self, shared: RedisBucket | None, local: LocalBucket, sleep=time.sleep):
        self.shared, self.local, self._sleep = shared, local, sleep

    def acquire(self, n: int) -> float:
        """Returns the seconds spent waiting."""
        waited = 0.0
        step = max(1, int(self.local.capacity))
        while n > 0:
            chunk = min(n, step)
            wait = self._take(chunk)
            if wait > 0:
                self._sleep(wait)
                waited += wait
                continue
            n -= chunk
        return waited

    def _take(self, n: int) -> float:
        if self.shared is not None:
            try:
                return self.shared.take(n)
            except RedisError as exc:
                log.warning("FCM quota bucket unreachable; pacing in-process", extra={"error": type(exc).__name__})
        return self.local.take(n)


_lock = threading.Lock()


def app_quota() -> Quota:
    """One Quota per app and process, shaped by FCM_QUOTA_PER_MINUTE and NOTIFY_QUOTA_BURST_SECONDS."""
    app = current_app._get_current_object()
    quota = app.extensions.get("jaki.fcm_quota")
    if quota is None:
        with _lock:
            quota = app.extensions.get("jaki.fcm_quota")
            if quota is None:
                rate, capacity = bucket_shape(
                    app.config["FCM_QUOTA_PER_MINUTE"], app.config["NOTIFY_QUOTA_BURST_SECONDS"]
                )
                redis = app.extensions.get("jaki.redis")
                shared = RedisBucket(redis, rate, capacity) if redis is not None else None
                quota = Quota(shared, LocalBucket(rate, math.floor(capacity)))
                app.extensions["jaki.fcm_quota"] = quota
    return quota
