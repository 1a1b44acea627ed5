"""Circuit breaker with state in Redis (shared by every process) or in this process (embedded default).

One state machine: the Lua script below. The embedded default runs that same script in an in-process Redis.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

log = logging.getLogger(__name__)

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"
UNKNOWN = "unknown"

# The window is counted in this many buckets: memory and Redis cost stay fixed however busy the agency is.
WINDOW_BUCKETS = 30

# A breaker whose store failed lets calls through without asking it again for this long: an outage of
# the store must not add its connect timeout and retries to every agency call.
STORE_RETRY_AFTER_S = 5.0


class BreakerStoreError(Exception):
    """The breaker's shared state could not be read or written."""


@dataclass(frozen=True)
class BreakerConfig:
    failure_threshold: int = 5
    window_s: float = 30.0
    open_for_s: float = 15.0
    half_open_max_calls: int = 1
    min_error_rate: float = 0.0

    def __post_init__(self):
        if self.failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if self.window_s <= 0 or self.open_for_s < 0:
            raise ValueError("window_s must be positive and open_for_s not negative")
        if self.half_open_max_calls < 1:
            raise ValueError("half_open_max_calls must be at least 1")
        if not 0.0 <= self.min_error_rate <= 1.0:
            raise ValueError("min_error_rate must be between 0 and 1")

    @property
    def bucket_width(self) -> float:
        return self.window_s / WINDOW_BUCKETS


@dataclass
class BreakerResult:
    """What a store answers: whether a call may go ahead and the state after the operation."""

    allowed: bool
    state: str
    failures_in_window: int | None = None
    successes_in_window: int | None = None
    opened_at: float | None = None
    half_open_since: float | None = None
    last_success_at: float | None = None
    last_failure_at: float | None = None
    half_open_calls: int = 0


OPS = ("allow", "success", "failure", "snapshot")


# KEYS: state hash, failure buckets hash, success buckets hash.
# ARGV: op, now, failure_threshold, open_for_s, half_open_max_calls, min_error_rate, bucket_width,
#       buckets, state_ttl_ms, bucket_ttl_ms.
# Times are stored as the caller's strings so they come back exactly (Lua would round them to 14 digits).
_LUA = """
local op = ARGV[1]
local now_s = ARGV[2]
local now = tonumber(now_s)
local threshold = tonumber(ARGV[3])
local open_for = tonumber(ARGV[4])
local half_open_max = tonumber(ARGV[5])
local min_rate = tonumber(ARGV[6])
local width = tonumber(ARGV[7])
local buckets = tonumber(ARGV[8])
local state_ttl = tonumber(ARGV[9])
local bucket_ttl = tonumber(ARGV[10])

local bucket = math.floor(now / width)
local oldest = bucket - buckets + 1

local function count(key, prune)
  local entries = redis.call('HGETALL', key)
  local total = 0
  local stale = {}
  for i = 1, #entries, 2 do
    if tonumber(entries[i]) < oldest then
      stale[#stale + 1] = entries[i]
    else
      total = total + tonumber(entries[i + 1])
    end
  end
  if prune and #stale > 0 then
    redis.call('HDEL', key, unpack(stale))
  end
  return total
end

local f = redis.call('HMGET', KEYS[1], 'state', 'opened_at', 'half_open_since', 'probes', 'probe_ok',
                     'last_success_at', 'last_failure_at')
local state = f[1] or 'closed'
local opened_at = f[2]
local half_open_since = f[3]
local probes = tonumber(f[4] or '0')
local probe_ok = tonumber(f[5] or '0')
local last_success_at = f[6]
local last_failure_at = f[7]
local dirty = false

if state == 'open' and now >= tonumber(opened_at) + open_for then
  state, half_open_since, probes, probe_ok, dirty = 'half_open', now_s, 0, 0, true
elseif state == 'half_open' and probes >= half_open_max and now >= tonumber(half_open_since) + open_for then
  half_open_since, probes, probe_ok, dirty = now_s, 0, 0, true
end

local allowed = 0
local failures = -1
local successes = -1
local field = string.format('%d', bucket)
if op == 'allow' then
  if state == 'closed' then
    allowed = 1
  elseif state == 'half_open' and probes < half_open_max then
    probes, allowed, dirty = probes + 1, 1, true
  end
elseif op == 'success' then
  last_success_at, dirty = now_s, true
  redis.call('HINCRBY', KEYS[3], field, 1)
  redis.call('PEXPIRE', KEYS[3], bucket_ttl)
  if state == 'half_open' then
    probe_ok = probe_ok + 1
    if probe_ok >= half_open_max then
      state, opened_at, half_open_since, probes, probe_ok = 'closed', false, false, 0, 0
      redis.call('DEL', KEYS[2], KEYS[3])
    end
  end
  count(KEYS[3], true)
elseif op == 'failure' then
  last_failure_at, dirty = now_s, true
  redis.call('HINCRBY', KEYS[2], field, 1)
  redis.call('PEXPIRE', KEYS[2], bucket_ttl)
  if state == 'half_open' then
    state, opened_at, half_open_since, probes, probe_ok = 'open', now_s, false, 0, 0
  elseif state == 'closed' then
    failures = count(KEYS[2], true)
    successes = count(KEYS[3], true)
    if failures >= threshold and failures / (failures + successes) >= min_rate then
      state, opened_at = 'open', now_s
    end
  end
elseif op == 'snapshot' then
  failures = count(KEYS[2], false)
  successes = count(KEYS[3], false)
  dirty = false
else
  return redis.error_reply('unknown breaker operation')
end

if dirty then
  redis.call('DEL', KEYS[1])
  local fields = {'state', state, 'probes', probes, 'probe_ok', probe_ok}
  if opened_at then fields[#fields + 1] = 'opened_at'; fields[#fields + 1] = opened_at end
  if half_open_since then fields[#fields + 1] = 'half_open_since'; fields[#fields + 1] = half_open_since end
  if last_success_at then fields[#fields + 1] = 'last_success_at'; fields[#fields + 1] = last_success_at end
  if last_failure_at then fields[#fields + 1] = 'last_failure_at'; fields[#fields + 1] = last_failure_at end
  redis.call('HSET', KEYS[1], unpack(fields))
  redis.call('PEXPIRE', KEYS[1], state_ttl)
end

return {allowed, state, tostring(failures), tostring(successes), opened_at or '', half_open_since or '',
        last_success_at or '', last_failure_at or '', tostring(probes)}
"""


