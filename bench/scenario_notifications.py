"""Targeted notifications per second through rq workers to the local FCM stub, beside the stub's own ceiling;
a bansos day (100,000 personal notifications, projected to 1,000,000); broadcast latency for an area followed
by 10 devices and by 1,000,000 (it should not differ)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import httpx

from bench.fast_stub import FastFcmStub
from bench.util import (
    ROOT,
    cpu_ms_per,
    cpu_seconds_by_process,
    flask,
    free_port,
    fresh_pg_database,
    gunicorn,
    machine_busy,
)

TARGETED = int(os.environ.get("BENCH_NOTIFY_TARGETED", "2000"))
BANSOS = int(os.environ.get("BENCH_NOTIFY_BANSOS", "100000"))
FORKING_TARGETED = int(os.environ.get("BENCH_NOTIFY_FORKING", "100"))
BIG_AREA_DEVICES = int(os.environ.get("BENCH_NOTIFY_BIG_AREA", "1000000"))
BROADCASTS = int(os.environ.get("BENCH_NOTIFY_BROADCASTS", "15"))
CEILING_SECONDS = float(os.environ.get("BENCH_NOTIFY_CEILING_SECONDS", "5"))
WORKERS = max(2, os.cpu_count() or 1)
SMALL_AREA, BIG_AREA, TARGETED_AREA = "31.74.05.1002", "31.75.06.1001", "31.74.05.1003"
INSTANCE_DIR = "/tmp/jaki-bench-notify"


@contextmanager
def redis_server():
    """A redis-server of our own on a spare port: the bench never touches the machine's shared Redis."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.RedisError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def workers(env: dict, count: int, *, simple: bool):
    args = [sys.executable, "-m", "flask", "jobs", "worker", *(["--simple"] if simple else [])]
    procs = [
        subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(count)
    ]
    try:
        yield procs
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        # rq forks a job process per job (in its own process group) and a scheduler process per worker.
        time.sleep(0.5)


