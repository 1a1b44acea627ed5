"""Faults against real processes: a worker killed mid-job, Redis stopped and started again."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis as redis_lib
from redis.backoff import ExponentialBackoff
from redis.retry import Retry
from rq import SimpleWorker
from sqlalchemy import select, text

from jaki import jobs
from jaki.events import OutboxEvent
from jaki.extensions import db
from jaki.notifications import tasks
from jaki.notifications.models import Notification
from jaki.schedule import Periodic, Scheduler
from tests.notifications.conftest import target, wait_for
from tests.support.fcm_stub import FcmStub

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]
KILLED_APP_NAME = "jaki-killed-worker"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_worker(stub: FcmStub, database_url: str) -> subprocess.Popen:
    """`flask jobs worker --burst` in its own process group (the forked job process dies with it)."""
    separator = "&" if "?" in database_url else "?"
    env = {
        **os.environ,
        "JAKI_ENV": "testing",
        "FLASK_APP": "wsgi.py",
        "TEST_DATABASE_URL": f"{database_url}{separator}application_name={KILLED_APP_NAME}",
        "JAKI_PUSH_BACKEND": "fcm",
        "JAKI_FCM_PROJECT_ID": "jaki-test",
        "JAKI_FCM_URL": stub.send_url,
        "JAKI_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "flask", "jobs", "worker", "--burst", "--queue", jobs.Queues.NOTIFY]
    return subprocess.Popen(  # noqa: S603 - fixed command
        command,
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _waiting_on_a_lock() -> int:
    # A fresh connection each time: statistics views are snapshotted once per transaction.
    with db.engine.connect() as probe:
        return probe.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name AND wait_event_type = 'Lock'"),
            {"name": KILLED_APP_NAME},
        ).scalar()


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill(process: subprocess.Popen) -> None:
    """SIGKILL the worker and its job process, as when the machine dies (rq puts the job process in its own
    process group, so killing the worker's group alone would leave the job running)."""
    for pid in [*_descendants(process.pid), process.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(10)


def _notification(committed, token: str) -> str:
    user = committed.user()
    committed.device(user, token)
    row = Notification(
        recipient_id=user.id, type="report.created", title="Laporan diterima", body="Laporan telah tercatat.", data={}
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def _retry_now(app, notify_config):
    """What happens after a crash: the sweeper finds the row, a worker runs its job again."""
    notify_config(NOTIFY_SWEEP_GRACE_SECONDS=0)
    tasks.sweep()
    SimpleWorker(list(jobs.Queues.ALL), connection=app.extensions["jaki.redis"]).work(burst=True)
    db.session.rollback()


@pytest.fixture
def postgres_url(app):
    with app.app_context():
        url = db.engine.url
    if url.get_backend_name() != "postgresql":
        pytest.skip("kills a worker waiting on a PostgreSQL row lock")
    return url.render_as_string(hide_password=False)


def test_a_worker_killed_before_sending_leaves_it_delivered_once_after_retry(
    app, committed, stub, fcm, postgres_url, monkeypatch, notify_config
):
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "rq")
    row_id = _notification(committed, "device-kill-before")
    assert tasks.enqueue_delivery(row_id)

    # Hold the row so the worker's job stops at its claim, mid-job; then kill the worker and its job process.
    with db.engine.connect() as blocker:
        blocker.execute(text("SELECT id FROM notifications WHERE id = :id FOR UPDATE"), {"id": row_id})
        worker = _start_worker(stub, postgres_url)
        try:
            wait_for(lambda: _waiting_on_a_lock(), timeout=30)
        finally:
            _kill(worker)
        blocker.rollback()
    with db.engine.connect() as admin:
        # Its server process would notice the dead client only at its next write; end it now.
        admin.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :n"),
            {"n": KILLED_APP_NAME},
        )
        admin.commit()

    row = db.session.get(Notification, row_id)
    assert (row.status, row.attempts) == ("created", 0) and stub.requests_count == 0

    _retry_now(app, notify_config)

    row = db.session.get(Notification, row_id)
    assert (row.status, row.attempts, row.push_sent) == ("sent", 1, 1)
    assert stub.attempts["device-kill-before"] == 1 and len(stub.messages) == 1


def test_a_worker_killed_during_the_fcm_call_is_not_sent_twice(
    app, committed, postgres_url, monkeypatch, notify_config
):
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "rq")
    with FcmStub(latency=2.0) as slow:
        from jaki.notifications.push import FcmPushSender

        with FcmPushSender("jaki-test", fcm_url=slow.send_url) as sender:
            monkeypatch.setitem(app.extensions, "jaki.push_sender", sender)
            row_id = _notification(committed, "device-kill-during")
            assert tasks.enqueue_delivery(row_id)
            worker = _start_worker(slow, postgres_url)
            try:
                wait_for(lambda: slow.requests_count >= 1, timeout=30)  # the send is in flight
            finally:
                _kill(worker)
            wait_for(lambda: slow.sent_count == 1)  # FCM accepted it although the worker is gone

            db.session.rollback()
            row = db.session.get(Notification, row_id)
            assert row.status == "sending" and row.attempts == 1

            notify_config(NOTIFY_SENDING_LEASE_SECONDS=0.5)
            time.sleep(0.6)
            _retry_now(app, notify_config)

            row = db.session.get(Notification, row_id)
            assert row.status == "sent" and row.last_error.startswith("unconfirmed")
            assert slow.attempts["device-kill-during"] == 1 and slow.sent_count == 1


