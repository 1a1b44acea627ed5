"""Prometheus /metrics: requests and latency per route, queue depths, breakers, push outcomes, outbox lag; access."""

from __future__ import annotations

from collections import Counter

import pytest
from prometheus_client.parser import text_string_to_metric_families

from jaki import metrics
from jaki.events import record_event
from jaki.extensions import db


def _samples(client, **headers) -> dict[tuple, float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_are_counted_by_route_template_and_status_with_latency(client):
    before = _samples(client)
    for _ in range(3):
        client.get("/api/v1/reports/no-such-report")
    client.get("/wp-login.php")
    after = _samples(client)
    route = "/api/v1/reports/<string:report_id>"
    total = "jaki_http_requests_total"
    assert _value(after, total, method="GET", route=route, status="404") - _value(
        before, total, method="GET", route=route, status="404"
    ) == pytest.approx(3)
    assert _value(after, total, method="GET", route="<unmatched>", status="404") >= 1
    assert not [key for key in after if "wp-login" in str(key)]  # a scanner's paths never become labels
    count = "jaki_http_request_duration_seconds_count"
    assert _value(after, count, method="GET", route=route) - _value(before, count, method="GET", route=route) == 3
    assert _value(after, "jaki_http_request_duration_seconds_bucket", method="GET", route=route, le="+Inf") >= 3


def test_outbox_lag_counts_what_the_relay_has_not_done_yet(app, client, ctx):
    db.session.execute(db.text("UPDATE outbox_events SET relayed_at = CURRENT_TIMESTAMP WHERE relayed_at IS NULL"))
    assert _value(_samples(client), "jaki_outbox_pending_events") == 0
    record_event(db.session, "report.created", "report", "r-metrics", {"recipients": []})
    db.session.flush()
    samples = _samples(client)
    assert _value(samples, "jaki_outbox_pending_events") == 1
    assert _value(samples, "jaki_outbox_lag_seconds") >= 0


def test_push_outcomes_are_counted_for_devices_and_topics(client, ctx):
    before = _samples(client)
    metrics.count_push("device", Counter({"sent": 2, "unregistered": 1}))
    metrics.count_push("topic", Counter({"retryable": 1}))
    after = _samples(client)
    for kind, outcome, n in (("device", "sent", 2), ("device", "unregistered", 1), ("topic", "retryable", 1)):
        name = "jaki_push_total"
        assert _value(after, name, kind=kind, outcome=outcome) - _value(before, name, kind=kind, outcome=outcome) == n


def test_a_delivery_counts_its_outcome(app, client, ctx, monkeypatch):
    from jaki.notifications import delivery
    from jaki.notifications.models import Device, Notification
    from jaki.notifications.push import RecordingPushSender
    from tests.factories import make_user

    monkeypatch.setitem(app.extensions, "jaki.push_sender", RecordingPushSender())
    user = make_user()
    db.session.add(Device(user_id=user.id, token="metrics-device", platform="android"))
    row = Notification(recipient_id=user.id, type="report.created", title="Laporan", body="Diterima.", data={})
    db.session.add(row)
    db.session.commit()
    before = _value(_samples(client), "jaki_push_total", kind="device", outcome="sent")
    assert delivery.send_notification(row.id).outcome == "sent"
    assert _value(_samples(client), "jaki_push_total", kind="device", outcome="sent") == before + 1


def test_breaker_state_of_each_agency_with_an_http_connector(app, client, ctx, monkeypatch):
    from jaki.clients import agencies as agency_clients

    monkeypatch.setitem(app.config, "AGENCY_DINKES_URL", "http://127.0.0.1:9/dinkes")
    agency_clients.breaker_for("DINKES").reset()
    samples = _samples(client)
    assert _value(samples, "jaki_agency_breaker_state", agency="DINKES") == 0  # closed
    assert ("jaki_agency_breaker_state", (("agency", "DISDIK"),)) not in samples  # local connector: no breaker


@pytest.mark.redis
def test_queue_depths_per_queue_and_state(app, client, ctx, monkeypatch):
    from jaki import jobs

    monkeypatch.setitem(app.config, "JOBS_BACKEND", "rq")
    before = _samples(client)
    jobs.enqueue(print, "metrics", queue=jobs.Queues.MEDIA, retries=0)
    after = _samples(client)
    assert _value(after, "jaki_rq_jobs", queue="jaki-media", state="queued") == (
        _value(before, "jaki_rq_jobs", queue="jaki-media", state="queued") + 1
    )
    for name in jobs.Queues.ALL:
        assert ("jaki_rq_jobs", (("queue", name), ("state", "failed"))) in after


def test_metrics_are_not_public_in_production(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "JAKI_ENV", "production")
    refused = client.get("/metrics")
    assert refused.status_code == 403 and refused.get_json()["code"] == "forbidden"

    monkeypatch.setitem(app.config, "METRICS_TOKEN", "scrape-token-0123456789")
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-token-0123456789"}).status_code == 200

    monkeypatch.setitem(app.config, "METRICS_TOKEN", None)
    monkeypatch.setitem(app.config, "METRICS_ALLOW", "10.0.0.0/8, 192.168.1.7")
    assert client.get("/metrics").status_code == 403  # the test client is 127.0.0.1
    monkeypatch.setitem(app.config, "METRICS_ALLOW", "10.0.0.0/8,127.0.0.1")
    assert client.get("/metrics").status_code == 200


def test_a_store_that_is_down_hides_only_its_own_metrics(app, client, monkeypatch):
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    monkeypatch.setitem(app.extensions, "jaki.redis", down)
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "rq")
    samples = _samples(client)
    assert not [key for key in samples if key[0] in ("jaki_rq_jobs", "jaki_push_total")]
    assert ("jaki_outbox_lag_seconds", ()) in samples
