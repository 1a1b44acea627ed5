"""Request ids (X-Request-ID in and out), one JSON access-log line per request, and request metrics."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, g, request
from flask_jwt_extended import get_jwt_identity

from jaki import metrics

access_log = logging.getLogger("jaki.access")

REQUEST_ID_HEADER = "X-Request-ID"
# A client's id is kept only when it cannot smuggle anything into a log line or a header.
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}")


def _user_id() -> str | None:
    # The token subject is jaki's internal user id (never a NIK); None when the request was not signed in.
    try:
        return get_jwt_identity()
    except RuntimeError:  # no token was verified during this request
        return None


def _begin() -> None:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _CLIENT_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish(response):
    if "request_id" not in g:  # a response made before our first hook ran (never expected; kept honest)
        _begin()
    response.headers[REQUEST_ID_HEADER] = g.request_id
    elapsed = time.perf_counter() - g.request_started
    route = request.url_rule.rule if request.url_rule is not None else None
    metrics.observe_request(request.method, route, response.status_code, elapsed)
    access_log.info(
        "request",
        extra={
            "method": request.method,
            "route": route,
            "status": response.status_code,
            "duration_ms": round(elapsed * 1000, 1),
            "user_id": _user_id(),
        },
    )
    return response


def init_app(app: Flask) -> None:
    """Call before any other extension registers request hooks: ours must run first and see the final response."""
    app.before_request(_begin)
    app.after_request(_finish)
