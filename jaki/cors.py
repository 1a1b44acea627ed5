"""CORS for browser clients on the city's own domains: an allow-list of exact origins, none by default."""

from __future__ import annotations

import re

from flask import Flask, request
from flask_cors import CORS

from jaki.api import API_PREFIX

# What a browser client sends beyond the CORS-safelisted headers, and what it needs to read from answers.
ALLOW_HEADERS = (
    "Authorization",
    "Content-Type",
    "Accept-Language",
    "Idempotency-Key",
    "If-Match",
    "If-None-Match",
    "X-Access-Reason",
    "X-Break-Glass",  # jaki.pdp.scope: a read outside the official's scope
    "X-Request-ID",
)
EXPOSE_HEADERS = (
    "ETag",
    "Location",
    "Retry-After",
    "X-Request-ID",
    "Content-Language",
    "Content-Disposition",
    "Idempotent-Replayed",  # jaki.idempotency: this answer is the one stored for the key
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
)
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")

# scheme://host[:port], nothing else: flask-cors would read "*" or any other regex character as a pattern,
# and a trailing slash or path never equals a browser's Origin header, so such an entry would silently fail.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_ORIGIN = re.compile(rf"^https?://{_LABEL}(?:\.{_LABEL})*(?::\d{{1,5}})?$")


class CorsMisconfigured(RuntimeError):
    """JAKI_CORS_ORIGINS holds something that is not an exact web origin."""


def checked_origins(origins, *, production: bool) -> list[str]:
    """The configured origins, lower-cased; refuses wildcards, paths, and plain http in production."""
    checked, bad = [], []
    for origin in origins:
        value = origin.strip().lower()
        if not _ORIGIN.match(value) or (production and not value.startswith("https://")):
            bad.append(origin)
        elif value not in checked:
            checked.append(value)
    if bad:
        need = "https://host[:port]" if production else "scheme://host[:port]"
        raise CorsMisconfigured(f"JAKI_CORS_ORIGINS: {', '.join(map(repr, bad))} not an origin ({need}, no wildcard)")
    return checked


def init_app(app: Flask) -> None:
    """Answer CORS for the API, its spec and Open311 to the allowed origins; with none, add nothing at all."""
    origins = checked_origins(
        app.config.get("CORS_ALLOWED_ORIGINS") or (), production=app.config["JAKI_ENV"] == "production"
    )
    if not origins:
        return
    open311 = app.config["OPEN311_BASE_PATH"].rstrip("/")
    paths = (rf"{re.escape(API_PREFIX)}/.*", r"/openapi\.json$", rf"{re.escape(open311)}/.*")
    CORS(
        app,
        resources={path: {} for path in paths},
        origins=origins,
        methods=list(METHODS),
        allow_headers=list(ALLOW_HEADERS),
        expose_headers=list(EXPOSE_HEADERS),
        # Tokens travel in the Authorization header, never in cookies: nothing for a browser to send on its own.
        supports_credentials=False,
        max_age=app.config["CORS_PREFLIGHT_MAX_AGE"],
        vary_header=False,  # set below, on every answer
        # Only to a request that names its origin: flask-cors would otherwise list every allowed origin to anyone.
        always_send=False,
    )
    covered = [re.compile(path) for path in paths]

    @app.after_request
    def _vary_on_origin(response):
        # flask-cors says Vary: Origin only when several origins are listed, yet with one the answer still differs
        # with and without an Origin header: a shared cache (a CDN before the feed) must not hand one for the other.
        if any(pattern.match(request.path) for pattern in covered):
            response.vary.add("Origin")
        return response
