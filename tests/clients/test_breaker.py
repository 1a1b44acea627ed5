"""Circuit breaker behaviour, held to one contract on the in-memory and the Redis store."""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from jaki.clients.breaker import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    STORE_RETRY_AFTER_S,
    UNKNOWN,
    BreakerStoreError,
    CircuitBreaker,
    MemoryBreakerStore,
    RedisBreakerStore,
)

REDIS_URL = os.environ.get("TEST_REDIS_URL")


class FakeClock:
    def __init__(self):
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _redis_client() -> redis.Redis:
    if not REDIS_URL:
        pytest.skip("needs Redis: runs in the PostgreSQL+Redis pass (TEST_REDIS_URL)")
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        # Deliberately not a skip: the shared-state breaker is what production runs.
        pytest.fail(f"Redis at {REDIS_URL} is unreachable ({exc}); the Redis breaker tests need it")
    return client


@pytest.fixture
def redis_prefix():
    client = _redis_client()
    prefix = f"test:breaker:{uuid.uuid4().hex}"
    yield client, prefix
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


# Without TEST_REDIS_URL (the embedded pass) the Redis store is skipped visibly; in the services pass an
# unreachable Redis fails the test instead.
@pytest.fixture(params=["memory_store", "redis_store"])
def make_store(request):
    """A factory: every store it returns shares state, like processes sharing one Redis (or one process)."""
    if request.param == "memory_store":
        store = MemoryBreakerStore()
        yield lambda: store
        return
    _, prefix = request.getfixturevalue("redis_prefix")
    clients = []

    def factory():
        # A separate connection pool per store: what another process would have.
        client = _redis_client()
        clients.append(client)
        return RedisBreakerStore(client, prefix)

    yield factory
    for client in clients:
        client.close()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def breaker(make_store, clock):
    return CircuitBreaker(
        f"agency:{uuid.uuid4().hex[:8]}", make_store(), failure_threshold=3, window_s=10, open_for_s=5, clock=clock
    )


def _open(breaker: CircuitBreaker) -> None:
    for _ in range(breaker.config.failure_threshold):
        breaker.record_failure()
    assert breaker.state == OPEN


def test_starts_closed_and_allows(breaker):
    assert breaker.state == CLOSED
    assert breaker.allow()
    snap = breaker.snapshot()
    assert snap["state"] == CLOSED
    assert snap["failures_in_window"] == 0
    assert snap["calls_in_window"] == 0
    assert snap["error_rate"] == 0.0
    assert snap["opened_at"] is None
    assert snap["last_success_at"] is None
    assert snap["last_failure_at"] is None
    assert snap["store_available"] is True


def test_opens_at_threshold_within_window(breaker, clock):
    breaker.record_failure()
    clock.advance(1)
    breaker.record_failure()
    assert breaker.state == CLOSED
    assert breaker.allow()
    clock.advance(1)
    breaker.record_failure()
    assert breaker.state == OPEN
    assert not breaker.allow()
    snap = breaker.snapshot()
    assert snap["failures_in_window"] == 3
    assert snap["opened_at"] == clock.now
    assert snap["last_failure_at"] == clock.now
    assert snap["half_open_at"] == clock.now + 5


def test_failures_older_than_window_do_not_count(breaker, clock):
    breaker.record_failure()
    breaker.record_failure()
    clock.advance(10.5)
    breaker.record_failure()
    assert breaker.state == CLOSED
    assert breaker.snapshot()["failures_in_window"] == 1


def test_successes_do_not_reset_the_window_but_show_in_error_rate(breaker, clock):
    breaker.record_failure()
    breaker.record_success()
    breaker.record_success()
    breaker.record_failure()
    snap = breaker.snapshot()
    assert snap["failures_in_window"] == 2
    assert snap["successes_in_window"] == 2
    assert snap["error_rate"] == 0.5
    assert snap["last_success_at"] == clock.now
    breaker.record_failure()
    assert breaker.state == OPEN


def test_half_open_after_open_for_lets_one_probe_through(breaker, clock):
    _open(breaker)
    clock.advance(4.9)
    assert not breaker.allow()
    clock.advance(0.2)
    assert breaker.state == HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow()
    assert not breaker.allow()
    assert breaker.snapshot()["half_open_calls"] == 1


def test_probe_success_closes_and_clears_the_window(breaker, clock):
    _open(breaker)
    clock.advance(5)
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == CLOSED
    assert breaker.snapshot()["failures_in_window"] == 0
    assert breaker.allow()
    # Failures from before the outage no longer count: it takes a full threshold to open again.
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == CLOSED


def test_probe_failure_opens_again_for_a_new_period(breaker, clock):
    _open(breaker)
    clock.advance(5)
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == OPEN
    assert breaker.snapshot()["opened_at"] == clock.now
    clock.advance(4)
    assert not breaker.allow()
    clock.advance(1)
    assert breaker.allow()


def test_probe_that_never_reports_frees_its_slot(breaker, clock):
    _open(breaker)
    clock.advance(5)
    assert breaker.allow()  # this probe's process dies: no success, no failure
    clock.advance(4)
    assert not breaker.allow()
    clock.advance(1.5)
    assert breaker.allow()
    assert not breaker.allow()


def test_several_half_open_probes_all_must_succeed(make_store, clock):
    breaker = CircuitBreaker(
        "agency:multi", make_store(), failure_threshold=1, window_s=10, open_for_s=5, half_open_max_calls=2, clock=clock
    )
    breaker.record_failure()
    clock.advance(5)
    assert breaker.allow()
    assert breaker.allow()
    assert not breaker.allow()
    breaker.record_success()
    assert breaker.state == HALF_OPEN
    breaker.record_success()
    assert breaker.state == CLOSED


