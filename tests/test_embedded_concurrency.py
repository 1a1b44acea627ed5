"""The embedded default holds a small office: twenty people at once against `flask run` on a SQLite file, no 500."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support import office

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = 20  # more than a dozen, and more than the 15 connections a bounded pool would give them
PASSWORD = "kantor-kecil-jakarta-2026"

# The schema (flask db upgrade), the citizens and the report categories, committed into the embedded database.
SEED = f"""
import json
from flask_migrate import upgrade
from jaki import create_app
from jaki.extensions import db
from tests.factories import make_user
from tests.reports.factories import seed_categories

app = create_app()
with app.app_context():
    upgrade(revision="heads")
    seed_categories()
    users = [make_user(password={PASSWORD!r}) for _ in range({PEOPLE})]
    db.session.commit()
    print(json.dumps([u.nik for u in users]))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def embedded_server(tmp_path):
    """`make run`'s serving (flask run: Werkzeug, threaded) on a fresh embedded default in tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "JAKI_", "DATABASE_URL", "REDIS_URL"))}
    env.update(
        FLASK_APP="wsgi.py",
        JAKI_ENV="development",
        JAKI_INSTANCE_DIR=str(tmp_path),
        # Cheap password hashing: the subject is the database under concurrency, not argon2 on two cores.
        JAKI_ARGON2_TIME_COST="1",
        JAKI_ARGON2_MEMORY_KIB="1024",
        JAKI_REPORTS_CREATE_RATE="1000 per minute",
        JAKI_LOG_LEVEL="WARNING",
    )
    flask = [sys.executable, "-m", "flask"]
    seeded = subprocess.run(  # noqa: S603 - our own fixed script
        [sys.executable, "-c", SEED], cwd=ROOT, env=env, check=True, capture_output=True
    )
    niks = json.loads(seeded.stdout.decode().strip().splitlines()[-1])
    port = _free_port()
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(  # noqa: S603 - fixed command, the port is ours
        [*flask, "run", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=log
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
                    raise
                time.sleep(0.1)
        yield base, niks, tmp_path / "server.log"
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        log.close()


@pytest.mark.slow
def test_twenty_people_at_once_on_sqlite_get_no_500(embedded_server):
    base, niks, log_path = embedded_server
    result = office.run(base, PASSWORD, niks, rounds=2, feed_reads=3)
    errors = [line for line in log_path.read_text().splitlines() if "database is locked" in line]
    assert result.server_errors == 0, (result.summary(), result.failures[:5], errors[:3])
    assert errors == []
    assert result.count("POST", "login", 200) == PEOPLE
    assert result.count("POST", "create report", 201) == PEOPLE * 2
    assert result.count("GET", "feed", 200) == PEOPLE * 2 * 3
    assert result.count("GET", "my reports", 200) == PEOPLE * 2
    assert result.requests == PEOPLE * (1 + 2 * 5)
