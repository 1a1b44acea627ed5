"""Login throughput through gunicorn beside the raw argon2id verify rate on the same cores."""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time

from bench.util import ROOT, flask, fresh_pg_database, gunicorn, load

SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
USERS = 50
PASSWORD = "bench-password-2026"


def _verify_loop(seconds: float, params: tuple[int, int, int], out) -> None:
    from argon2 import PasswordHasher

    hasher = PasswordHasher(time_cost=params[0], memory_cost=params[1], parallelism=params[2])
    stored = hasher.hash(PASSWORD)
    count, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        hasher.verify(stored, PASSWORD)
        count += 1
    out.put(count)


def raw_verify_rate(processes: int, seconds: float, params: tuple[int, int, int]) -> float:
    queue = mp.Queue()
    procs = [mp.Process(target=_verify_loop, args=(seconds, params, queue)) for _ in range(processes)]
    for p in procs:
        p.start()
    total = sum(queue.get() for _ in procs)
    for p in procs:
        p.join()
    return total / seconds


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

    raw = raw_verify_rate(cores, SECONDS / 2, params)

    def login(client, i):
        response = client.post(f"{base}/api/v1/auth/login", json={"nik": niks[i % len(niks)], "password": PASSWORD})
        return response.status_code == 200

    with gunicorn(env, workers=cores) as base:
        load(login, concurrency=cores, seconds=2)  # warm-up
        result = load(login, concurrency=cores * 2, seconds=SECONDS)

    return {
        "database": "postgresql" if url else "sqlite",
        "argon2": {"time_cost": params[0], "memory_kib": params[1], "parallelism": params[2]},
        "raw_argon2_verify_per_s": round(raw, 1),
        "login": result,
        "login_vs_raw_verify": round(result["throughput_rps"] / raw, 3) if raw else None,
        "note": "load driver shares the same cores as gunicorn; the ratio shows login overhead beyond argon2",
    }
