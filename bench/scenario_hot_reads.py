"""The fixed cost of a read: a signed-in GET /me, the cached overview, the inbox, and the public feed, nearby and
map over a million reports, each against /healthz, all on one gunicorn setup in one run (PostgreSQL + Redis).

The million-report database (`bench_1m`) is seeded once by COPY (bench/reports_seed.py, ~5-8 minutes) and kept
between runs; it is re-seeded only when it is missing, smaller or behind the migrations.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time

import httpx

from bench import reports_seed as seed
from bench.util import PG_ADMIN_URL, ROOT, flask, gunicorn, load_interleaved

DATABASE = os.environ.get("BENCH_HOT_READS_DB", "bench_1m")
REPORTS = int(os.environ.get("BENCH_HOT_READS_REPORTS", "1000000"))
SECONDS = float(os.environ.get("BENCH_HOT_READS_SECONDS", "4"))
ROUNDS = int(os.environ.get("BENCH_HOT_READS_ROUNDS", "3"))
CONCURRENCY = int(os.environ.get("BENCH_HOT_READS_CONCURRENCY", "8"))
WORKERS, THREADS = 2, 4
USERS, TOKEN_USERS = 200, 50
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
INSTANCE = "/tmp/jaki-bench-hot-reads"
CITY_BBOX = "106.68,-6.38,106.98,-6.08"


def _env(url: str) -> dict:
    env = {
        **os.environ,
        "JAKI_ENV": "development",
        "FLASK_APP": "wsgi.py",
        "DATABASE_URL": url,
        "JAKI_INSTANCE_DIR": INSTANCE,
        "JAKI_LOG_LEVEL": "WARNING",
        "JAKI_RATELIMIT_ENABLED": "0",
        "REDIS_URL": REDIS_URL,
        "JAKI_JOBS_BACKEND": "rq",
        "JAKI_ACCESS_TOKEN_SECONDS": "7200",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("RATELIMIT_STORAGE_URI", None)
    return env


def _url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _exists(name: str) -> bool:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL)
    with admin.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
    admin.dispose()
    return bool(found)


def _reports_in(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM reports")).scalar()
    except Exception:  # noqa: BLE001 - no schema yet
        return 0
    finally:
        engine.dispose()


def _seed_child(args: list[str], env: dict):
    out = subprocess.run(
        [sys.executable, "-m", "bench.reports_seed", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def ensure_database() -> dict:
    """bench_1m with at least REPORTS reports, at the migrations' head (kept between runs)."""
    from sqlalchemy import create_engine, text

    url = _url(DATABASE)
    env = _env(url)
    started = time.perf_counter()
    if _exists(DATABASE) and _reports_in(url) >= REPORTS:
        flask(["db", "upgrade", "heads"], env)  # a newer migration: applied in place, the rows stay
        return {"database": DATABASE, "reused": True, "seconds": round(time.perf_counter() - started, 1)}
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    flask(["db", "upgrade", "heads"], env)
    flask(["areas", "import", str(seed.AREAS_FILE)], env)
    app_data = _seed_child(["setup", str(USERS), str(TOKEN_USERS)], env)
    grown = seed.grow(url, REPORTS, seed.Places(), app_data, seed.utc_now())
    return {"database": DATABASE, "reused": False, "grow": grown, "seconds": round(time.perf_counter() - started, 1)}


if __name__ == "__main__" and sys.argv[1:] == ["seed"]:
    print(json.dumps(ensure_database()))
