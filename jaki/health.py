"""Liveness (/healthz) and readiness (/readyz: database, Redis and object storage reachable, else 503)."""

from __future__ import annotations

import logging
import os
import tempfile

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from jaki.extensions import db

log = logging.getLogger(__name__)
blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    return jsonify(status="ok")


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        log.warning("readiness: database unreachable", extra={"error": type(exc).__name__})
        db.session.rollback()
        return "unavailable"


def _redis() -> str:
    redis = current_app.extensions.get("jaki.redis")
    if redis is None:
        return "not_configured"
    try:
        redis.ping()
        return "ok"
    except Exception as exc:  # noqa: BLE001
        log.warning("readiness: redis unreachable", extra={"error": type(exc).__name__})
        return "unavailable"


def _storage() -> str:
    """S3: the bucket exists and our credentials reach it (HEAD bucket). Local: the directory takes a file."""
    from jaki.media.storage import LocalStorage, S3Storage, app_storage

    try:
        store = app_storage()
        if isinstance(store, S3Storage):
            store.client.head_bucket(Bucket=store.bucket)
        elif isinstance(store, LocalStorage):
            store.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=store.root, prefix=".ready-"):
                pass
            if not os.access(store.root, os.W_OK):
                raise PermissionError(str(store.root))
        return "ok"
    except Exception as exc:  # noqa: BLE001 - a missing bucket, bad credentials, a read-only disk: not ready
        log.warning("readiness: storage unreachable", extra={"error": type(exc).__name__})
        return "unavailable"


@blp.get("/readyz")
def readyz():
    checks = {"database": _database(), "redis": _redis(), "storage": _storage()}
    failed = [name for name, state in checks.items() if state not in ("ok", "not_configured")]
    response = jsonify(status="unavailable" if failed else "ready", checks=checks, failed=failed)
    response.status_code = 503 if failed else 200
    if failed:
        response.headers["Retry-After"] = "10"
    return response
