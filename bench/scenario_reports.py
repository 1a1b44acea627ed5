"""Reports at 10k, 100k and 1M rows on PostgreSQL: nearby, viewport, feed, create and duplicate check via gunicorn."""

from __future__ import annotations

import io
import json
import math
import os
import random
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack

import httpx

from bench import reports_seed as seed
from bench.util import (
    ROOT,
    drop_pg_database,
    flask,
    fresh_pg_database,
    gunicorn,
    load,
    load_interleaved,
    snapshot_pg_database,
)

SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
SIZES = tuple(int(n) for n in os.environ.get("BENCH_REPORTS_SIZES", "10000,100000,1000000").split(","))
CONCURRENCY = int(os.environ.get("BENCH_REPORTS_CONCURRENCY", "4"))
ROUNDS = 5
WORKERS = 2
REDIS_URL = os.environ.get("BENCH_REPORTS_REDIS_URL", "redis://127.0.0.1:6379/6")
DATABASE = "bench_reports"
INSTANCE = "/tmp/jaki-rbench"
USERS = 2000  # reporters of the seeded reports
# Citizens who file during the runs: the daily cap is 20 a reporter; each size's database gets ~1,500 reports.
TOKEN_USERS = 400
MAX_REQUESTS = 20_000  # per load run: a bound even if the machine is much faster than expected
# viewport is a street-level box with the default pin limit (200): pins while it holds at most that many reports,
# clusters per map tile above it. viewport_50 asks for at most 50 pins; viewport_city is all of Jakarta, the
# app's opening map.
SCENARIOS = ("healthz", "nearby", "viewport", "viewport_50", "viewport_city", "feed", "create", "duplicate_check")
CITY_BBOX = "106.68,-6.38,106.98,-6.08"


def _env() -> dict:
    env = {
        **os.environ,
        "JAKI_ENV": "development",
        "FLASK_APP": "wsgi.py",
        "JAKI_INSTANCE_DIR": INSTANCE,
        "JAKI_LOG_LEVEL": "WARNING",
        "JAKI_RATELIMIT_ENABLED": "0",
        "REDIS_URL": REDIS_URL,
        # As in production: work after a commit (outbox relay, thumbnails) is enqueued on Redis; no worker
        # runs during the bench, so a request pays the enqueue only.
        "JAKI_JOBS_BACKEND": "rq",
        # Tokens are minted once before the runs, which take longer than the default 15 minutes.
        "JAKI_ACCESS_TOKEN_SECONDS": "7200",
    }
    env.pop("RATELIMIT_STORAGE_URI", None)
    return env


