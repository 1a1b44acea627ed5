"""The periodic schedule: one table of (dotted path, interval), each run enqueued once per slot across all machines.

Time is cut into slots of `every` seconds (shifted by `offset`). Each scheduler tick tries, for every task, to
SET a Redis key named after the task and the current slot with NX: the one machine that succeeds enqueues the
job, so any number of schedulers (one per worker) run each task once per slot. Without Redis (the embedded
default) the tick runs due tasks in-process. A task whose function does not exist yet (another domain has
not shipped it) is skipped with one warning. The functions take no arguments and must be idempotent.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import click
from flask import current_app
from flask.cli import AppGroup
from redis.exceptions import RedisError

from jaki import jobs
from jaki.jobs import Queues

log = logging.getLogger(__name__)

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR


@dataclass(frozen=True)
class Periodic:
    path: str  # dotted path of a function taking no arguments
    every: int  # seconds
    offset: int = 0  # seconds after the UTC-aligned slot start: DAY with offset 1 h runs at 08:00 WIB
    catch_up: int | None = None  # a slot started longer ago than this is skipped (no 2 a.m. reminders)
    queue: str = Queues.PERIODIC
    timeout: int | None = None

    def slot(self, now: float) -> int:
        return int((now - self.offset) // self.every)

    def slot_start(self, now: float) -> float:
        return self.slot(now) * self.every + self.offset


SCHEDULE: tuple[Periodic, ...] = (
    # Commits kick the relay at once; this is the backstop (Redis was down, a kick was lost).
    Periodic("jaki.notifications.tasks.relay_outbox", every=15, queue=Queues.DEFAULT),
    Periodic("jaki.notifications.tasks.sweep", every=MINUTE),
    Periodic("jaki.reports.tasks.escalate_sla_breaches", every=5 * MINUTE, queue=Queues.DEFAULT),
    Periodic("jaki.reports.tasks.auto_close_resolved", every=HOUR),
    # Tax reminders (7 days and 1 day before the due date) once a day at 08:00 WIB, never at night.
    Periodic("jaki.services.tax.tasks.remind_due_bills", every=DAY, offset=HOUR, catch_up=6 * HOUR),
    Periodic("jaki.services.permits.tasks.flag_permit_sla_breaches", every=5 * MINUTE, queue=Queues.DEFAULT),
    # The command center's medians (counts are live) and the open-data files, built at 02:00 WIB.
    Periodic("jaki.stats.tasks.refresh_rollups", every=5 * MINUTE, timeout=15 * MINUTE),
    Periodic("jaki.opendata.tasks.publish", every=DAY, offset=19 * HOUR, timeout=30 * MINUTE),
    Periodic("jaki.idempotency.purge_expired", every=HOUR),
    # Personal data (UU PDP): correction deadlines (3 x 24 h), objections applied, retention at 03:00 WIB.
    Periodic("jaki.pdp.tasks.escalate_corrections", every=5 * MINUTE, queue=Queues.DEFAULT),
    Periodic("jaki.pdp.tasks.check_objections", every=HOUR),
    Periodic("jaki.pdp.tasks.enforce_retention", every=DAY, offset=20 * HOUR, timeout=30 * MINUTE),
)

LOCK_PREFIX = "jaki:periodic:"


# The worker logs the routine lines of jobs so named at DEBUG (jaki.logging.DemoteRoutine).
JOB_ID_PREFIX = "periodic-"
DESCRIPTION_PREFIX = "periodic "


def _job_id(task: Periodic, slot: int) -> str:
    return JOB_ID_PREFIX + task.path.replace(".", "_") + f"-{slot}"


class Scheduler:
    """Enqueues due periodic tasks. Call tick() inside an app context; run() loops until stopped."""

    def __init__(
        self,
        schedule: tuple[Periodic, ...] = SCHEDULE,
        *,
        clock: Callable[[], float] = time.time,
        name: str | None = None,
    ):
        for task in schedule:
            if task.every <= 0 or task.queue not in Queues.ALL:
                raise ValueError(f"bad periodic task {task}")
        self.schedule = schedule
        self.clock = clock
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self._functions: dict[str, Callable | None] = {}
        self._last_local: dict[str, int] = {}

    def resolve(self, task: Periodic) -> Callable | None:
        if task.path not in self._functions:
            module, _, attribute = task.path.rpartition(".")
            try:
                self._functions[task.path] = getattr(importlib.import_module(module), attribute)
            except (ImportError, AttributeError):
                log.warning("periodic task not available yet, skipped", extra={"task": task.path})
                self._functions[task.path] = None
        return self._functions[task.path]

    def due(self, task: Periodic, now: float) -> bool:
        return task.catch_up is None or now - task.slot_start(now) <= task.catch_up

    def tick(self, now: float | None = None) -> list[str]:
        """Start every task whose current slot has not run anywhere yet. Returns the paths started."""
        now = self.clock() if now is None else now
        redis = current_app.extensions.get("jaki.redis")
        started = []
        for task in self.schedule:
            func = self.resolve(task)
            if func is None or not self.due(task, now):
                continue
            slot = task.slot(now)
            if redis is not None:
                key = f"{LOCK_PREFIX}{task.path}:{slot}"
                if not redis.set(key, self.name, nx=True, ex=task.every * 2 + MINUTE):
                    continue
                try:
                    jobs.enqueue(
                        func,
                        queue=task.queue,
                        retries=0,
                        timeout=task.timeout,
                        job_id=_job_id(task, slot),
                        description=DESCRIPTION_PREFIX + task.path,
                    )
                except RedisError:
                    redis.delete(key)  # best effort: let the next tick (here or elsewhere) try again
                    raise
            else:
                if self._last_local.get(task.path) == slot:
                    continue
                self._last_local[task.path] = slot
                jobs.enqueue(func, queue=task.queue)  # inline on the embedded default
            started.append(task.path)
        if started:
            log.debug("periodic tasks started", extra={"tasks": started})  # every 15 s: routine, not news
        return started

    def run(self, app, stop: threading.Event, interval: float = 1.0) -> None:
        """Tick every `interval` seconds until `stop` is set; Redis or database trouble never ends the loop."""
        while not stop.is_set():
            try:
                with app.app_context():
                    self.tick()
            except Exception as exc:  # noqa: BLE001 - the scheduler must outlive outages
                log.warning("periodic tick failed", extra={"error": type(exc).__name__})
            stop.wait(interval)


def start_in_thread(app, interval: float = 1.0) -> threading.Event:
    """Run a scheduler beside an rq worker; set the returned event to stop it. Safe on every worker machine."""
    stop = threading.Event()
    scheduler = Scheduler()
    thread = threading.Thread(target=scheduler.run, args=(app, stop, interval), name="jaki-periodic", daemon=True)
    thread.start()
    return stop


def run_task(path: str):
    """Run one task of the table now, in this process (operators; the embedded default)."""
    for task in SCHEDULE:
        if task.path == path:
            func = Scheduler((task,)).resolve(task)
            if func is None:
                raise LookupError(f"{path} is not available")
            return func()
    raise LookupError(f"{path} is not in the schedule")


periodic_cli = AppGroup("periodic", help="The periodic schedule (relay, sweeper, escalations, reminders).")


@periodic_cli.command("list")
def list_tasks():
    """Show the schedule and whether each function exists."""
    scheduler = Scheduler()
    for task in SCHEDULE:
        state = "ok" if scheduler.resolve(task) else "missing"
        click.echo(f"{task.path:<48} every {task.every:>6}s offset {task.offset:>5}s {task.queue:<14} {state}")


@periodic_cli.command("run")
@click.option("--once", is_flag=True, help="One tick, then exit.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between ticks.")
def run(once: bool, interval: float):
    """Start due tasks: enqueued once per slot across machines with Redis, in-process without."""
    app = current_app._get_current_object()
    scheduler = Scheduler()
    if once:
        click.echo(" ".join(scheduler.tick()) or "nothing due")
        return
    stop = threading.Event()
    try:
        scheduler.run(app, stop, interval)
    except KeyboardInterrupt:
        stop.set()


@periodic_cli.command("run-task")
@click.argument("path")
def run_one(path: str):
    """Run one scheduled function now, in this process."""
    try:
        result = run_task(path)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{path}: {result}")
