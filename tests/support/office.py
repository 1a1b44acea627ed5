"""A small office at once over HTTP: each user logs in, files reports and reads the feed, all in parallel threads.

Used by tests/test_embedded_concurrency.py, bench/scenario_embedded.py, and by hand against `make run`:
`python -m tests.support.office http://127.0.0.1:5000 PASSWORD NIK [NIK ...]`.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent.parent

# The schema (flask db upgrade), Jakarta's kelurahan (a report outside them is refused), the citizens and the report
# categories, committed into the embedded database.
_SEED = """
import json, sys
from pathlib import Path
from flask_migrate import upgrade
from jaki import create_app
from jaki.extensions import db
from jaki.geo.operations import import_areas
from tests.factories import make_user
from tests.reports.factories import seed_categories

people, password = int(sys.argv[1]), sys.argv[2]
app = create_app()
with app.app_context():
    upgrade(revision="heads")
    import_areas(Path(app.config["SHARED_DATA_DIR"]) / "jakarta_kelurahan.geojson")
    seed_categories()
    users = [make_user(password=password) for _ in range(people)]
    db.session.commit()
    print(json.dumps([u.nik for u in users]))
"""


@contextlib.contextmanager
def embedded_server(instance_dir: Path, people: int, password: str, **settings: str):
    """`make run`'s serving (flask run: Werkzeug, threaded) on a fresh embedded default (a SQLite file in
    instance_dir, jobs in-process, no Redis) with `people` citizens; yields (base URL, their NIKs, the log path).
    `settings` are JAKI_* environment variables (e.g. JAKI_ARGON2_TIME_COST="1")."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "JAKI_", "DATABASE_URL", "REDIS_URL"))}
    env.update(FLASK_APP="wsgi.py", JAKI_ENV="development", JAKI_INSTANCE_DIR=str(instance_dir), **settings)
    seeded = subprocess.run(  # noqa: S603 - our own fixed script
        [sys.executable, "-c", _SEED, str(people), password], cwd=ROOT, env=env, check=True, capture_output=True
    )
    niks = json.loads(seeded.stdout.decode().strip().splitlines()[-1])
    with flask_run(env, instance_dir) as (base, log_path):
        yield base, niks, log_path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def flask_run(env: dict, instance_dir: Path, port: int | None = None):
    """`flask run` (make run's Werkzeug server) with `env`, logging to instance_dir/server.log, until /healthz
    answers; yields (base URL, log path) and stops it afterwards."""
    port = port or free_port()
    log_path = instance_dir / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(  # noqa: S603 - fixed command, the port is ours
            [sys.executable, "-m", "flask", "run", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(base + "/healthz", timeout=1):  # noqa: S310 - our own http:// server
                        break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("server did not start: " + log_path.read_text()[-2000:]) from None
                    time.sleep(0.1)
            yield base, log_path
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(10)


@dataclass
class Result:
    statuses: Counter = field(default_factory=Counter)  # (method, route, status) -> count
    failures: list[str] = field(default_factory=list)  # the 5xx bodies
    latencies: list[float] = field(default_factory=list)
    by_route: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def count(self, method: str, route: str, status: int) -> int:
        return self.statuses[(method, route, status)]

    @property
    def server_errors(self) -> int:
        return sum(n for (_m, _r, status), n in self.statuses.items() if status >= 500)

    def summary(self) -> dict:
        return {
            "requests": self.requests,
            "5xx": self.server_errors,
            "seconds": round(self.seconds, 2),
            **_percentiles(self.latencies),
            "routes": {route: _percentiles(values) for route, values in sorted(self.by_route.items())},
        }


def _percentiles(values: list[float]) -> dict:
    ordered = sorted(values) or [0.0]
    return {
        "p50_ms": round(ordered[len(ordered) // 2] * 1000),
        "p95_ms": round(ordered[int(len(ordered) * 0.95)] * 1000),
        "max_ms": round(ordered[-1] * 1000),
    }


def _multipart(fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = "office" + uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()]
    return ("".join(parts) + f"--{boundary}--\r\n").encode(), f"multipart/form-data; boundary={boundary}"


def run(base_url: str, password: str, niks: list[str], *, rounds: int = 2, feed_reads: int = 3) -> Result:
    """Every NIK logs in at the same moment, then files `rounds` reports, reading the feed and its own reports
    after each. A login answered 500 is tried again (up to 5 times), as a person would."""
    url = urlsplit(base_url)
    result, lock = Result(), threading.Lock()
    barrier = threading.Barrier(len(niks))

    def call(route: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        with lock:
            result.statuses[(method, route, response.status)] += 1
            result.latencies.append(time.perf_counter() - started)
            result.by_route.setdefault(route, []).append(result.latencies[-1])
            if response.status >= 500:
                result.failures.append(f"{method} {path}: {response.status} {data[:300]!r}")
        return response.status, data

    def person(number: int, nik: str) -> None:
        barrier.wait()
        credentials = json.dumps({"nik": nik, "password": password}).encode()
        for _ in range(5):
            status, data = call(
                "login", "POST", "/api/v1/auth/login", credentials, {"Content-Type": "application/json"}
            )
            if status == 200:
                break
        else:
            return
        auth = {"Authorization": "Bearer " + json.loads(data)["access_token"]}
        for n in range(rounds):
            body, content_type = _multipart(
                {
                    "category": "jalan_rusak",
                    "description": f"Jalan berlubang di depan rumah nomor {number}-{n}",
                    "latitude": str(-6.2710 + number * 0.0005),
                    "longitude": str(106.7770 + n * 0.0005),
                    "force": "true",
                }
            )
            call("create report", "POST", "/api/v1/reports", body, {**auth, "Content-Type": content_type})
            for _ in range(feed_reads):
                call("feed", "GET", "/api/v1/reports?limit=20", headers=auth)
            call("my reports", "GET", "/api/v1/me/reports", headers=auth)

    threads = [threading.Thread(target=person, args=(n, nik)) for n, nik in enumerate(niks)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    result.seconds = time.perf_counter() - started
    return result


if __name__ == "__main__":
    office = run(sys.argv[1], sys.argv[2], sys.argv[3:])
    print(json.dumps(office.summary()))
    for key, count in sorted(office.statuses.items()):
        print(*key, count)
    for failure in office.failures[:10]:
        print(failure)
