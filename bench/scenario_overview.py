"""GET /me/overview with agencies at 50/100/200/400 ms and one hung: latency against the slowest, throughput."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx

from bench.util import ROOT, flask, fresh_pg_database, gunicorn, load

SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
HOUSEHOLDS = 100  # each: a head of family with an account and two children in the registry
REDIS_URL = os.environ.get("BENCH_OVERVIEW_REDIS_URL", "redis://127.0.0.1:6379/3")
INSTANCE = os.path.join(tempfile.gettempdir(), "jaki-bench-services")
# Injected latency per agency; DPMPTSP hangs (never answers).
LATENCY_MS = {"DINKES": 50, "DISDIK": 100, "DINSOS": 200, "BAPENDA": 400}
HUNG = "DPMPTSP"
APP_SETTINGS = {
    "AGENCY_CONNECT_TIMEOUT": 0.5,
    "AGENCY_READ_TIMEOUT": 1.0,
    "AGENCY_TOTAL_TIMEOUT": 1.0,
    "AGENCY_RETRIES": 1,
    "AGENCY_BREAKER_FAILURES": 5,
    "AGENCY_BREAKER_WINDOW_SECONDS": 30,
    "AGENCY_BREAKER_OPEN_SECONDS": 15,
    "SERVICES_POOL_SIZE": 256,
    "SERVICES_OVERVIEW_DEADLINE_SECONDS": 2.0,
    "SERVICES_CACHE_FRESH_SECONDS": 300,
}
WORKERS, THREADS = 2, 32


# ---- the gunicorn app and the fake agencies (each in its own process) ----------------------------------


def make_app():
    """gunicorn 'bench.scenario_overview:make_app()': the app with the agencies' URLs from the environment."""
    from jaki import create_app

    return create_app(json.loads(os.environ["BENCH_OVERVIEW_SETTINGS"]))


def _payloads(people: list[dict]) -> dict[str, dict]:
    """Valid answers for every bench person (heads also get tax bills)."""
    routes: dict[str, dict] = {code: {} for code in [*LATENCY_MS, HUNG]}
    for person in people:
        nik = person["nik"]
        routes["DINKES"][f"/v1/residents/{nik}/health"] = {
            "jkn": {
                "card_number": "0001234500011",
                "segment": "PBPU",
                "care_class": 2,
                "status": "aktif",
                "faskes_code": "0901U034",
                "faskes_name": "Puskesmas Kecamatan Kebayoran Lama",
                "valid_until": "2026-12-31",
            },
            "immunisations": [
                {"vaccine": "BCG", "dose": 1, "given_on": "2015-06-20"},
                {"vaccine": "Campak", "dose": 1, "given_on": "2016-02-23"},
            ],
            "visits": [],
        }
        routes["DISDIK"][f"/v1/residents/{nik}/education"] = {
            "enrolments": [
                {
                    "school_name": "SD Negeri Pondok Pinang 05",
                    "npsn": "20102871",
                    "level": "sd",
                    "grade": "4",
                    "academic_year": "2026/2027",
                    "status": "aktif",
                }
            ],
            "scholarships": [
                {
                    "code": "KJP_PLUS",
                    "status": "aktif",
                    "since": "2024-01-15",
                    "monthly_amount": 250000,
                    "next_disbursement_on": "2026-12-15",
                    "disbursements": [
                        {"period": "2026-10", "amount": 250000, "disbursed_on": "2026-10-15", "status": "cair"}
                    ],
                }
            ],
        }
        routes["DINSOS"][f"/v1/residents/{nik}/bansos"] = {"dtks": {"registered": True, "desil": 3}, "programmes": []}
        if person["head"]:
            routes["BAPENDA"][f"/v1/taxpayers/{nik}/bills"] = {
                "bills": [
                    {
                        "bill_id": f"PKB-{nik[-6:]}",
                        "kind": "pkb",
                        "object_id": "B 3217 SRH",
                        "object_label": "Honda Vario 125",
                        "tax_year": 2026,
                        "amount": 412000,
                        "due_on": "2026-11-29",
                    }
                ]
            }
            routes[HUNG][f"/v1/applicants/{nik}/applications"] = {"applications": []}
    return routes


def serve_fakes(people_file: str) -> None:
    """Child process: start the fake agencies, print their URLs, serve until stdin closes."""
    sys.path.insert(0, str(ROOT))
    from tests.support.fake_agency import FakeAgency, nik_in_body

    routes = _payloads(json.loads(Path(people_file).read_text()))
    fakes = {code: FakeAgency(nik_in_body(routes[code])).start() for code in routes}
    for code, ms in LATENCY_MS.items():
        fakes[code].set_latency(ms / 1000)
    fakes[HUNG].set_mode("hang")
    print(json.dumps({code: fake.url for code, fake in fakes.items()}), flush=True)
    sys.stdin.read()
    for fake in fakes.values():
        fake.close()


