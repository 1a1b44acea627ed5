"""The backlog per unit (open, overdue, red flags at 6 days, oldest), the headline numbers, the integration board."""

import time
from datetime import timedelta

import pytest

from jaki.agencies.registry import upsert_registry
from jaki.clients import agencies as agency_clients
from jaki.clients.call_stats import CallRecorder, MemoryCallStats, RedisCallStats
from jaki.db import utcnow
from jaki.extensions import db
from tests.factories import auth_header, make_user
from tests.stats.factories import month_ago, seeded


def _watcher():
    return make_user(role="command_center")


def test_backlog_counts_overdue_and_red_flags_per_unit(client, ctx, app, monkeypatch):
    now = utcnow()
    # DBM (jalan_rusak): one fresh, one past its 72 h deadline, one open 7 days (red), one closed (not counted).
    seeded(created=now - timedelta(hours=5), status="submitted")
    seeded(created=now - timedelta(hours=80), status="dispatched", sla_h=72)
    oldest = seeded(created=now - timedelta(days=7), status="in_progress", sla_h=72)
    seeded(created=now - timedelta(days=9), status="closed", resolve_h=30)
    # DLH (sampah, 24 h): one overdue, open 6 days and 1 hour: red.
    seeded(category_code="sampah", created=now - timedelta(days=6, hours=1), status="verified", sla_h=24)
    seeded(category_code="sampah", created=now - timedelta(hours=2), status="submitted", kelurahan="31.71.01.1001")
    db.session.commit()
    headers = auth_header(_watcher())
    body = client.get("/api/v1/stats/backlog", headers=headers).json
    rows = {r["key"]: r for r in body["rows"]}
    assert body["red_flag_days"] == 6
    assert {k: (r["open"], r["overdue"], r["red_flagged"]) for k, r in rows.items()} == {
        "DBM": (3, 2, 1),
        "DLH": (2, 1, 1),
    }
    assert rows["DBM"]["oldest_at"].startswith(oldest["created_at"].strftime("%Y-%m-%dT%H:%M"))
    assert rows["DBM"]["oldest_hours"] == pytest.approx(7 * 24, abs=0.2)
    assert (body["total"]["open"], body["total"]["overdue"], body["total"]["red_flagged"]) == (5, 3, 2)
    by_kota = client.get("/api/v1/stats/backlog?group_by=kota", headers=headers).json
    assert {r["key"]: r["open"] for r in by_kota["rows"]} == {"31.74": 4, "31.71": 1}
    assert {r["name"] for r in by_kota["rows"]} == {
        "Kota Administrasi Jakarta Selatan",
        "Kota Administrasi Jakarta Pusat",
    }
    # The red-flag threshold is a setting.
    monkeypatch.setitem(app.config, "STATS_RED_FLAG_DAYS", 8)
    assert client.get("/api/v1/stats/backlog", headers=headers).json["total"]["red_flagged"] == 0
    assert client.get("/api/v1/stats/backlog?group_by=ward", headers=headers).status_code == 422


def test_summary_matches_the_other_answers(client, ctx):
    now = utcnow()
    seeded(created=now - timedelta(minutes=30), status="submitted")
    seeded(created=now - timedelta(days=8), status="in_progress")
    seeded(created=month_ago(1), status="closed", resolve_h=10, sla_h=72)
    seeded(created=month_ago(1, day=12), status="closed", resolve_h=100, sla_h=72)
    db.session.commit()
    headers = auth_header(_watcher())
    summary = client.get("/api/v1/stats/summary", headers=headers).json
    stats = client.get("/api/v1/stats/reports", headers=headers).json["total"]
    backlog = client.get("/api/v1/stats/backlog", headers=headers).json["total"]
    assert summary["today"] >= 1  # filed since midnight WIB (the 30-minute-old one may fall before it)
    assert (summary["open"], summary["overdue"], summary["red_flagged"]) == (
        backlog["open"],
        backlog["overdue"],
        backlog["red_flagged"],
    )
    assert (summary["filed"], summary["resolved"], summary["within_sla"]) == (
        stats["count"],
        stats["resolved"],
        stats["within_sla"],
    )
    assert summary["within_sla_share"] == 0.5