class RedisBreakerStore:
    """State shared by every process and machine: one Lua script per operation, so transitions are atomic.

    Keys (all with a TTL): {prefix}:{name}:state, :failures and :successes; the name is a hash tag so a
    Redis Cluster keeps the three in one slot. A breaker check sits in front of every agency call, so give
    this store its own client with short socket timeouts and few retries: redis-py's default (10 retries
    with backoff) spends about 4 s per command on an unreachable server before the breaker can fail open.
    """

    def __init__(self, redis_client: redis.Redis, prefix: str = "jaki:breaker", *, state_ttl_s: int = 86_400):
        self._redis = redis_client
        self._prefix = prefix
        self._state_ttl_ms = int(state_ttl_s * 1000)
        self._script = redis_client.register_script(_LUA)

    def keys(self, name: str) -> tuple[str, str, str]:
        base = f"{self._prefix}:{{{name}}}"
        return f"{base}:state", f"{base}:failures", f"{base}:successes"

    def reset(self, name: str) -> None:
        try:
            self._redis.delete(*self.keys(name))
        except redis.RedisError as exc:
            raise BreakerStoreError(type(exc).__name__) from exc

    def execute(self, name: str, op: str, now: float, config: BreakerConfig) -> BreakerResult:
        if op not in OPS:
            raise ValueError(f"unknown breaker operation {op!r}")
        # Buckets outlive the window by one bucket so a count never misses one that is still inside it.
        bucket_ttl_ms = math.ceil((config.window_s + config.bucket_width) * 1000) + 1000
        args = [
            op,
            repr(float(now)),
            config.failure_threshold,
            repr(float(config.open_for_s)),
            config.half_open_max_calls,
            repr(float(config.min_error_rate)),
            repr(config.bucket_width),
            WINDOW_BUCKETS,
            self._state_ttl_ms,
            bucket_ttl_ms,
        ]
        try:
            raw = self._script(keys=list(self.keys(name)), args=args)
        except redis.RedisError as exc:
            raise BreakerStoreError(type(exc).__name__) from exc
        values = [v.decode() if isinstance(v, bytes) else v for v in raw]
        allowed, state, failures, successes, opened, half_open, last_ok, last_fail, probes = values

        def number(text):
            return float(text) if text not in ("", None) else None

        def count(text):
            return int(text) if text != "-1" else None

        return BreakerResult(
            allowed=bool(int(allowed)),
            state=state,
            failures_in_window=count(failures),
            successes_in_window=count(successes),
            opened_at=number(opened),
            half_open_since=number(half_open),
            last_success_at=number(last_ok),
            last_failure_at=number(last_fail),
            half_open_calls=int(probes),
        )