def test_min_error_rate_keeps_a_busy_agency_closed(make_store, clock):
    breaker = CircuitBreaker(
        "agency:busy", make_store(), failure_threshold=3, window_s=10, open_for_s=5, min_error_rate=0.5, clock=clock
    )
    for _ in range(10):
        breaker.record_success()
    for _ in range(5):
        breaker.record_failure()
    assert breaker.state == CLOSED
    for _ in range(6):
        breaker.record_failure()
    assert breaker.state == OPEN


def test_state_is_shared_between_stores_and_names_are_separate(make_store, clock):
    name = f"agency:{uuid.uuid4().hex[:8]}"
    one = CircuitBreaker(name, make_store(), failure_threshold=2, window_s=10, open_for_s=5, clock=clock)
    two = CircuitBreaker(name, make_store(), failure_threshold=2, window_s=10, open_for_s=5, clock=clock)
    other = CircuitBreaker(name + "-other", make_store(), failure_threshold=2, window_s=10, open_for_s=5, clock=clock)
    one.record_failure()
    two.record_failure()
    assert one.state == two.state == OPEN
    assert not two.allow()
    assert other.state == CLOSED
    clock.advance(5)
    assert one.allow()
    assert not two.allow()  # the only probe went to the other "process"
    one.record_success()
    assert two.state == CLOSED


def test_reset(breaker):
    _open(breaker)
    breaker.reset()
    assert breaker.state == CLOSED
    assert breaker.snapshot()["failures_in_window"] == 0


def test_only_one_concurrent_caller_gets_the_probe(make_store, clock):
    name = f"agency:{uuid.uuid4().hex[:8]}"
    breakers = [
        CircuitBreaker(name, make_store(), failure_threshold=1, window_s=10, open_for_s=5, clock=clock)
        for _ in range(4)
    ]
    breakers[0].record_failure()
    clock.advance(5)
    barrier = threading.Barrier(16)
    results: list[bool] = []
    lock = threading.Lock()

    def contend(breaker):
        barrier.wait()
        allowed = breaker.allow()
        with lock:
            results.append(allowed)

    threads = [threading.Thread(target=contend, args=(breakers[i % 4],)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1


def test_snapshot_does_not_change_state(breaker, clock):
    _open(breaker)
    clock.advance(6)
    assert breaker.snapshot()["state"] == HALF_OPEN
    assert breaker.snapshot()["half_open_calls"] == 0
    assert breaker.allow()


def test_invalid_configuration_is_refused(make_store):
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitBreaker("x", make_store(), failure_threshold=0)
    with pytest.raises(ValueError, match="half_open_max_calls"):
        CircuitBreaker("x", make_store(), half_open_max_calls=0)
    with pytest.raises(ValueError, match="min_error_rate"):
        CircuitBreaker("x", make_store(), min_error_rate=2)


def test_redis_keys_carry_a_ttl_and_one_hash_slot(redis_prefix, clock):
    client, prefix = redis_prefix
    store = RedisBreakerStore(client, prefix)
    breaker = CircuitBreaker("agency:ttl", store, failure_threshold=2, window_s=10, open_for_s=5, clock=clock)
    breaker.record_failure()
    breaker.record_success()
    keys = sorted(key.decode() for key in client.scan_iter(match=f"{prefix}:*"))
    assert keys == sorted(store.keys("agency:ttl"))
    assert all("{agency:ttl}" in key for key in keys)
    for key in keys:
        assert 0 < client.pttl(key) <= 86_400_000
    assert 0 < client.pttl(store.keys("agency:ttl")[1]) <= 12_000  # buckets live about one window


def test_redis_store_accepts_decoded_responses(redis_prefix, clock):
    _, prefix = redis_prefix
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True, socket_timeout=2)
    try:
        breaker = CircuitBreaker("agency:decoded", RedisBreakerStore(client, prefix), failure_threshold=1, clock=clock)
        breaker.record_failure()
        assert breaker.snapshot()["opened_at"] == clock.now
    finally:
        client.close()


class _DownStore:
    def __init__(self):
        self.calls = 0

    def execute(self, *args):
        self.calls += 1
        raise BreakerStoreError("ConnectionError")


def test_unreachable_store_fails_open_and_is_left_alone_for_a_while(caplog, clock):
    store = _DownStore()
    breaker = CircuitBreaker("agency:down", store, failure_threshold=1, clock=clock)
    with caplog.at_level("WARNING", logger="jaki.clients.breaker"):
        assert breaker.allow()
        breaker.record_failure()
        assert breaker.allow()
        assert breaker.state == UNKNOWN
        assert breaker.snapshot()["store_available"] is False
        assert store.calls == 1
        clock.advance(STORE_RETRY_AFTER_S)
        assert breaker.allow()
        assert store.calls == 2
    assert len([r for r in caplog.records if "failing open" in r.getMessage()]) == 2


def test_redis_errors_become_store_errors(clock):
    # Nothing listens on port 1; no retries, so the refusal is immediate.
    client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    try:
        store = RedisBreakerStore(client, "test:breaker:down")
        with pytest.raises(BreakerStoreError):
            store.execute("x", "allow", clock(), CircuitBreaker("x", store).config)
        breaker = CircuitBreaker("agency:down", store, clock=clock)
        assert breaker.allow()
        assert breaker.snapshot()["state"] == UNKNOWN
    finally:
        client.close()