@contextmanager
def fake_agencies(people: list[dict]):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(people, handle)
    proc = subprocess.Popen(
        [sys.executable, "-c", f"import bench.scenario_overview as s; s.serve_fakes({handle.name!r})"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield json.loads(proc.stdout.readline())
    finally:
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        os.unlink(handle.name)


def gunicorn_app(env: dict):
    return gunicorn(env, WORKERS, THREADS, app="bench.scenario_overview:make_app()", worker_class="gthread")


# ---- data ------------------------------------------------------------------------------------------------


def seed() -> dict:
    """Child process (settings come from the environment): agencies, households, access tokens."""
    from flask_jwt_extended import create_access_token

    from jaki.auth import nik as nik_mod
    from jaki.auth.crypto import cipher
    from jaki.auth.models import Resident, User
    from jaki.db import utcnow
    from jaki.extensions import db
    from jaki.services.demo import seed_reference

    app = make_app()
    people, tokens = [], []
    with app.app_context():
        seed_reference()
        for i in range(HOUSEHOLDS):
            kk = f"31740501021{i:05d}"
            members = [
                ("kepala_keluarga", date(1985, 1, 1 + i % 28), "F"),
                ("anak", date(2014, 3, 1 + i % 28), "M"),
                ("anak", date(2017, 6, 1 + i % 28), "F"),
            ]
            for j, (relation, born, sex) in enumerate(members):
                nik = nik_mod.build("317405", born, sex, 3000 + i * 3 + j)
                resident = Resident(
                    full_name=f"Bench {i}-{j}",
                    birth_date=born,
                    sex=sex,
                    family_relation=relation,
                    address="Jl. Bench",
                    kelurahan_code="31.74.05.1002",
                )
                resident.nik, resident.kk_number = nik, kk
                db.session.add(resident)
                people.append({"nik": nik, "head": j == 0})
                if j == 0:
                    user = User(
                        role="citizen",
                        status="active",
                        full_name=f"Bench {i}-0",
                        birth_date=born,
                        sex=sex,
                        # No password: the bench uses access tokens minted here.
                        password_hash="!",  # noqa: S106 - not a password
                        phone_verified_at=utcnow(),
                        kk_index=cipher().blind_index(kk, "kk"),
                    )
                    user.nik, user.phone = nik, f"+62812{3000 + i:08d}"
                    db.session.add(user)
                    db.session.flush()
                    tokens.append(create_access_token(identity=user.id, additional_claims={"role": "citizen"}))
        db.session.commit()
    return {"people": people, "tokens": tokens}


def _seed(env: dict) -> dict:
    code = "import json, bench.scenario_overview as s; print(json.dumps(s.seed()))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


# ---- measurements ----------------------------------------------------------------------------------------


def _agency_latency(urls: dict, people: list[dict]) -> dict:
    """Each healthy agency's own latency, measured directly from here in the same run (median of 10)."""
    head = next(p["nik"] for p in people if p["head"])
    # The NIK in the body, as jaki sends it.
    paths = {
        "DINKES": "/v1/residents/health/query",
        "DISDIK": "/v1/residents/education/query",
        "DINSOS": "/v1/residents/bansos/query",
        "BAPENDA": "/v1/taxpayers/bills/query",
    }
    measured = {}
    with httpx.Client(timeout=5) as client:
        for code, path in paths.items():
            samples = []
            for _ in range(10):
                started = time.perf_counter()
                client.post(urls[code] + path, json={"nik": head}).raise_for_status()
                samples.append(time.perf_counter() - started)
            measured[code] = round(statistics.median(samples) * 1000, 1)
    return measured


def _sequential(base: str, tokens: list[str], count: int, *, refresh: bool) -> list[dict]:
    rows = []
    with httpx.Client(timeout=30) as client:
        for i in range(count):
            headers = {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}
            started = time.perf_counter()
            response = client.get(
                f"{base}/api/v1/me/overview", params={"refresh": str(refresh).lower()}, headers=headers
            )
            elapsed = (time.perf_counter() - started) * 1000
            response.raise_for_status()
            sections = response.json()["sections"]
            rows.append(
                {
                    "ms": round(elapsed, 1),
                    "statuses": {name: s["status"] for name, s in sections.items()},
                    "hung_reason": sections["permits"]["reason"],
                }
            )
    return rows


def _stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
        "max_ms": round(ordered[-1], 1),
    }


def _overview_load(base: str, tokens: list[str], *, refresh: bool, concurrency: int, seconds: float) -> dict:
    bad_sections = {"count": 0}
    lock = threading.Lock()

    def request(client, i):
        response = client.get(
            f"{base}/api/v1/me/overview",
            params={"refresh": str(refresh).lower()},
            headers={"Authorization": f"Bearer {tokens[i % len(tokens)]}"},
        )
        if response.status_code != 200:
            return False
        sections = response.json()["sections"]
        # The hung agency's section is expected to be unavailable; any other one not ok is counted.
        bad = sum(1 for name, s in sections.items() if name != "permits" and s["status"] != "ok")
        with lock:
            bad_sections["count"] += bad
        return True

    result = load(request, concurrency=concurrency, seconds=seconds)
    result["healthy_sections_not_ok"] = bad_sections["count"]
    return result


def run() -> dict:
    import shutil

    shutil.rmtree(INSTANCE, ignore_errors=True)
    url = fresh_pg_database("bench_services")
    if url is None:
        raise RuntimeError("the overview bench needs PostgreSQL (bench_services) and Redis")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        **os.environ,
        "JAKI_ENV": "development",
        "JAKI_LOG_LEVEL": "ERROR",
        "FLASK_APP": "wsgi.py",
        "JAKI_INSTANCE_DIR": INSTANCE,
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "JAKI_ACCESS_TOKEN_SECONDS": "3600",
        "JAKI_RATELIMIT_ENABLED": "0",
        "BENCH_OVERVIEW_SETTINGS": "{}",
    }
    flask(["db", "upgrade", "heads"], env)
    seeded = _seed(env)
    people, tokens = seeded["people"], seeded["tokens"]

    with fake_agencies(people) as urls:
        settings = {**APP_SETTINGS, **{f"AGENCY_{code}_URL": agency_url for code, agency_url in urls.items()}}
        env["BENCH_OVERVIEW_SETTINGS"] = json.dumps(settings)
        agency_ms = _agency_latency(urls, people)
        slowest = max(agency_ms.values())
        with gunicorn_app(env) as base:
            # Latency: one client, every request asks the agencies (refresh), first while the hung agency's
            # breaker is still closed (each call waits for its deadline), then once it has opened.
            rows = _sequential(base, tokens, 30, refresh=True)
            hung_wait = [r["ms"] for r in rows if r["hung_reason"] == "timeout"]
            breaker_open = [r["ms"] for r in rows if r["hung_reason"] == "circuit_open"]
            healthy_not_ok = sum(
                1 for r in rows for name, status in r["statuses"].items() if name != "permits" and status != "ok"
            )
            # Throughput: cold (every request calls every agency) and cached (answers from the Redis cache).
            cold = _overview_load(base, tokens, refresh=True, concurrency=32, seconds=SECONDS)
            _sequential(base, tokens, len(tokens), refresh=True)  # every household answered once: cache warm
            cached = _overview_load(base, tokens, refresh=False, concurrency=32, seconds=SECONDS)

    open_stats = _stats(breaker_open)
    return {
        "setup": {
            "database": "postgresql",
            "cache_and_breaker": "redis",
            "gunicorn": f"{WORKERS}x{THREADS} gthread",
            "households": HOUSEHOLDS,
            "calls_per_cold_overview": "3 health + 3 education + 3 social aid + "
            "1 tax + 1 permits (hung); letters local",
            "settings": APP_SETTINGS,
        },
        "agency_latency_ms": {**agency_ms, HUNG: "hung"},
        "slowest_healthy_agency_ms": slowest,
        "sum_of_healthy_agency_latencies_ms": round(sum(agency_ms.values()), 1),
        "latency": {
            "while_hung_agency_times_out": _stats(hung_wait),
            "after_breaker_opened": open_stats,
            "after_breaker_opened_p50_over_slowest": round(open_stats["p50_ms"] / slowest, 2) if breaker_open else None,
            "healthy_sections_not_ok": healthy_not_ok,
            "per_request_ms": [r["ms"] for r in rows],
        },
        "throughput": {"cold_refresh": cold, "cached": cached},
        "notes": "load driver, fake agencies, gunicorn, PostgreSQL and Redis share this machine's cores; "
        "hung agency calls end at AGENCY_TOTAL_TIMEOUT until its breaker opens, then are refused at once",
    }