class MemoryBreakerStore(RedisBreakerStore):
    """The embedded default (no REDIS_URL): the same Lua script, run by an in-process Redis (fakeredis with its
    Lua engine), so the breaker has one state machine. State lives and dies with the process; stores made
    separately share nothing, one store shared by threads is atomic per operation as Redis is."""

    def __init__(self, prefix: str = "jaki:breaker", *, state_ttl_s: int = 86_400):
        import fakeredis  # heavy (about 0.2 s to import) and only the embedded default needs it

        super().__init__(fakeredis.FakeRedis(server=fakeredis.FakeServer()), prefix, state_ttl_s=state_ttl_s)


class CircuitBreaker:
    """closed -> open after failure_threshold failures within window_s -> half_open after open_for_s.

    In half_open up to half_open_max_calls probes go through; that many successes close the breaker, one
    failure opens it again. Probes that never report free their slots after another open_for_s.
    min_error_rate (default 0: count only) also requires that share of failed calls in the window, so a
    busy agency does not open on a handful of errors among thousands of good answers.

    If the store is unreachable the breaker fails open (calls go ahead), says so in the log and leaves the
    store alone for STORE_RETRY_AFTER_S: losing the breaker must not take every agency down with it.
    """

    def __init__(
        self,
        name: str,
        store: RedisBreakerStore,
        failure_threshold: int = 5,
        window_s: float = 30.0,
        open_for_s: float = 15.0,
        half_open_max_calls: int = 1,
        *,
        min_error_rate: float = 0.0,
        clock: Callable[[], float] = time.time,
    ):
        self.name = name
        self.store = store
        self.config = BreakerConfig(failure_threshold, window_s, open_for_s, half_open_max_calls, min_error_rate)
        self._clock = clock
        self._store_down_until = -math.inf

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self.name!r}>"

    def _execute(self, op: str) -> BreakerResult | None:
        if self._clock() < self._store_down_until:
            return None
        try:
            return self.store.execute(self.name, op, self._clock(), self.config)
        except BreakerStoreError as exc:
            self._store_down_until = self._clock() + STORE_RETRY_AFTER_S
            log.warning(
                "circuit breaker store unavailable, failing open",
                extra={"breaker": self.name, "error": str(exc), "retry_after_s": STORE_RETRY_AFTER_S},
            )
            return None

    def allow(self) -> bool:
        result = self._execute("allow")
        return True if result is None else result.allowed

    def record_success(self) -> None:
        self._execute("success")

    def record_failure(self) -> None:
        result = self._execute("failure")
        if result is not None and result.state == OPEN and result.opened_at == result.last_failure_at:
            log.warning("circuit breaker opened", extra={"breaker": self.name})

    def reset(self) -> None:
        self.store.reset(self.name)

    @property
    def state(self) -> str:
        result = self._execute("snapshot")
        return UNKNOWN if result is None else result.state

    def snapshot(self) -> dict:
        """For the admin health page: state, counts and error rate in the window, times from the clock."""
        config = {
            "failure_threshold": self.config.failure_threshold,
            "window_s": self.config.window_s,
            "open_for_s": self.config.open_for_s,
            "half_open_max_calls": self.config.half_open_max_calls,
            "min_error_rate": self.config.min_error_rate,
        }
        result = self._execute("snapshot")
        if result is None:
            return {"name": self.name, "state": UNKNOWN, "store_available": False, **config}
        failures, successes = result.failures_in_window or 0, result.successes_in_window or 0
        calls = failures + successes
        retry_at = result.opened_at + self.config.open_for_s if result.state == OPEN else None
        return {
            "name": self.name,
            "state": result.state,
            "store_available": True,
            "failures_in_window": failures,
            "successes_in_window": successes,
            "calls_in_window": calls,
            "error_rate": round(failures / calls, 4) if calls else 0.0,
            "opened_at": result.opened_at,
            "half_open_at": retry_at,
            "half_open_since": result.half_open_since,
            "half_open_calls": result.half_open_calls,
            "last_success_at": result.last_success_at,
            "last_failure_at": result.last_failure_at,
            **config,
        }
