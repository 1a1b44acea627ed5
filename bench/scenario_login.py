"""Login throughput through gunicorn beside the raw argon2id verify rate on the same cores."""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import sys
import time

from bench.util import ROOT, cpu_ms_per, cpu_seconds_by_process, flask, fresh_pg_database, gunicorn, load

SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
ROUNDS = 4
USERS = 50
PASSWORD = "bench-password-2026"


def _verify_loop(seconds: float, params: tuple[int, int, int], out) -> None:
    from argon2 import PasswordHasher

    hasher = PasswordHasher(time_cost=params[0], memory_cost=params[1], parallelism=params[2])
    stored = hasher.hash(PASSWORD)
    count, began = 0, time.perf_counter()
    end = began + seconds
    while time.perf_counter() < end:
        hasher.verify(stored, PASSWORD)
        count += 1
    # The rate over the time the verifies took: the last one runs past `end`, and count / seconds would credit
    # it as if it had not (about half a verify per process too many).
    out.put(count / (time.perf_counter() - began))


def raw_verify_rate(processes: int, seconds: float, params: tuple[int, int, int]) -> float:
    queue = mp.Queue()
    procs = [mp.Process(target=_verify_loop, args=(seconds, params, queue)) for _ in range(processes)]
    for p in procs:
        p.start()
    total = sum(queue.get() for _ in procs)
    for p in procs:
        p.join()
    return total


def _seed(env: dict) -> list[str]:
    """Seeded in a child process: settings are read from the environment at import time."""
    import json
    import subprocess

    out = subprocess.run(
        [sys.executable, "-c", "import json, bench.scenario_login as s; print(json.dumps(s.seed()))"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def seed() -> list[str]:
    from config import get_config
    from jaki import create_app
    from jaki.auth import nik as nik_mod
    from jaki.auth.crypto import hash_password
    from jaki.auth.models import User
    from jaki.db import utcnow
    from jaki.extensions import db

    app = create_app(get_config("development"))
    niks = []
    with app.app_context():
        stored = hash_password(PASSWORD)
        for i in range(USERS):
            from datetime import date

            nik = nik_mod.build("317405", date(1990, 1, 1), "M", 5000 + i)
            user = User(
                role="citizen",
                status="active",
                full_name=f"Bench {i}",
                birth_date=date(1990, 1, 1),
                sex="M",
                password_hash=stored,
                phone_verified_at=utcnow(),
            )
            user.nik = nik
            user.phone = f"+62812{5000 + i:08d}"
            db.session.add(user)
            niks.append(nik)
        db.session.commit()
    return niks


def run() -> dict:
    cores = os.cpu_count() or 1
    from config import Config

    params = (Config.ARGON2_TIME_COST, Config.ARGON2_MEMORY_COST, Config.ARGON2_PARALLELISM)
    url = fresh_pg_database("bench_auth")
    env = {
        **os.environ,
        "JAKI_ENV": "development",
        "JAKI_RATELIMIT_ENABLED": "0",
        "JAKI_LOG_LEVEL": "WARNING",
        "FLASK_APP": "wsgi.py",
        "JAKI_INSTANCE_DIR": "/tmp/jaki-bench-auth",
    }
    env.pop("REDIS_URL", None)
    if url:
        env["DATABASE_URL"] = url
    else:
        import shutil

        shutil.rmtree("/tmp/jaki-bench-auth", ignore_errors=True)
    flask(["db", "upgrade", "heads"], env)
    niks = _seed(env)

    def login(client, i):
        response = client.post(f"{base}/api/v1/auth/login", json={"nik": niks[i % len(niks)], "password": PASSWORD})
        return response.status_code == 200

    # This machine's speed drifts by 15-20% over a minute (other tenants): raw rounds and login rounds alternate,
    # raw first and last, and each login round is compared with the mean of the raw rounds on either side of it
    # (a drift that is steady over the three cancels out).
    raws, rounds = [], []
    # One sync worker per core, one login at a time each (as the raw rate has one verify per core). Not gthread:
    # its main thread accepts connections while its one thread is busy, and keeps them alive, so the driver's
    # connections could all land on one worker and leave the other idle (a round of 0.49, 2026-12-03). A sync
    # worker accepts only when free; the TCP handshake per login it costs is a few hundred microseconds.
    with gunicorn(env, workers=cores, threads=1, worker_class="sync") as base:
        load(login, concurrency=cores, seconds=2)  # warm-up
        raws.append(raw_verify_rate(cores, SECONDS / 2, params))
        for _ in range(ROUNDS):
            before = cpu_seconds_by_process()
            result = load(login, concurrency=cores * 2, seconds=SECONDS)
            cpu = cpu_ms_per(result["requests"], before, cpu_seconds_by_process())
            raws.append(raw_verify_rate(cores, SECONDS / 2, params))
            raw = (raws[-2] + raws[-1]) / 2
            rounds.append(
                {
                    "raw_argon2_verify_per_s": {"before": round(raws[-2], 2), "after": round(raws[-1], 2)},
                    "login": result,
                    "cpu_ms_per_login": cpu,
                    "login_vs_raw_verify": round(result["throughput_rps"] / raw, 3),
                }
            )
    raw_mean = sum((a + b) / 2 for a, b in itertools.pairwise(raws)) / ROUNDS
    login_mean = sum(r["login"]["throughput_rps"] for r in rounds) / ROUNDS
    ratios = sorted(r["login_vs_raw_verify"] for r in rounds)

    return {
        "database": "postgresql" if url else "sqlite",
        "argon2": {"time_cost": params[0], "memory_kib": params[1], "parallelism": params[2]},
        "raw_argon2_verify_per_s": round(raw_mean, 2),
        "login": {
            "throughput_rps": round(login_mean, 2),
            "p50_ms": sorted(r["login"]["p50_ms"] for r in rounds)[ROUNDS // 2],
            "requests": sum(r["login"]["requests"] for r in rounds),
            "errors": sum(r["login"]["errors"] for r in rounds),
            "concurrency": cores * 2,
        },
        "login_vs_raw_verify": round(login_mean / raw_mean, 3),
        "login_vs_raw_verify_rounds": {"min": ratios[0], "max": ratios[-1]},
        "raw_argon2_cpu_ms_per_verify": round(cores * 1000 / raw_mean, 1),
        "raw_rounds_per_s": [round(r, 2) for r in raws],
        "rounds": rounds,
        "statements_per_login": 4,
        "note": "each login round is compared with the mean of the raw argon2 rounds just before and just after it; "
        "the load driver (bench) and PostgreSQL share the same cores as gunicorn: cpu_ms_per_login says "
        "where a login's CPU went, beside raw_argon2_cpu_ms_per_verify; statements_per_login is pinned by "
        "tests/test_hot_reads.py::test_a_login_costs_four_statements",
    }