def _child(code: str, env: dict) -> dict:
    """Run `code` (which prints one JSON line last) in a child process: settings come from its environment."""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bench child failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def seed(small_devices: int, big_devices: int) -> dict:
    """Areas, an admin (with an access token), and devices: one per targeted user, `small_devices` following
    the small kelurahan's topics and `big_devices` following the big one's (rows only: FCM does the fan-out)."""
    from sqlalchemy import text

    from config import get_config
    from jaki import create_app
    from jaki.auth.tokens import issue_pair
    from jaki.extensions import db
    from jaki.geo.models import Area
    from tests.factories import make_user

    app = create_app(get_config("development"))
    with app.app_context():
        for code, level, parent in (
            ("31", "provinsi", None),
            ("31.74", "kota", "31"),
            ("31.74.05", "kecamatan", "31.74"),
            (SMALL_AREA, "kelurahan", "31.74.05"),
            (TARGETED_AREA, "kelurahan", "31.74.05"),
            ("31.75", "kota", "31"),
            ("31.75.06", "kecamatan", "31.75"),
            (BIG_AREA, "kelurahan", "31.75.06"),
        ):
            db.session.add(Area(code=code, level=level, name=code, parent_code=parent))
        db.session.commit()
        admin = make_user(role="admin")
        token = issue_pair(admin, fresh=False)["access_token"]
        db.session.commit()
        # Users and devices in bulk, in SQL: the ORM would take minutes for a million rows.
        template = make_user(home_kelurahan_code=SMALL_AREA)
        db.session.commit()
        users_sql = text("""
            INSERT INTO users (id, role, status, nik_index, nik_encrypted, full_name, birth_date, sex, phone_encrypted,
                               password_hash, password_changed_at, home_kelurahan_code, created_at, updated_at)
            SELECT :prefix || g, 'citizen', 'active', :prefix || 'nik' || g, u.nik_encrypted, 'Bench', u.birth_date,
                   u.sex, u.phone_encrypted, u.password_hash, now(), :area, now() - interval '1 day', now()
            FROM generate_series(1, CAST(:n AS integer)) g, users u WHERE u.id = :template""")
        devices_sql = text("""
            INSERT INTO push_devices (id, user_id, token, platform, locale, created_at, last_seen_at, topics,
                                      topics_area_code, topics_synced_at, topic_sync_failures)
            SELECT :prefix || g, :user_prefix || (1 + (g - 1) / :per_user), :prefix || 'token-' || g, 'android', 'id',
                   now(), now(), CAST(:topics AS json), :area, now(), 0
            FROM generate_series(1, CAST(:n AS integer)) g""")

        def add(prefix: str, area: str, topics: list[str], users: int, devices: int) -> None:
            db.session.execute(users_sql, {"prefix": f"{prefix}-u-", "n": users, "area": area, "template": template.id})
            db.session.execute(
                devices_sql,
                {
                    "prefix": f"{prefix}-d-",
                    "user_prefix": f"{prefix}-u-",
                    "per_user": max(1, devices // users),
                    "n": devices,
                    "area": area,
                    "topics": json.dumps(topics),
                },
            )
            db.session.commit()

        small_topics = ["area-3174051002", "area-317405", "area-3174", "area-31"]
        big_topics = ["area-3175061001", "area-317506", "area-3175", "area-31"]
        targeted_topics = ["area-3174051003", "area-317405", "area-3174", "area-31"]
        add("t", TARGETED_AREA, targeted_topics, TARGETED + FORKING_TARGETED, TARGETED + FORKING_TARGETED)
        add("k", TARGETED_AREA, targeted_topics, BANSOS, BANSOS)
        add("s", SMALL_AREA, small_topics, small_devices, small_devices)
        started = time.perf_counter()
        add("b", BIG_AREA, big_topics, max(1, big_devices // 100), big_devices)
        big_seconds = time.perf_counter() - started
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        counts = dict(
            db.session.execute(
                text("SELECT topics_area_code, count(*) FROM push_devices GROUP BY topics_area_code")
            ).all()
        )
    return {"token": token, "devices_per_area": counts, "big_area_insert_seconds": round(big_seconds, 1)}


def insert_events(count: int, first: int, kind: str = "targeted") -> None:
    """Outbox events for `count` users (as domains write them, one per person), committed; in an app context."""
    from sqlalchemy import text

    from jaki.extensions import db

    if kind == "bansos":
        statement = text("""
        INSERT INTO outbox_events (type, aggregate_type, aggregate_id, payload, created_at, attempts)
        SELECT 'bansos.disbursed', 'bansos', 'bansos-' || g,
               json_build_object('recipients', json_build_array('k-u-' || g), 'data', json_build_object()),
               now(), 0
        FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) g""")
    else:
        statement = text("""
        INSERT INTO outbox_events (type, aggregate_type, aggregate_id, payload, created_at, attempts)
        SELECT 'report.status_changed', 'report', 'bench-' || g,
               json_build_object('recipients', json_build_array('t-u-' || g),
                                 'data', json_build_object('public_status', 'proses')), now(), 0
        FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) g""")
    db.session.execute(statement, {"first": first, "last": first + count - 1})
    db.session.commit()


def queue_events(count: int, first: int, kind: str = "targeted") -> dict:
    """insert_events, then one relay job."""
    from config import get_config
    from jaki import create_app, jobs
    from jaki.notifications import tasks

    app = create_app(get_config("development"))
    with app.app_context():
        insert_events(count, first, kind)
        committed_at = time.time()
        jobs.enqueue(tasks.relay_outbox, queue=jobs.Queues.DEFAULT, retries=0)
    return {"queued": count, "committed_at": committed_at}


def client_blast(send_url: str, seconds: float) -> dict:
    """One process sending personal messages through FcmPushSender.send_batch (firebase-admin send_each) as
    fast as it can, without the database: what one delivery worker's FCM client can do at most."""
    from jaki.notifications.push import FcmPushSender, PushMessage

    sent = 0
    with FcmPushSender("bench", fcm_url=send_url) as sender:
        messages = [PushMessage(f"ceiling-{i}", "Bench", "Ceiling", {"k": "v"}) for i in range(500)]
        sender.send_batch(messages[:50])  # connections open
        began = time.perf_counter()
        while time.perf_counter() - began < seconds:
            sent += sum(r.ok for r in sender.send_batch(messages))
        elapsed = time.perf_counter() - began
    return {"messages": sent, "seconds": round(elapsed, 2)}


def client_ceiling(env: dict, stub, seconds: float, processes: int) -> dict:
    """firebase-admin's own ceiling: `processes` processes at once, each one send_batch loop."""
    code = (
        "import json, bench.scenario_notifications as s; "
        f"print(json.dumps(s.client_blast({stub.send_url!r}, {seconds})))"
    )
    results: list[dict] = []
    pool = [threading.Thread(target=lambda: results.append(_child(code, env))) for _ in range(processes)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    total = sum(r["messages"] / r["seconds"] for r in results)
    return {"processes": processes, "messages_per_s": round(total, 1), "batch": 500, "runs": results}


def _last_event_id(engine) -> int:
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(text("SELECT coalesce(max(id), 0) FROM outbox_events")).scalar()


def _sent_count(engine, after_event: int) -> int:
    """Sent rows of the events queued after `after_event` (the run's own): an index range, cheap to poll (a count
    joined to 100,000 aggregate ids, as this bench once did, took a core of PostgreSQL away from the workers)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM notifications WHERE event_id > :after AND status = 'sent'"),
            {"after": after_event},
        ).scalar()


def _timeline(engine, after_event: int, began_wall: float) -> dict:
    """When the run's first and last rows were written and sent, in seconds after the events were queued."""
    from sqlalchemy import text

    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT extract(epoch FROM min(created_at)), extract(epoch FROM max(created_at)), "
                "extract(epoch FROM min(sent_at)), extract(epoch FROM max(sent_at)), count(*) "
                "FROM notifications WHERE event_id > :after"
            ),
            {"after": after_event},
        ).one()
    first_row, last_row, first_sent, last_sent, rows = row
    if first_sent is None:
        return {}
    sending = float(last_sent) - float(first_sent)
    return {
        "first_row_written_after_s": round(float(first_row) - began_wall, 2),
        "last_row_written_after_s": round(float(last_row) - began_wall, 2),
        "first_sent_after_s": round(float(first_sent) - began_wall, 2),
        "last_sent_after_s": round(float(last_sent) - began_wall, 2),
        "sending_rate_per_s": round((rows - 1) / sending, 1) if sending > 0 else None,
    }


def _wait_for_workers(redis_url: str, count: int, timeout: float = 60) -> None:
    """Until `count` rq workers have registered and taken their first look at the queues: a worker still importing
    jaki when the events commit would put its start-up in the pipeline's time."""
    import redis
    from rq import Worker

    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(1 for w in Worker.all(connection=client) if w.get_state() == "idle") >= count:
            break
        time.sleep(0.1)
    client.close()
    time.sleep(0.5)


def _warm_up(env: dict, engine, count: int, first: int) -> float:
    """Queue `count` notifications and wait until they are sent; the seconds it took."""
    after_event = _last_event_id(engine)
    queued = _child(
        f"import json, bench.scenario_notifications as s; print(json.dumps(s.queue_events({count}, {first})))", env
    )
    deadline = time.time() + 120
    while _sent_count(engine, after_event) < count and time.time() < deadline:
        time.sleep(0.05)
    return round(time.time() - queued["committed_at"], 2)


def targeted(
    env: dict,
    url: str,
    stub,
    count: int,
    first: int,
    *,
    simple: bool,
    worker_count: int,
    kind: str = "targeted",
    warm: bool = True,
) -> dict:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with workers(env, worker_count, simple=simple):
        _wait_for_workers(env["REDIS_URL"], worker_count)
        # Workers in service are warm: their first job has compiled the statements, opened the database and FCM
        # connections and imported what jobs import. A few notifications go first, outside the clock, so the run
        # measures the pipeline and not each worker's first job (cold_start_s says what that costs).
        cold_start = _warm_up(env, engine, worker_count * 4, first) if warm else None
        after_event = _last_event_id(engine)
        sent_before = stub.sent_count
        # The clock starts when the events commit, as a domain's write would: not when the child that writes them
        # starts (a Python process and an app, seconds that are the bench's, not the pipeline's).
        queued = _child(
            "import json, bench.scenario_notifications as s; "
            f"print(json.dumps(s.queue_events({count}, {first}, {kind!r})))",
            env,
        )
        began_wall = queued["committed_at"]
        began = time.perf_counter() - (time.time() - began_wall)
        cpu_before, busy_before = cpu_seconds_by_process(), machine_busy()
        deadline = began + 1800
        done = 0
        while time.perf_counter() < deadline:
            done = _sent_count(engine, after_event)
            if done >= count:
                break
            time.sleep(0.5 if count > 10_000 else 0.1)
        elapsed = time.perf_counter() - began
        cpu = cpu_ms_per(done, cpu_before, cpu_seconds_by_process())
        busy_after = machine_busy()
    timeline = _timeline(engine, after_event, began_wall)
    engine.dispose()
    return {
        "notifications": count,
        "sent": done,
        "workers": worker_count,
        "worker": "SimpleWorker (--simple)" if simple else "forking Worker (default)",
        "seconds": round(elapsed, 2),
        "notifications_per_s": round(done / elapsed, 1),
        "stub_messages": stub.sent_count - sent_before,
        "timeline": timeline,
        "warm_up": {"notifications": worker_count * 4, "cold_start_s": cold_start} if warm else None,
        # Where a notification's CPU went, by process group (the relay's and the delivery's Python are both in
        # "jobs worker"), and how busy the machine's cores were while it ran.
        "cpu_ms_per_notification": cpu,
        "machine_busy_fraction": round((busy_after[0] - busy_before[0]) / (busy_after[1] - busy_before[1]), 3)
        if busy_after[1] > busy_before[1]
        else None,
        "includes": "from the events' commit: the relay (its rows by one INSERT ... SELECT FROM unnest), then "
        "one rq job per batch of NOTIFY_DELIVERY_BATCH rows (claim by one UPDATE ... RETURNING, devices in one query, "
        "commit, paced firebase-admin messaging.send on the sender's FCM_CONCURRENCY threads, outcomes in one UPDATE "
        "FROM unnest, commit)",
    }


def broadcast_latency(base: str, token: str, stub, area_code: str, repeats: int) -> dict:
    latencies, accepted = [], []
    with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
        for n in range(repeats):
            before = stub.sent_count
            began = time.perf_counter()
            response = client.post(
                f"{base}/api/v1/admin/broadcasts",
                json={
                    "area_code": area_code,
                    "title": "Siaga banjir",
                    "body": f"Uji siaran ke-{n}: tinggi muka air naik.",
                },
            )
            accepted.append(time.perf_counter() - began)
            if response.status_code != 202:
                raise RuntimeError(f"broadcast refused: {response.status_code} {response.text[:200]}")
            while stub.sent_count == before and time.perf_counter() - began < 30:
                time.sleep(0.001)
            latencies.append(time.perf_counter() - began)
    ordered = sorted(latencies)
    return {
        "area_code": area_code,
        "broadcasts": repeats,
        "accepted_p50_ms": round(statistics.median(accepted) * 1000, 1),
        "delivered_to_fcm_p50_ms": round(statistics.median(ordered) * 1000, 1),
        "delivered_to_fcm_p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1),
        "fcm_requests_per_broadcast": 1,
    }


def run() -> dict:
    url = fresh_pg_database("bench_notify")
    if url is None:
        raise RuntimeError("the notifications bench needs PostgreSQL (a million device rows)")
    with redis_server() as redis_url, FastFcmStub() as stub:
        env = {
            **os.environ,
            "JAKI_ENV": "development",
            "FLASK_APP": "wsgi.py",
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "JAKI_JOBS_BACKEND": "rq",
            "JAKI_PUSH_BACKEND": "fcm",
            "JAKI_FCM_PROJECT_ID": "bench",
            "JAKI_FCM_URL": stub.send_url,
            "JAKI_LOG_LEVEL": "WARNING",
            "JAKI_RATELIMIT_ENABLED": "0",
            "JAKI_INSTANCE_DIR": INSTANCE_DIR,
            "PYTHONPATH": str(ROOT),
        }
        flask(["db", "upgrade", "heads"], env)
        seeded = _child(
            f"import json, bench.scenario_notifications as s; print(json.dumps(s.seed(10, {BIG_AREA_DEVICES})))", env
        )
        token = seeded.pop("token")

        ceiling = stub.ceiling(CEILING_SECONDS)
        client = client_ceiling(env, stub, CEILING_SECONDS, processes=WORKERS)
        simple = targeted(env, url, stub, TARGETED, 1, simple=True, worker_count=WORKERS)
        forking = targeted(env, url, stub, FORKING_TARGETED, TARGETED + 1, simple=False, worker_count=WORKERS)
        bansos = targeted(env, url, stub, BANSOS, 1, simple=True, worker_count=WORKERS, kind="bansos")
        bansos_rate = bansos["notifications_per_s"]
        bansos.update(
            {
                "time_to_deliver_all_s": bansos["seconds"],
                "projected_1m_s": round(1_000_000 / bansos_rate, 1) if bansos_rate else None,
                "projected_1m_min": round(1_000_000 / bansos_rate / 60, 1) if bansos_rate else None,
            }
        )

        with workers(env, 1, simple=True), gunicorn(env, workers=2) as base:
            time.sleep(1)
            broadcast_latency(base, token, stub, SMALL_AREA, 3)  # warm-up
            small, big = [], []
            for _ in range(BROADCASTS):  # interleaved, so drift affects both areas alike
                small.append(broadcast_latency(base, token, stub, SMALL_AREA, 1)["delivered_to_fcm_p50_ms"])
                big.append(broadcast_latency(base, token, stub, BIG_AREA, 1)["delivered_to_fcm_p50_ms"])

    def summary(area: str, values: list[float], devices: int) -> dict:
        ordered = sorted(values)
        return {
            "area_code": area,
            "subscribed_devices": devices,
            "broadcasts": len(values),
            "delivered_to_fcm_p50_ms": round(statistics.median(ordered), 1),
            "delivered_to_fcm_p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
            "fcm_requests_per_broadcast": 1,
        }

    return {
        "database": "postgresql",
        "cpus": os.cpu_count(),
        "stub_ceiling": ceiling,
        "client_ceiling": client,
        "targeted_simple_workers": simple,
        "targeted_forking_workers": forking,
        "targeted_vs_stub_ceiling": round(simple["notifications_per_s"] / ceiling["messages_per_s"], 3),
        "targeted_vs_client_ceiling": round(simple["notifications_per_s"] / client["messages_per_s"], 3),
        "bansos_day": bansos,
        "broadcast_small_area": summary(SMALL_AREA, small, seeded["devices_per_area"].get(SMALL_AREA, 0)),
        "broadcast_big_area": summary(BIG_AREA, big, seeded["devices_per_area"].get(BIG_AREA, 0)),
        "seed": seeded,
        "notes": [
            "Everything (PostgreSQL, Redis, gunicorn, rq workers, the Python FCM stub and this driver) shares the "
            "same cores; other engineers' processes may run on the machine at the same time.",
            "The stub is bench/fcm_stub/fast_stub.c (epoll, HTTP/1.1 keep-alive), built by the bench; its ceiling "
            "is driven by the same binary's C load generator (32 connections, one FCM-sized request in flight each).",
            "client_ceiling: firebase-admin messaging.send through FcmPushSender.send_batch, one process per "
            "worker, no database: the most the delivery workers' FCM client can do on this machine.",
            "Targeted: one notification per user, one device each; through the relay and one job per batch.",
            "Bansos day: one bansos.disbursed event per family, one device each; projection is linear.",
            f"Load before the run: {os.getloadavg()[0]:.2f} (1-minute average).",
            "Broadcast latency is from the admin's POST to the stub receiving the topic message; the topic send "
            "never reads device rows, so the million subscribed devices cost nothing here (FCM fans out).",
        ],
    }
