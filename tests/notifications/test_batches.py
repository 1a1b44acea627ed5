"""Pushes in batches: one claim, one device query and one outcome write per batch, paced by a shared quota."""

from __future__ import annotations

import random
import threading

import pytest
import redis as redis_lib
from sqlalchemy import event, select

from jaki.extensions import db
from jaki.notifications import delivery, tasks
from jaki.notifications.models import Notification
from jaki.notifications.quota import LocalBucket, Quota, RedisBucket, bucket_shape
from tests.notifications.conftest import target


def _rows(committed, count: int, prefix: str) -> list[str]:
    ids = []
    for n in range(count):
        user = committed.user()
        committed.device(user, f"{prefix}-{n}")
        row = Notification(recipient_id=user.id, type="report.created", title="Laporan diterima", body="b", data={})
        db.session.add(row)
        db.session.commit()
        ids.append(row.id)
    return ids


class Statements:
    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, *args):
        self.count += 1


def test_a_batch_costs_the_same_statements_whatever_its_size(app, committed, stub, fcm):
    small, large = _rows(committed, 3, "few"), _rows(committed, 12, "many")
    counts = []
    for ids in (small, large):
        with Statements(db.engine) as statements:
            results = delivery.send_notifications(ids)
        assert {r.outcome for r in results.values()} == {"sent"}
        counts.append(statements.count)
    assert counts[0] == counts[1]  # claim, devices, outcomes (+ session bookkeeping): not one per row
    assert len(stub.messages) == 15


def test_overlapping_batches_run_at_once_send_each_device_once(app, committed, stub, fcm):
    ids = _rows(committed, 30, "overlap")
    errors = []
    barrier = threading.Barrier(4)

    def run():
        mine = random.sample(ids, 20)
        with app.app_context():
            try:
                barrier.wait()
                delivery.send_notifications(mine)
                delivery.send_notifications(ids)  # what a retried or duplicated job would do
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    db.session.rollback()
    statuses = db.session.scalars(select(Notification.status).where(Notification.id.in_(ids))).all()
    assert statuses == ["sent"] * 30
    assert sorted(target(m) for m in stub.messages) == sorted(f"overlap-{n}" for n in range(30))
    assert set(stub.attempts.values()) == {1}


def test_the_relay_enqueues_one_job_per_batch(app, ctx, monkeypatch, notify_config):
    notify_config(NOTIFY_DELIVERY_BATCH=4)
    jobs = []
    monkeypatch.setattr(tasks, "enqueue_safely", lambda func, *args, **options: jobs.append((func, args)) or True)
    assert tasks.enqueue_deliveries([f"n-{n}" for n in range(10)])
    assert [(func, len(args[0])) for func, args in jobs] == [(tasks.deliver_notifications, n) for n in (4, 4, 2)]


def test_the_bucket_never_passes_more_than_a_minute_of_quota():
    clock = [0.0]
    rate, capacity = bucket_shape(600, burst_seconds=1)
    bucket = LocalBucket(rate, capacity, clock=lambda: clock[0])
    granted = 0
    for step in range(6000):  # 60 s in 10 ms steps, always asking
        clock[0] = step / 100
        while bucket.take(1) == 0:
            granted += 1
    assert granted <= 600
    assert granted >= 590  # and it does not starve the sender either


def test_quota_waits_what_the_bucket_says():
    sleeps = []
    clock = [0.0]

    def sleep(seconds):
        sleeps.append(seconds)
        clock[0] += seconds

    quota = Quota(None, LocalBucket(10, 10, clock=lambda: clock[0]), sleep=sleep)
    quota.acquire(10)
    assert sleeps == []
    quota.acquire(5)
    assert sum(sleeps) == pytest.approx(0.5)


@pytest.mark.redis
def test_two_workers_sharing_the_redis_bucket_never_exceed_it(app):
    url = app.config["REDIS_URL"]
    key = f"jaki:test:bucket:{random.randrange(1 << 30)}"
    rate, capacity = 200.0, 20.0
    grants: list[float] = []
    lock = threading.Lock()
    stop = threading.Event()

    def worker():
        client = redis_lib.Redis.from_url(url)  # each worker its own connection, as separate processes have
        bucket = RedisBucket(client, rate, capacity, key=key)
        while not stop.is_set():
            if bucket.take(1) == 0:
                seconds, micros = client.time()
                with lock:
                    grants.append(seconds + micros / 1e6)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    stop.wait(1.5)
    stop.set()
    for thread in threads:
        thread.join(10)
    redis_lib.Redis.from_url(url).delete(key)
    grants.sort()
    assert len(grants) > capacity  # both kept asking and were served
    # In every window the two together took at most the burst plus what the rate refilled (plus the slack
    # between the script's clock and the TIME read after it).
    for i, start in enumerate(grants):
        window = [t for t in grants[i:] if t - start <= 0.5]
        assert len(window) <= capacity + rate * 0.5 + 4
