"""The periodic schedule: one table, every task once per slot however many schedulers run, never at night."""

import logging
import threading

import pytest
from rq import SimpleWorker

from jaki import jobs
from jaki.schedule import DAY, HOUR, SCHEDULE, Periodic, Scheduler, run_task, start_in_thread
from tests.notifications import periodic_probe

PROBE = "tests.notifications.periodic_probe"


@pytest.fixture(autouse=True)
def _reset_probe():
    periodic_probe.CALLS.clear()


@pytest.fixture
def embedded(app, monkeypatch):
    """No Redis: the embedded default runs due tasks in-process."""
    monkeypatch.setitem(app.extensions, "jaki.redis", None)
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "inline")


def test_the_table_names_real_queues_and_sane_intervals():
    paths = [task.path for task in SCHEDULE]
    assert len(paths) == len(set(paths))
    assert {
        "jaki.notifications.tasks.relay_outbox",
        "jaki.notifications.tasks.sweep",
        "jaki.reports.tasks.escalate_sla_breaches",
        "jaki.reports.tasks.auto_close_resolved",
        "jaki.services.tax.tasks.remind_due_bills",
    } <= set(paths)
    for task in SCHEDULE:
        assert task.queue in jobs.Queues.ALL and task.every >= 10
    reminders = next(t for t in SCHEDULE if t.path.endswith("remind_due_bills"))
    assert (reminders.every, reminders.offset) == (DAY, HOUR)  # 01:00 UTC is 08:00 in Jakarta


def test_embedded_ticks_run_each_task_once_per_slot(app, ctx, embedded):
    scheduler = Scheduler((Periodic(f"{PROBE}.tick", every=60), Periodic(f"{PROBE}.tock", every=600)))
    assert scheduler.tick(now=1_000_020) == [f"{PROBE}.tick", f"{PROBE}.tock"]
    assert scheduler.tick(now=1_000_050) == []  # same slots
    assert scheduler.tick(now=1_000_090) == [f"{PROBE}.tick"]  # next minute; the 10-minute slot is unchanged
    assert periodic_probe.CALLS == ["tick", "tock", "tick"]


def test_a_task_that_does_not_exist_yet_is_skipped_with_one_warning(app, ctx, embedded, caplog):
    scheduler = Scheduler((Periodic("jaki.nowhere.tasks.run", every=60), Periodic(f"{PROBE}.tick", every=60)))
    with caplog.at_level(logging.WARNING, logger="jaki.schedule"):
        assert scheduler.tick(now=0) == [f"{PROBE}.tick"]
        scheduler.tick(now=60)
    assert [r.task for r in caplog.records if r.getMessage().startswith("periodic task not available")] == [
        "jaki.nowhere.tasks.run"
    ]


def test_a_daily_reminder_is_not_caught_up_at_night(app, ctx, embedded):
    daily = Periodic(f"{PROBE}.tick", every=DAY, offset=HOUR, catch_up=6 * HOUR)
    midnight_utc = 20_000 * DAY
    assert Scheduler((daily,)).tick(now=midnight_utc + 19 * HOUR) == []  # 02:00 WIB: the 08:00 slot is old
    assert Scheduler((daily,)).tick(now=midnight_utc + HOUR + 60) == [daily.path]  # 08:01 WIB


def test_bad_tasks_are_refused():
    with pytest.raises(ValueError):
        Scheduler((Periodic(f"{PROBE}.tick", every=0),))
    with pytest.raises(ValueError):
        Scheduler((Periodic(f"{PROBE}.tick", every=60, queue="nope"),))


def test_run_task_and_the_cli(app, ctx, embedded):
    assert isinstance(run_task("jaki.notifications.tasks.sweep"), dict)
    with pytest.raises(LookupError):
        run_task("jaki.unknown.task")
    listing = app.test_cli_runner().invoke(args=["periodic", "list"])
    assert listing.exit_code == 0 and "jaki.notifications.tasks.relay_outbox" in listing.output


def test_the_scheduler_thread_starts_and_stops(app, embedded, monkeypatch):
    ticks = threading.Event()
    monkeypatch.setattr(Scheduler, "tick", lambda self, now=None: ticks.set() or [])
    stop = start_in_thread(app, interval=0.01)
    try:
        assert ticks.wait(5)
    finally:
        stop.set()


@pytest.mark.redis
def test_many_schedulers_enqueue_each_task_once_per_slot(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "rq")
    redis = app.extensions["jaki.redis"]
    task = Periodic(f"{PROBE}.counted_in_redis", every=60, queue=jobs.Queues.PERIODIC)
    machines = [Scheduler((task,), name=f"machine-{n}") for n in range(5)]
    barrier = threading.Barrier(len(machines))
    started = []

    def tick(scheduler, now):
        with app.app_context():
            barrier.wait()
            started.append(scheduler.tick(now=now))

    for now in (6_000, 6_030, 6_060):  # two ticks in one slot, then the next slot
        threads = [threading.Thread(target=tick, args=(m, now)) for m in machines]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    assert sum(len(s) for s in started) == 2
    SimpleWorker([jobs.get_queue(jobs.Queues.PERIODIC)], connection=redis).work(burst=True)
    assert int(redis.get("jaki:test:periodic-runs")) == 2
