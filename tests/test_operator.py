"""The README's Production section, done by an operator on an empty PostgreSQL and Redis: a city that works.

JAKI_ENV=production for real (gunicorn with two workers, `flask jobs worker`), with local stand-ins for the
outside world only: FCM, Dukcapil and the SMS gateway (tests/support/local_peers.py). Then Redis is stopped
and started again under it.
"""

from __future__ import annotations

import io
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from types import SimpleNamespace

import httpx
import pytest
from PIL import Image
from sqlalchemy import create_engine, make_url, text

from config import Config
from tests.support.gunicorn import ROOT, Gunicorn
from tests.support.local_peers import LocalPeers
from tests.support.production import production_env, run_flask
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.redis

CITIZEN_NIK, CITIZEN_PHONE, CITIZEN_PASSWORD = "3174054107900003", "+6281234567890", "Rahasia-Siti-2026!"
ADMIN = ("3171010101800103", "Admin-Jakarta-2026!")
OFFICER = ("3174051708850101", "Petugas-DBM-2026!")
METRICS_TOKEN = "scrape-token-for-the-operator-test"
DEVICE = "siti-phone-fcm-token-0001"
STAFF = ["users", "create-staff", "--nik"]
ADMIN_ARGS = [*STAFF, ADMIN[0], "--name", "Admin Kota", "--birth-date", "1980-01-01", "--phone", "081200000103"]
ADMIN_ARGS += ["--role", "admin"]
OFFICER_ARGS = [*STAFF, OFFICER[0], "--name", "Agus Prasetyo", "--birth-date", "1985-08-17", "--phone", "081200000101"]
OFFICER_ARGS += ["--role", "officer", "--agency", "DBM", "--area", "31.74.05"]
# The kelurahan unit verifies a report before the agency works it (issue 11).
LURAH = ("3174055203880102", "Petugas-Kelurahan-2026!")
LURAH_ARGS = [*STAFF, LURAH[0], "--name", "Rina Kartika", "--birth-date", "1988-03-12", "--phone", "081200000102"]
LURAH_ARGS += ["--role", "officer", "--agency", "KELURAHAN", "--area", "31.74.05.1002"]


