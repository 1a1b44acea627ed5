"""Background jobs: queue names in one place and one enqueue() (in-process when embedded, rq otherwise)."""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable

from flask import current_app, has_app_context
from rq import Queue, Retry

from jaki.extensions import db
from jaki.settings import setting

log = logging.getLogger(__name__)


class Queues:
    """Every queue jaki uses. The worker listens on ALL; a test checks that."""

    NOTIFY = "jaki-notify"  # push sends: latency matters to citizens
    DEFAULT = "jaki-default"  # domain work: outbox relay, routing, escalations
    MEDIA = "jaki-media"  # thumbnails and other slow CPU work
    PERIODIC = "jaki-periodic"  # scheduled sweeps and reminders

    ALL = (NOTIFY, DEFAULT, MEDIA, PERIODIC)


DEFAULT_RETRY_INTERVALS = (10, 60, 300)

# Bound by the worker command (`flask jobs worker`, which has the app already) in the parent process, so forked
# job processes reuse one app. jobs never builds an app itself: jaki.create_app sits above every room.
_worker_app = None


def function_path(func: Callable) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def _resolve(path: str) -> Callable:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def bind_worker_app(app) -> None:
    """The app whose context every job of this worker (and of its forked job processes) runs in."""
    global _worker_app, _app_pid
    _worker_app, _app_pid = app, None


def run_job(path: str, args: tuple = (), kwargs: dict | None = None):
    """What rq executes: the real job inside an app context, with a fresh database session."""
    if has_app_context():
        return _resolve(path)(*args, **(kwargs or {}))
    app = _app_for_this_process()
    with app.app_context():
        try:
            return _resolve(path)(*args, **(kwargs or {}))
        finally:
            db.session.remove()


_app_pid: int | None = None


def _app_for_this_process():
    global _app_pid
    if _worker_app is None:
        raise RuntimeError("no app bound for jobs: start workers with `flask jobs worker`")
    if _app_pid != os.getpid():
        # A forked job process must not share the parent's pooled connections.
        with _worker_app.app_context():
            db.engine.dispose(close=False)
        _app_pid = os.getpid()
    return _worker_app


def get_queue(name: str = Queues.DEFAULT) -> Queue:
    redis = current_app.extensions["jaki.redis"]
    return Queue(name, connection=redis, default_timeout=setting("JOBS_DEFAULT_TIMEOUT"))


def enqueue(
    func: Callable,
    *args,
    queue: str = Queues.DEFAULT,
    retries: int = 3,
    retry_intervals=DEFAULT_RETRY_INTERVALS,
    timeout: int | None = None,
    job_id: str | None = None,
    description: str | None = None,
    **kwargs,
):
    """Run func(*args, **kwargs) in the background. Pass ids, never objects; call after the commit.

    Embedded default ("inline"): runs now, in-process, in its own app context and session; a failure is
    logged, as a worker would record it, and never breaks the request that enqueued it.
    """
    if queue not in Queues.ALL:
        raise ValueError(f"unknown queue {queue!r}")
    path = function_path(func)
    if setting("JOBS_BACKEND") == "inline":
        app = current_app._get_current_object()
        with app.app_context():
            try:
                func(*args, **kwargs)
            except Exception:
                if app.config["JOBS_INLINE_RAISE"]:
                    raise
                log.exception("inline job failed", extra={"job": path})
            finally:
                db.session.remove()
        return None
    retry = Retry(max=retries, interval=list(retry_intervals)) if retries else None
    return get_queue(queue).enqueue_call(
        run_job,
        args=(path, args, kwargs),
        timeout=timeout,
        retry=retry,
        job_id=job_id,
        description=description or path,
        failure_ttl=7 * 24 * 3600,
    )


def enqueue_safely(func: Callable, *args, **options) -> bool:
    """enqueue(), for work a backstop redoes: when Redis is down the row stays as it is (a sweeper enqueues it
    later, or the work is optional) and the request that committed it still succeeds. False when not enqueued."""
    from redis.exceptions import RedisError

    try:
        enqueue(func, *args, **options)
    except RedisError as exc:
        log.warning("enqueue failed, left for later", extra={"job": function_path(func), "error": type(exc).__name__})
        return False
    return True
