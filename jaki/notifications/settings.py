"""Notification settings with defaults: app.config overrides any of them (config/ may expose them as env vars)."""

from __future__ import annotations

from flask import current_app

DEFAULTS = {
    "NOTIFY_MAX_DEVICES": 10,  # per account; registering one more evicts the least recently seen
    "NOTIFY_MAX_ATTEMPTS": 5,  # FCM sends per notification before it is marked failed
    "NOTIFY_RETRY_INTERVALS": (10, 60, 300, 900),  # seconds between attempts (rq Retry, needs the scheduler)
    "NOTIFY_SENDING_LEASE_SECONDS": 300,  # a row in "sending" longer than this belongs to a dead worker
    "NOTIFY_SWEEP_GRACE_SECONDS": 120,  # a "created" row older than this without a queued job is re-enqueued
    "NOTIFY_SWEEP_BATCH": 500,
    "NOTIFY_TOPIC_SYNC_MAX_FAILURES": 5,
    "NOTIFY_RELAY_ON_COMMIT": True,  # relay as soon as a transaction with an outbox event commits
    "NOTIFY_RELAY_BATCH": 100,
    "NOTIFY_MAX_RECIPIENTS": 10_000,  # per event; larger audiences are what area broadcasts are for
}


def setting(name: str):
    return current_app.config.get(name, DEFAULTS[name])


def jobs_inline() -> bool:
    return current_app.config.get("JOBS_BACKEND") == "inline"