@pytest.fixture
def own_redis(app, monkeypatch):
    """A redis-server of our own on a spare port, so stopping it leaves the machine's shared one alone."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()

    class Server:
        process: subprocess.Popen | None = None

        def start(self):
            self.process = subprocess.Popen(  # noqa: S603 - fixed command, the port is ours
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            probe = redis_lib.Redis(port=port)
            wait_for(lambda: _pings(probe))

        def stop(self):
            if self.process is not None:
                self.process.terminate()
                self.process.wait(10)
                self.process = None

    server = Server()
    server.start()
    client = redis_lib.Redis(
        host="127.0.0.1",
        port=port,
        socket_connect_timeout=0.5,
        socket_timeout=2,
        retry=Retry(ExponentialBackoff(cap=0.05, base=0.01), 2),
    )
    monkeypatch.setitem(app.extensions, "jaki.redis", client)
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "rq")
    try:
        yield server
    finally:
        server.stop()


def _pings(client) -> bool:
    try:
        return client.ping()
    except redis_lib.RedisError:
        return False


def test_redis_stopped_and_started_again_loses_no_event(app, committed, stub, fcm, own_redis, notify_config):
    notify_config(NOTIFY_SWEEP_GRACE_SECONDS=0)
    user = committed.user()
    committed.device(user, "device-outage")

    def work():
        SimpleWorker(list(jobs.Queues.ALL), connection=app.extensions["jaki.redis"]).work(burst=True)
        db.session.rollback()

    committed.event("report.created", [user.id], aggregate_id="before")
    work()
    assert len(stub.messages) == 1

    own_redis.stop()
    # Events keep being committed: the business transaction never depends on Redis.
    committed.event("report.created", [user.id], aggregate_id="relayed-during-outage")
    assert tasks.relay_outbox() == 1  # rows written; their jobs could not be enqueued
    committed.event("report.created", [user.id], aggregate_id="waiting-in-outbox")
    pending = db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.id >= committed.first_event_id, OutboxEvent.relayed_at.is_(None))
    ).all()
    assert [e.aggregate_id for e in pending] == ["waiting-in-outbox"]
    assert len(stub.messages) == 1

    own_redis.start()  # empty: whatever was in Redis before is gone too
    scheduler = Scheduler(
        (
            Periodic("jaki.notifications.tasks.relay_outbox", every=15, queue=jobs.Queues.DEFAULT),
            Periodic("jaki.notifications.tasks.sweep", every=60),
        )
    )
    assert len(scheduler.tick()) == 2
    work()
    work()  # the sweeper's and the relay's deliveries

    rows = db.session.scalars(select(Notification).where(Notification.recipient_id == user.id)).all()
    assert len(rows) == 3 and {r.status for r in rows} == {"sent"}
    assert sorted(m["data"]["notification_id"] for m in stub.messages) == sorted(r.id for r in rows)
    assert {target(m) for m in stub.messages} == {"device-outage"}
    assert (
        db.session.scalar(
            select(OutboxEvent.id).where(OutboxEvent.id >= committed.first_event_id, OutboxEvent.relayed_at.is_(None))
        )
        is None
    )