def _wait_for(predicate, timeout: float = 40, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _scratch_database() -> tuple[str, object]:
    base = os.environ.get("TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        pytest.skip("the operator's sequence runs on PostgreSQL")
    url = make_url(base)
    name = f"{url.database}_operator"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return url.set(database=name).render_as_string(hide_password=False), admin


class Worker:
    """`flask jobs worker` as the README starts it, in its own process group (its job processes die with it)."""

    def __init__(self, env, log_path):
        self.env, self.log_path, self.process = env, log_path, None

    def start(self):
        self._log = open(self.log_path, "a")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "jobs", "worker"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.process = None
        if getattr(self, "_log", None):
            self._log.close()


@pytest.fixture(scope="module")
def city(app, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("operator")
    database_url, admin_engine = _scratch_database()
    redis = RedisServer().start()
    peers = LocalPeers().__enter__()
    peers.add_resident(CITIZEN_NIK, "Siti Rahayu", date(1990, 7, 1), "F", "3174050102100011", "31.74.05.1002")
    env = production_env(
        **peers.env(),
        DATABASE_URL=database_url,
        REDIS_URL=redis.url,
        JAKI_STORAGE_BACKEND="local",
        JAKI_S3_BUCKET=None,
        JAKI_STORAGE_LOCAL_ROOT=str(tmp / "media"),
        JAKI_INSTANCE_DIR=str(tmp / "instance"),
        JAKI_METRICS_TOKEN=METRICS_TOKEN,
        JAKI_ARGON2_MEMORY_KIB="8192",  # the machine is small and shared; the check does not care
    )
    gunicorn = worker = None
    try:
        # The README's bootstrap sequence, in order.
        steps = [
            (["db", "upgrade", "heads"], None),
            (["areas", "import", os.path.join(app.config["SHARED_DATA_DIR"], "jakarta_kelurahan.geojson")], None),
            (
                [
                    "areas",
                    "import-neighbours",
                    os.path.join(app.config["SHARED_DATA_DIR"], "jakarta_neighbours.geojson"),
                ],
                None,
            ),
            (["reference", "load"], None),
            ([*ADMIN_ARGS], f"{ADMIN[1]}\n{ADMIN[1]}\n"),  # the password is typed, twice, never an argument
            ([*OFFICER_ARGS], f"{OFFICER[1]}\n{OFFICER[1]}\n"),
            ([*LURAH_ARGS], f"{LURAH[1]}\n{LURAH[1]}\n"),
        ]
        outputs = []
        for args, stdin in steps:
            done = run_flask(args, env, timeout=120, input=stdin)
            assert done.returncode == 0, f"flask {' '.join(args)}: {done.stdout}{done.stderr}"
            outputs.append(done.stdout)
        gunicorn = Gunicorn(env, tmp / "gunicorn.log", workers=2)
        gunicorn.wait_ready("/readyz")
        worker = Worker(env, tmp / "worker.log")
        worker.start()
        yield SimpleNamespace(
            env=env,
            url=gunicorn.url,
            peers=peers,
            redis=redis,
            worker=worker,
            gunicorn=gunicorn,
            outputs=outputs,
            database_url=database_url,
        )
    finally:
        if worker is not None:
            worker.stop()
        if gunicorn is not None:
            gunicorn.stop()
        peers.__exit__(None, None, None)
        redis.stop()
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(database_url).database}" WITH (FORCE)'))
        admin_engine.dispose()


def _login(client, nik, password) -> dict:
    response = client.post("/api/v1/auth/login", json={"nik": nik, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _jpeg(color) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), color).save(buffer, "JPEG")
    return buffer.getvalue()


def _scene_jpeg(seed: int) -> bytes:
    """Random coloured blocks: a picture the perceptual hash has not seen (plain colours all hash alike)."""
    rng = random.Random(seed)
    image = Image.new("RGB", (320, 240))
    for x in range(0, 320, 40):
        for y in range(0, 240, 40):
            image.paste(tuple(rng.randrange(256) for _ in range(3)), (x, y, x + 40, y + 40))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    return buffer.getvalue()


def _file(client, headers, key, category="jalan_rusak", at=("-6.2710", "106.7770")):
    return client.post(
        "/api/v1/reports",
        headers={**headers, "Idempotency-Key": key},
        data={
            "category": category,
            "description": "Jalan berlubang besar di depan sekolah",
            "latitude": at[0],
            "longitude": at[1],
            "force": "true",
        },
        files={"photos": ("foto.jpg", _jpeg((120, 80, 60)), "image/jpeg")},
    )


def _citizen(city, client) -> dict:
    """Registration as a phone does it: Dukcapil checks the person, the OTP arrives by SMS."""
    response = client.post(
        "/api/v1/auth/register",
        json={
            "nik": CITIZEN_NIK,
            "full_name": "Siti Rahayu",
            "birth_date": "1990-07-01",
            "phone": CITIZEN_PHONE,
            "password": CITIZEN_PASSWORD,
        },
    )
    if response.status_code == 201:
        code = _wait_for(lambda: city.peers.last_otp(CITIZEN_PHONE), what="the OTP SMS")
        assert client.post("/api/v1/auth/otp/verify", json={"nik": CITIZEN_NIK, "code": code}).status_code == 200
    else:
        assert response.json()["code"] == "account_exists", response.text
    headers = _login(client, CITIZEN_NIK, CITIZEN_PASSWORD)
    assert client.post("/api/v1/me/devices", headers=headers, json={"token": DEVICE, "platform": "android"}).is_success
    return headers


def _pushed_bodies(city) -> list[str]:
    return [m["notification"]["body"] for m in city.peers.fcm.messages if DEVICE in (m.get("token"), m.get("fid"))]


def _move(client, headers, report_id, path, **body):
    etag = client.get(f"/api/v1/reports/{report_id}").headers["ETag"]
    response = client.post(path, headers={**headers, "If-Match": etag}, json=body or None)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_bootstrap_commands_say_what_they_did(city):
    _migrate, areas, neighbours, reference, admin, officer, lurah = city.outputs
    assert "267 kelurahan" in areas and neighbours.startswith("neighbour regions: 8 created")
    assert "52 offices (40 integrated with Satu Data)" in reference and "report categories: 10" in reference
    assert admin.startswith("created admin") and officer.startswith("created officer")
    assert lurah.startswith("created officer")
    refused = run_flask(["demo", "seed"], city.env)
    assert refused.returncode == 1 and "refuses to run with JAKI_ENV=production" in refused.stderr
    engine = create_engine(city.database_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 3  # the admin and the two officers only
        assert conn.execute(text("SELECT count(*) FROM residents")).scalar() == 0
    engine.dispose()


def test_a_report_is_filed_routed_resolved_and_its_notifications_delivered_by_the_worker(city):
    with httpx.Client(base_url=city.url, timeout=30) as client:
        citizen = _citizen(city, client)
        filed = _file(client, citizen, "operator-report-0001")
        assert filed.status_code == 201, filed.text
        report = filed.json()
        assert (report["kelurahan_code"], report["agency_code"], report["status"]) == (
            "31.74.05.1002",
            "DBM",
            "submitted",
        )
        rid = report["id"]
        officer = _login(client, *OFFICER)
        queue = client.get("/api/v1/officer/reports", headers=officer).json()["items"]
        assert rid in [item["id"] for item in queue]
        lurah = _login(client, *LURAH)
        _move(client, lurah, rid, f"/api/v1/reports/{rid}/transitions", to="verified")
        _move(client, officer, rid, f"/api/v1/officer/reports/{rid}/claim")
        started = _move(client, officer, rid, f"/api/v1/reports/{rid}/transitions", to="in_progress")
        # Issue 15: the evidence carries the capture token starting the work gave, its capture time and GPS fix;
        # the officer's "done" waits for the kelurahan unit's validation (the lurah) before it is Selesai.
        evidence = client.post(
            f"/api/v1/officer/reports/{rid}/evidence",
            headers=officer,
            data={
                "token": started["capture_token"]["token"],
                "captured_at": datetime.now(UTC).isoformat(),
                "latitude": "-6.27102",
                "longitude": "106.77703",
                "accuracy_m": "8",
            },
            files={"photos": ("sudah.jpg", _scene_jpeg(7), "image/jpeg")},
        )
        assert evidence.status_code == 201, evidence.text
        done = _move(
            client, officer, rid, f"/api/v1/reports/{rid}/transitions", to="awaiting_validation", note="Sudah ditambal."
        )
        assert done["status"] == "awaiting_validation"
        done = _move(client, lurah, rid, f"/api/v1/reports/{rid}/transitions", to="resolved")
        assert done["status"] == "resolved"

        reference = report["reference"]
        _wait_for(
            lambda: f"Laporan {reference} kini berstatus Selesai." in _pushed_bodies(city), what="the resolved push"
        )
        inbox = client.get("/api/v1/me/notifications", headers=citizen).json()["items"]
        assert any("Selesai" in item["body"] for item in inbox)
        assert _move(client, citizen, rid, f"/api/v1/reports/{rid}/transitions", to="closed")["status"] == "closed"

        assert client.get("/metrics").status_code == 403
        scraped = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
        assert 'jaki_push_total{kind="device",outcome="sent"}' in scraped
        assert 'jaki_rq_jobs{queue="jaki-notify",state="queued"}' in scraped


def test_redis_stopped_and_started_loses_nothing_and_public_reads_never_fail(city):
    with httpx.Client(base_url=city.url, timeout=30) as client:
        citizen = _citizen(city, client)
        filed = _file(client, citizen, "operator-report-0002", category="sampah", at=("-6.2380", "106.7700"))
        assert filed.status_code == 201, filed.text
        report = filed.json()
        rid = report["id"]
        admin = _login(client, *ADMIN)

        # Accepted just before the outage: the change is committed, its notification job waits in Redis...
        city.worker.stop()
        _move(client, admin, rid, f"/api/v1/reports/{rid}/transitions", to="verified")
        # ...and Redis goes away with it (no persistence: the queue is lost).
        city.redis.stop()

        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["failed"] == ["redis"]
        for path in (
            "/api/v1/reports",
            f"/api/v1/reports/{rid}",
            "/open311/v2/requests.json",
            "/open311/v2/services.xml",
        ):
            assert client.get(path).status_code == 200, path  # rate limits fall back to per-process memory
        # Access tokens are checked against each process's snapshot of recent revocations, good for
        # REVOCATION_CACHE_SECONDS (issue 17); once it is older and Redis cannot renew it, nothing is served.
        time.sleep(Config.REVOCATION_CACHE_SECONDS + 0.5)
        for language, message in (
            ("id", "Layanan sedang tidak tersedia. Silakan coba lagi."),
            ("en", "The service is unavailable. Please try again."),
        ):
            me = client.get("/api/v1/me", headers={**citizen, "Accept-Language": language})
            assert me.status_code == 503 and int(me.headers["Retry-After"]) > 0  # revocation cannot be checked
            assert me.json()["code"] == "service_unavailable" and me.json()["message"] == message
            assert me.json()["request_id"] == me.headers["X-Request-ID"]
        refused = _file(client, citizen, "operator-report-0003")
        assert refused.status_code == 503, refused.text

        city.redis.start()
        city.worker.start()
        reference = report["reference"]
        _wait_for(
            lambda: f"Laporan {reference} kini berstatus Koordinasi." in _pushed_bodies(city),
            what="the push accepted before the outage",
        )
        assert client.get("/api/v1/me", headers=citizen).status_code == 200
        mine = client.get("/api/v1/me/reports", headers=citizen).json()["items"]
        assert rid in [item["id"] for item in mine]
        assert len(mine) == 2  # this test's and the previous one's: the one refused during the outage is not there

    log = city.gunicorn.log_path.read_text()
    assert '"status": 500' not in log
