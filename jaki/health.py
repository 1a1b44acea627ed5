"""Liveness (/healthz) and readiness (/readyz: database and Redis reachable, else 503)."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from jaki.extensions import db

log = logging.getLogger(__name__)
blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz():
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        log.warning("readiness: database unreachable", extra={"error": type(exc).__name__})
        checks["database"] = "unavailable"
        db.session.rollback()
    redis = current_app.extensions.get("jaki.redis")
    if redis is None:
        checks["redis"] = "not_configured"
    else:
        try:
            redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            log.warning("readiness: redis unreachable", extra={"error": type(exc).__name__})
            checks["redis"] = "unavailable"
    ready = all(v in ("ok", "not_configured") for v in checks.values())
    response = jsonify(status="ready" if ready else "unavailable", checks=checks)
    response.status_code = 200 if ready else 503
    return response