def test_the_board_lists_the_52_offices_and_40_integrated(client, ctx):
    upsert_registry(db.session)
    body = client.get("/api/v1/stats/agencies", headers=auth_header(_watcher())).json
    assert (body["total"], body["integrated"], body["not_integrated"], body["connected"]) == (52, 40, 12, 0)
    assert len(body["rows"]) == 52 and "KELURAHAN" not in {r["code"] for r in body["rows"]}
    dinkes = next(r for r in body["rows"] if r["code"] == "DINKES")
    assert dinkes["connector"] == "local" and dinkes["breaker_state"] is None and dinkes["domains_served"] == ["health"]
    assert next(r for r in body["rows"] if r["code"] == "DISBUD")["connector"] is None


def test_the_board_shows_latency_last_success_and_breaker_of_each_connector(client, demo, agencies, settings):
    settings(AGENCY_RETRIES=0)
    watcher = _watcher()
    assert client.get("/api/v1/me/overview", headers=auth_header(demo.siti)).status_code == 200
    body = client.get("/api/v1/stats/agencies", headers=auth_header(watcher)).json
    rows = {r["code"]: r for r in body["rows"]}
    assert body["connected"] == 5
    for code in ("DINKES", "DISDIK", "DINSOS", "BAPENDA", "DPMPTSP"):
        row = rows[code]
        assert row["connector"] == "http" and row["breaker_state"] == "closed", row
        assert row["calls"] == agencies[code].total_calls and row["failures"] == 0
        assert row["latency_p50_ms"] is not None and 0 < row["latency_p50_ms"] < 2000
        assert row["last_success_at"] is not None and row["last_failure_at"] is None
    agencies["BAPENDA"].set_mode("fail")
    for _ in range(3):  # AGENCY_BREAKER_FAILURES in the fast settings
        client.get("/api/v1/me/overview?refresh=true", headers=auth_header(demo.siti))
    bapenda = {r["code"]: r for r in client.get("/api/v1/stats/agencies", headers=auth_header(watcher)).json["rows"]}
    assert bapenda["BAPENDA"]["breaker_state"] == "open" and bapenda["BAPENDA"]["failures"] == 3
    assert bapenda["BAPENDA"]["last_failure_at"] > bapenda["BAPENDA"]["last_success_at"]


def test_a_broken_call_record_never_fails_the_call():
    class Broken:
        calls = 0

        def record(self, *args):
            import redis

            self.calls += 1
            raise redis.ConnectionError("down")

        def read(self, names):
            import redis

            raise redis.ConnectionError("down")

    store = Broken()
    clock = [100.0]
    recorder = CallRecorder(store, clock=lambda: clock[0])
    recorder.record("DINKES", True, 12.0)
    recorder.record("DINKES", True, 12.0)  # within the back-off: the store is left alone
    assert store.calls == 1 and recorder.read(["DINKES"]) is None
    clock[0] += 6
    recorder.record("DINKES", True, 12.0)
    assert store.calls == 2


def test_memory_record_summarises_latency():
    stats = MemoryCallStats()
    for n, ms in enumerate([10, 20, 30, 40, 500]):
        stats.record("DINSOS", True, ms, 1000.0 + n)
    stats.record("DINSOS", False, 2500, 2000.0)
    seen = stats.read(["DINSOS", "BAPENDA"])
    assert seen["DINSOS"]["latency_p50_ms"] == 30 and seen["DINSOS"]["latency_p95_ms"] == 500
    assert (seen["DINSOS"]["calls"], seen["DINSOS"]["failures"], seen["DINSOS"]["last_latency_ms"]) == (6, 1, 2500)
    assert seen["DINSOS"]["last_success_at"] == 1004.0 and seen["DINSOS"]["last_failure_at"] == 2000.0
    assert seen["BAPENDA"]["calls"] == 0 and seen["BAPENDA"]["latency_p50_ms"] is None


@pytest.mark.redis
def test_every_process_reads_the_same_record_from_redis(app, ctx):
    """What one process records, another (its own client, its own app) reads: the record lives in Redis."""
    import redis

    url = app.config["REDIS_URL"]
    one = CallRecorder(RedisCallStats(redis.Redis.from_url(url)))
    other = RedisCallStats(redis.Redis.from_url(url))
    for ms in (15.0, 25.0, 35.0):
        one.record("DINKES", True, ms)
    one.record("DINKES", False, 900.0)
    seen = other.read(["DINKES"])["DINKES"]
    assert (seen["calls"], seen["failures"], seen["latency_p50_ms"], seen["latency_samples"]) == (4, 1, 25.0, 3)
    assert time.time() - seen["last_success_at"] < 60
    # The app's own recorder is the Redis one, shared with the breakers' client settings.
    recorder = agency_clients.call_recorder()
    assert isinstance(recorder.store, RedisCallStats)
    assert recorder.read(["DINKES"])["DINKES"]["calls"] == 4
