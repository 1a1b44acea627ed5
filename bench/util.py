"""Shared bench helpers: start gunicorn on 127.0.0.1, drive bounded concurrent load, summarise latencies."""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_pg_database(name: str) -> str | None:
    """Drop and create a PostgreSQL database for a bench run; None if PostgreSQL is not reachable."""
    from sqlalchemy import create_engine, text

    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:  # noqa: BLE001 - the bench falls back to SQLite and says so
        print(f"PostgreSQL unavailable for bench ({type(exc).__name__}); using SQLite", flush=True)
        return None
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def flask(args: list[str], env: dict) -> None:
    subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


@contextmanager
def gunicorn(
    env: dict,
    workers: int,
    threads: int = 1,
    port: int | None = None,
    app: str = "wsgi:app",
    worker_class: str | None = None,
):
    port = port or free_port()
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--log-level",
        "warning",
        "--graceful-timeout",
        "2",
    ]
    if worker_class:
        cmd += ["--worker-class", worker_class]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start: " + proc.stderr.read(4000).decode(errors="replace"))
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def load(
    request: Callable[[httpx.Client, int], bool], *, concurrency: int, seconds: float, max_requests: int = 1_000_000
) -> dict:
    """Run `request(client, i)` from `concurrency` threads for `seconds` (bounded); return throughput and latency."""
    latencies, errors, elapsed = _drive(request, iter(range(max_requests)), concurrency, seconds)
    return summarise(latencies, elapsed, errors, concurrency)


def summarise(latencies: list[float], elapsed: float, errors: int, concurrency: int) -> dict:
    ordered = sorted(latencies)

    def pct(p):
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 2) if ordered else None

    return {
        "requests": len(ordered),
        "errors": errors,
        "concurrency": concurrency,
        "seconds": round(elapsed, 2),
        "throughput_rps": round(len(ordered) / elapsed, 1) if elapsed else None,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2) if ordered else None,
    }


def snapshot_pg_database(source_url: str, name: str, attempts: int = 10) -> str:
    """A copy of a bench database as it is now (CREATE DATABASE ... TEMPLATE); returns its URL.

    The copy needs the source to have no sessions: a retry waits out one that is just closing (autovacuum).
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    source = source_url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            for attempt in range(attempts):
                try:
                    conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
                    break
                except OperationalError:
                    if attempt == attempts - 1:
                        raise
                    time.sleep(1)
    finally:
        admin.dispose()
    return source_url.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _drive(
    request: Callable[[httpx.Client, int], bool], counter, concurrency: int, seconds: float
) -> tuple[list[float], int, float]:
    """One bounded burst of `request` from `concurrency` threads: (latencies, errors, elapsed)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker():
        nonlocal errors
        local, local_errors = [], 0
        with httpx.Client(timeout=30) as client:
            while time.perf_counter() < stop_at:
                try:
                    i = next(counter)
                except StopIteration:
                    break
                started = time.perf_counter()
                try:
                    ok = request(client, i)
                except httpx.HTTPError:
                    ok = False
                local.append(time.perf_counter() - started)
                local_errors += 0 if ok else 1
        with lock:
            latencies.extend(local)
            errors += local_errors

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.perf_counter() - began


def load_interleaved(
    requests: dict[str, Callable[[httpx.Client, int], bool]],
    *,
    concurrency: int,
    seconds: float,
    rounds: int = 4,
    max_requests: int = 1_000_000,
) -> dict[str, dict]:
    """load() for several targets taking turns: `rounds` slices of seconds/rounds each, in rotating order, so that
    a shared machine's changing background load falls on every target alike. One summary per target."""
    names = list(requests)
    counters = {name: iter(range(max_requests)) for name in names}
    totals = {name: ([], [0], [0.0]) for name in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            latencies, errors, elapsed = _drive(requests[name], counters[name], concurrency, seconds / rounds)
            all_latencies, all_errors, all_elapsed = totals[name]
            all_latencies.extend(latencies)
            all_errors[0] += errors
            all_elapsed[0] += elapsed
    return {name: summarise(lat, elapsed[0], errors[0], concurrency) for name, (lat, errors, elapsed) in totals.items()}


def cpu_seconds_by_process() -> dict[str, tuple[str, float]]:
    """Every process's CPU time so far (user + system, from /proc), by pid, with a group name: gunicorn,
    postgres, redis, jobs worker (rq), fast_stub (the bench's FCM stub), this bench, or other. Linux only; {}
    elsewhere."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    me = str(os.getpid())
    found: dict[str, tuple[str, float]] = {}
    for pid in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as stat, open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                fields = stat.read().rsplit(")", 1)[1].split()
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # ended while being read
            continue
        group = "bench" if pid == me else "other"
        for name in ("gunicorn", "postgres", "redis", "jobs worker", "fast_stub"):
            if name in command:
                group = name
                break
        found[pid] = (group, (int(fields[11]) + int(fields[12])) / tick)
    return found


def cpu_ms_per(count: int, before: dict, after: dict) -> dict[str, float]:
    """CPU milliseconds per unit of work, by process group, between two cpu_seconds_by_process() readings."""
    groups: dict[str, float] = {}
    for pid, (group, seconds) in after.items():
        groups[group] = groups.get(group, 0.0) + seconds - before.get(pid, (group, 0.0))[1]
    return {group: round(seconds / count * 1000, 1) for group, seconds in sorted(groups.items()) if count}


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat; (0, 0) elsewhere."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
    except OSError:
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields) - idle) / tick, sum(fields) / tick
