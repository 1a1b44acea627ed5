"""Functions the schedule tests point periodic tasks at (importable by dotted path, as rq needs)."""

from __future__ import annotations

CALLS: list[str] = []


def tick() -> str:
    CALLS.append("tick")
    return "tick"


def tock() -> str:
    CALLS.append("tock")
    return "tock"


def counted_in_redis() -> int:
    """Run by an rq worker: counts in Redis, so the test sees runs from any process."""
    from flask import current_app

    return current_app.extensions["jaki.redis"].incr("jaki:test:periodic-runs")