def _child(args: list[str], env: dict):
    out = subprocess.run(
        [sys.executable, "-m", "bench.reports_seed", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


# ---- request mixes --------------------------------------------------------------------------------------


def _box(rng: random.Random, lat: float, lon: float) -> tuple[float, float, float, float]:
    """A street-level map viewport: 1-2 km a side, around the point."""
    h = rng.uniform(1000, 2000) / seed.M_PER_DEG
    w = rng.uniform(1000, 2000) / (seed.M_PER_DEG * math.cos(math.radians(lat)))
    return lat - h / 2, lon - w / 2, lat + h / 2, lon + w / 2


class Requests:
    """The request functions the load driver calls, with their inputs prepared ahead (bounded, deterministic)."""

    def __init__(self, base: str, places: seed.Places, app_data: dict, duplicates: list[dict]):
        rng = random.Random(seed.SEED + 1)  # the same points and boxes at every size
        self.base = base
        self.points = [places.point(rng, mainland=True) for _ in range(2000)]
        self.radii = [rng.uniform(500, 1000) for _ in self.points]
        self.boxes = [_box(rng, lat, lon) for lat, lon in self.points]
        self.categories = [c["code"] for c in app_data["categories"]]
        self.tokens = app_data["tokens"]
        self.duplicates = duplicates
        self.returned: dict[str, list[int]] = {"nearby": []}
        self.statuses: dict[str, dict[int, int]] = {}
        self.cursors: dict[str | None, str] = {}
        self._photo = _jpeg()

    def _count(self, name: str, status: int) -> None:
        counts = self.statuses.setdefault(name, {})
        counts[status] = counts.get(status, 0) + 1

    def healthz(self, client: httpx.Client, i: int) -> bool:
        return client.get(f"{self.base}/healthz").status_code == 200

    def nearby(self, client: httpx.Client, i: int) -> bool:
        lat, lon = self.points[i % len(self.points)]
        response = client.get(
            f"{self.base}/api/v1/reports/nearby",
            params={"lat": lat, "lon": lon, "radius": round(self.radii[i % len(self.radii)])},
        )
        self._count("nearby", response.status_code)
        if response.status_code != 200:
            return False
        self.returned["nearby"].append(len(response.json()["items"]))
        return True

    def viewport(self, client: httpx.Client, i: int, name: str = "viewport", **extra) -> bool:
        min_lat, min_lon, max_lat, max_lon = self.boxes[i % len(self.boxes)]
        params = {"bbox": f"{min_lon:.6f},{min_lat:.6f},{max_lon:.6f},{max_lat:.6f}", **extra}
        response = client.get(f"{self.base}/api/v1/reports/map", params=params)
        self._count(name, response.status_code)
        if response.status_code != 200:
            return False
        body = response.json()
        self.returned.setdefault(f"{name}_features", []).append(len(body["features"]))
        self.returned.setdefault(f"{name}_clustered", []).append(int(body["clustered"]))
        self.returned.setdefault(f"{name}_total", []).append(body["total"])
        return True

    def viewport_50(self, client: httpx.Client, i: int) -> bool:
        return self.viewport(client, i, name="viewport_50", limit=50)

    def viewport_city(self, client: httpx.Client, i: int) -> bool:
        extra = {"category": self.categories[i % len(self.categories)]} if i % 2 else {}
        return self.viewport(client, i, name="viewport_city", bbox=CITY_BBOX, **extra)

    def prepare_feed(self, client: httpx.Client) -> None:
        """Page-2 cursors for the plain feed and each category (taken once: keyset cursors stay valid)."""
        for category in (None, *self.categories):
            params = {"limit": 20, **({"category": category} if category else {})}
            body = client.get(f"{self.base}/api/v1/reports", params=params).json()
            if body.get("next_cursor"):
                self.cursors[category] = body["next_cursor"]

    def feed(self, client: httpx.Client, i: int) -> bool:
        """First page and keyset page 2, half of them filtered by a category."""
        category = self.categories[(i // 4) % len(self.categories)] if i % 2 else None
        params = {"limit": 20, **({"category": category} if category else {})}
        if (i // 2) % 2 and category in self.cursors:
            params["cursor"] = self.cursors[category]
        response = client.get(f"{self.base}/api/v1/reports", params=params)
        self._count("feed", response.status_code)
        return response.status_code == 200

    def _token(self, i: int) -> dict:
        return {"Authorization": f"Bearer {self.tokens[i % len(self.tokens)]}"}

    def create(self, client: httpx.Client, i: int, photo: bool = False) -> bool:
        """File a new report (force=true: the duplicate check is measured apart) as one of many citizens."""
        lat, lon = self.points[(i * 7 + 3) % len(self.points)]
        category = self.categories[i % len(self.categories)]
        form = {
            "category": category,
            "description": f"{seed.DESCRIPTIONS[category]} (bench {i})",
            "latitude": str(lat),
            "longitude": str(lon),
            "address": "Jl. Bench",
            "force": "true",
        }
        files = [("photos", ("foto.jpg", self._photo, "image/jpeg"))] if photo else None
        response = client.post(
            f"{self.base}/api/v1/reports",
            data=form,
            files=files,
            headers={**self._token(i), "Idempotency-Key": f"bench-{uuid.uuid4().hex}"},
        )
        self._count("create_photo" if photo else "create", response.status_code)
        return response.status_code == 201

    def create_photo(self, client: httpx.Client, i: int) -> bool:
        return self.create(client, i + 100_000, photo=True)

    def duplicate_check(self, client: httpx.Client, i: int) -> bool:
        """Re-file at an open report's place in its category: the answer must be 409 duplicate_nearby."""
        dup = self.duplicates[i % len(self.duplicates)]
        form = {
            "category": dup["category_code"],
            "description": "Masalah yang sama di sini (bench)",
            "latitude": str(dup["latitude"]),
            "longitude": str(dup["longitude"]),
        }
        response = client.post(f"{self.base}/api/v1/reports", data=form, headers=self._token(i))
        self._count("duplicate_check", response.status_code)
        return response.status_code == 409 and response.json().get("code") == "duplicate_nearby"

    def shapes(self) -> dict:
        def mean(values):
            return round(sum(values) / len(values), 1) if values else None

        return {
            "nearby_items_mean": mean(self.returned["nearby"]),
            **{
                f"{name}_{what}_mean": mean(self.returned.get(f"{name}_{what}", []))
                for name in ("viewport", "viewport_50", "viewport_city")
                for what in ("features", "clustered", "total")
            },
            "status_codes": {k: {str(s): n for s, n in v.items()} for k, v in self.statuses.items()},
        }


def _jpeg() -> bytes:
    """A 1024x768 JPEG (a smooth gradient, about 25 kB: lighter than a phone photo, same decode and re-encode)."""
    from PIL import Image

    image = Image.linear_gradient("L").resize((1024, 768)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


# ---- all sizes side by side -----------------------------------------------------------------------------


def _explain(env: dict, url: str, places: seed.Places, duplicates: list[dict]) -> dict:
    rng = random.Random(seed.SEED)
    lat, lon = places.point(rng, mainland=True)
    samples = {
        "point": [lat, lon],
        "radius_m": 800,
        "box": list(_box(rng, lat, lon)),
        "category": "sampah",
        "duplicate": duplicates[0],
    }
    return _child(["explain", json.dumps(samples)], {**env, "DATABASE_URL": url})


def measure(env: dict, urls: dict[int, str], places: seed.Places, app_data: dict) -> dict[int, dict]:
    """Every size served by its own gunicorn at once; each scenario's load goes round the sizes in turns."""
    results: dict[int, dict] = {size: {} for size in urls}
    reqs: dict[int, Requests] = {}
    with ExitStack() as stack:
        for size, url in urls.items():
            duplicates = seed.sample_open_reports(url, 500)
            results[size]["explain"] = _explain(env, url, places, duplicates)
            base = stack.enter_context(gunicorn({**env, "DATABASE_URL": url}, workers=WORKERS))
            reqs[size] = Requests(base, places, app_data, duplicates)
            with httpx.Client(timeout=30) as client:
                reqs[size].prepare_feed(client)
        load_before = [round(v, 2) for v in os.getloadavg()]
        for name in SCENARIOS:
            if name != "create":  # warm caches and connections; creating is not repeated for nothing
                for req in reqs.values():
                    load(getattr(req, name), concurrency=CONCURRENCY, seconds=1.0, max_requests=100)
            out = load_interleaved(
                {str(size): getattr(req, name) for size, req in reqs.items()},
                concurrency=CONCURRENCY,
                seconds=SECONDS,
                rounds=ROUNDS,
                max_requests=MAX_REQUESTS,
            )
            for size in reqs:
                results[size][name] = out[str(size)]
        out = load_interleaved(
            {str(size): req.create_photo for size, req in reqs.items()},
            concurrency=2,
            seconds=min(5.0, SECONDS),
            rounds=1,
            max_requests=25,
        )
        load_after = [round(v, 2) for v in os.getloadavg()]
        for size, req in reqs.items():
            results[size]["create_with_photo"] = out[str(size)]
            results[size]["responses"] = req.shapes()
            results[size]["load_average_before_after"] = [load_before, load_after]
    return results


def _server_settings(url: str) -> dict:
    """PostgreSQL's memory settings and the database's size: at a million reports the database outgrows the
    default 128 MB buffer cache, and whether it is read from memory or disk decides latency more than any query."""
    import psycopg

    with psycopg.connect(seed.psycopg_url(url)) as conn:
        settings = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]
            for name in ("server_version", "shared_buffers", "effective_cache_size", "work_mem")
        }
        settings["database_size"] = conn.execute(
            "SELECT pg_size_pretty(pg_database_size(current_database()))"
        ).fetchone()[0]
    return settings


def _ratios(by_size: dict) -> dict:
    small, large = by_size[min(by_size)], by_size[max(by_size)]
    out = {}
    for name in (*SCENARIOS, "create_with_photo"):
        a, b = small.get(name, {}).get("p50_ms"), large.get(name, {}).get("p50_ms")
        if a and b:
            out[name] = {
                "p50": round(b / a, 2),
                "p99": round(large[name]["p99_ms"] / small[name]["p99_ms"], 2),
                "within_1_5": b / a <= 1.5,
            }
    return out


def run() -> dict:
    url = fresh_pg_database(DATABASE)
    if url is None:
        raise RuntimeError("the reports bench needs PostgreSQL (COPY seeding and EXPLAIN ANALYZE)")
    env = _env()
    env["DATABASE_URL"] = url
    _flush_redis()
    started = time.perf_counter()
    flask(["db", "upgrade", "heads"], env)
    flask(["areas", "import", str(seed.AREAS_FILE)], env)
    app_data = _child(["setup", str(USERS), str(TOKEN_USERS)], env)
    places = seed.Places()
    now = seed.utc_now()
    setup_seconds = round(time.perf_counter() - started, 1)

    # One database grows 10k -> 100k -> 1M; each smaller step is kept as a copy so that all sizes can be
    # measured side by side, under the same background load (this machine is shared).
    seeding: dict[int, dict] = {}
    urls: dict[int, str] = {}
    try:
        for size in sorted(SIZES):
            seeding[size] = seed.grow(url, size, places, app_data, now)
            urls[size] = url if size == max(SIZES) else snapshot_pg_database(url, f"{DATABASE}_{size}")
        by_size = measure(env, urls, places, app_data)
    finally:
        _flush_redis()
        for copy in urls.values():
            if copy != url:
                drop_pg_database(copy.rsplit("/", 1)[1])

    summary = {
        str(size): {
            "healthz_ceiling_rps": r["healthz"]["throughput_rps"],
            **{
                name: {k: r[name][k] for k in ("throughput_rps", "p50_ms", "p99_ms", "errors")}
                for name in (*SCENARIOS[1:], "create_with_photo")
            },
        }
        for size, r in by_size.items()
    }
    return {
        "database": "postgresql",
        "server": _server_settings(url),
        "setup": {"migrate_areas_users_seconds": setup_seconds, "grow": {str(k): v for k, v in seeding.items()}},
        "load": {
            "gunicorn_workers_per_size": WORKERS,
            "gunicorn_worker_class": "sync",
            "concurrency": CONCURRENCY,
            "seconds_per_scenario_and_size": SECONDS,
            "interleaved_rounds": ROUNDS,
            "rate_limits": "off",
            "jobs": "rq on Redis, no worker running",
            "cpus": os.cpu_count(),
        },
        "note": (
            "One database grown 10k -> 100k -> 1M (COPY, then VACUUM ANALYZE), the smaller steps kept as copies; "
            "each size has its own gunicorn (2 sync workers) and every scenario's load takes turns between the "
            "sizes in short rounds, so the background load of this shared 2-core machine (gunicorn, "
            "PostgreSQL, this load driver and other engineers' processes) falls on all sizes alike. Latencies "
            "include queueing for a worker (concurrency 4 on 2 workers). A viewport holding more matching reports "
            "than its pin limit (200 by default, 50 for viewport_50) is answered with clusters per map tile; "
            "responses shows the share of clustered answers, features and reports counted at each size. "
            "viewport_city is the whole of Jakarta, half of the requests filtered by a category. `server` "
            "records PostgreSQL's buffer cache: the 1M database (about 1.3 GB) outgrows the default 128 MB, and "
            "this VM pages the OS file cache out within seconds (DAMON), so with the default the 1M rows come "
            "from disk and its latencies measure the disk rather than the queries."
        ),
        "summary": summary,
        "ratio_1m_to_10k": _ratios(by_size),
        "sizes": {str(size): r for size, r in by_size.items()},
    }
