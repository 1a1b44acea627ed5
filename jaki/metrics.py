"""Prometheus metrics at /metrics: requests and latency per route, and, read at scrape time, rq queue depths,
agency breakers, push outcomes and outbox lag."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import threading
import time
from collections import Counter as Tally

from flask import Blueprint, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from jaki.agencies.registry import SERVED
from jaki.clients import agencies as agency_clients
from jaki.db import utcnow
from jaki.errors import Forbidden
from jaki.events import OutboxEvent
from jaki.extensions import db
from jaki.jobs import Queues

try:  # no "_created" twin for every counter: it doubles the series and no dashboard here reads it
    from prometheus_client import disable_created_metrics

    disable_created_metrics()
except ImportError:  # pragma: no cover - older prometheus-client
    pass

log = logging.getLogger(__name__)
blp = Blueprint("metrics", __name__)

# Per process; under gunicorn PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py) makes them add up across workers.
REQUESTS = Counter("jaki_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram(
    "jaki_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
UNMATCHED = "<unmatched>"  # one label for every unknown path: scanners must not grow the label set

# Push outcomes happen in rq workers, often on other machines than the web processes: they are counted in
# Redis (one hash for the whole city) and read back at scrape time; in-process on the embedded default.
PUSH_KEY = "jaki:metrics:push"
_local_push: Tally = Tally()
_local_lock = threading.Lock()
BREAKER_STATES = {"closed": 0, "half_open": 1, "open": 2}  # unknown (store unreachable): -1
OUTBOX_COUNT_CAP = 100_000  # counting a huge backlog exactly would make every scrape slow; "at least" is enough


def observe_request(method: str, route: str | None, status: int, seconds: float) -> None:
    route = route or UNMATCHED
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def count_push(kind: str, outcomes: Tally) -> None:
    """Record push outcomes ("sent", "unregistered", "retryable", "permanent") for "device" or "topic" sends."""
    if not outcomes:
        return
    redis = current_app.extensions.get("jaki.redis")
    if redis is None:
        with _local_lock:
            for outcome, n in outcomes.items():
                _local_push[(kind, outcome)] += n
        return
    from redis.exceptions import RedisError

    try:
        pipe = redis.pipeline(transaction=False)
        for outcome, n in outcomes.items():
            pipe.hincrby(PUSH_KEY, f"{kind}:{outcome}", n)
        pipe.execute()
    except RedisError as exc:  # a metric is never worth failing a delivery for
        log.warning("push outcome not counted", extra={"error": type(exc).__name__})


class StateCollector:
    """What the city's shared state says now; each part is skipped (and logged) when its store is down."""

    def collect(self):
        for part in (self._queues, self._breakers, self._push, self._outbox):
            try:
                yield from part()
            except Exception as exc:  # noqa: BLE001 - one unreachable store must not hide the other metrics
                log.warning("metrics part skipped", extra={"part": part.__name__, "error": type(exc).__name__})

    def _queues(self):
        from rq import Queue

        redis = current_app.extensions.get("jaki.redis")
        if redis is None or current_app.config.get("JOBS_BACKEND") == "inline":
            return
        family = GaugeMetricFamily("jaki_rq_jobs", "Jobs in each rq queue and registry", labels=["queue", "state"])
        for name in Queues.ALL:
            queue = Queue(name, connection=redis)
            family.add_metric([name, "queued"], queue.count)
            # ZCARD directly: the registries' count() also cleans them up, which a scrape must not do.
            for state, registry in (
                ("started", queue.started_job_registry),
                ("scheduled", queue.scheduled_job_registry),
                ("deferred", queue.deferred_job_registry),
                ("failed", queue.failed_job_registry),
            ):
                family.add_metric([name, state], redis.zcard(registry.key))
        yield family

    def _breakers(self):
        codes = sorted(set(SERVED.values()) | {"DUKCAPIL"})
        family = GaugeMetricFamily(
            "jaki_agency_breaker_state",
            "Circuit breaker of each agency with an HTTP connector: 0 closed, 1 half-open, 2 open, -1 unknown",
            labels=["agency"],
        )
        for code in codes:
            if agency_clients.agency_url(code) is None:
                continue  # a local connector has no breaker
            state = agency_clients.breaker_for(code).snapshot()["state"]
            family.add_metric([code], BREAKER_STATES.get(state, -1))
        yield family

    def _push(self):
        family = CounterMetricFamily("jaki_push", "Push sends by kind and outcome", labels=["kind", "outcome"])
        redis = current_app.extensions.get("jaki.redis")
        if redis is None:
            with _local_lock:
                counts = dict(_local_push)
        else:
            counts = {}
            for field, value in redis.hgetall(PUSH_KEY).items():
                kind, _, outcome = field.decode().partition(":")
                counts[(kind, outcome)] = int(value)
        for (kind, outcome), value in sorted(counts.items()):
            family.add_metric([kind, outcome], value)
        yield family

    def _outbox(self):
        from sqlalchemy import func, select

        pending = select(OutboxEvent.id).where(OutboxEvent.relayed_at.is_(None))
        count = db.session.scalar(select(func.count()).select_from(pending.limit(OUTBOX_COUNT_CAP).subquery()))
        oldest = db.session.scalar(
            select(OutboxEvent.created_at).where(OutboxEvent.relayed_at.is_(None)).order_by(OutboxEvent.id).limit(1)
        )
        lag = 0.0
        if oldest is not None:
            lag = max((utcnow() - oldest).total_seconds(), 0.0)
        yield GaugeMetricFamily("jaki_outbox_pending_events", "Outbox events not relayed yet (capped)", value=count)
        yield GaugeMetricFamily("jaki_outbox_lag_seconds", "Age of the oldest outbox event not relayed yet", value=lag)


_STATE = CollectorRegistry(auto_describe=False)
_STATE.register(StateCollector())


def _allowed() -> bool:
    """Open on the embedded default; in production only with the token or from an allowed address."""
    config = current_app.config
    token, allow = config.get("METRICS_TOKEN"), config.get("METRICS_ALLOW")
    if token:
        offered = request.headers.get("Authorization", "")
        if hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
            return True
    if allow:
        try:
            address = ipaddress.ip_address(request.remote_addr or "")
        except ValueError:
            return False
        networks = [n.strip() for n in str(allow).split(",") if n.strip()]
        if any(address in ipaddress.ip_network(n, strict=False) for n in networks):
            return True
    return not token and not allow and config.get("JAKI_ENV") != "production"


def _process_metrics() -> bytes:
    directory = current_app.config.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return generate_latest(REGISTRY)
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    return generate_latest(registry)


@blp.get("/metrics")
def metrics():
    if not _allowed():
        raise Forbidden()
    started = time.perf_counter()
    body = _process_metrics() + generate_latest(_STATE)
    log.debug("metrics scraped", extra={"duration_ms": round((time.perf_counter() - started) * 1000, 1)})
    return Response(body, content_type=CONTENT_TYPE_LATEST)
