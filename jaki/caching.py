"""HTTP caching: Content-Language and Vary on localised answers, ETags per representation, 304s, public if anonymous."""

# One language per answer: every JSON (or XML) answer of the API says which (Content-Language) and that it depends
# on Accept-Language (Vary), so no cache hands the Indonesian body to an English reader. A public GET decorated
# with `cacheable` gets an ETag naming its exact bytes (so the English and Indonesian bodies differ), answers 304 to
# an If-None-Match that still holds, and is `public` only when asked without a token: anything a signed-in caller
# reads is `private`. Errors are never stored (a cached 503 would outlive the outage).

from __future__ import annotations

import hashlib
from functools import wraps

from flask import Flask, current_app, request

from jaki.api import API_PREFIX
from jaki.apidoc import mark_operation
from jaki.i18n import current_language
from jaki.settings import setting

LOCALISED_TYPES = ("application/json", "application/geo+json", "text/xml", "application/xml")


def _ours(path: str) -> bool:
    base = setting("OPEN311_BASE_PATH")
    return path.startswith(API_PREFIX + "/") or path.startswith(base + "/")


def _localised(response):
    if not _ours(request.path):
        return response
    if response.status_code == 304 or response.mimetype in LOCALISED_TYPES:
        response.headers["Content-Language"] = current_language()
        response.vary.add("Accept-Language")
    if response.status_code >= 400 and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    elif "Authorization" in request.headers and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "private, no-store"  # a signed-in answer is nobody else's
    return response


def representation_tag(response) -> str:
    """The ETag of these exact bytes; a version tag the view set ("7", for If-Match) stays its first part."""
    digest = hashlib.sha256(response.get_data()).hexdigest()[:16]
    version = (response.headers.get("ETag") or "").removeprefix("W/").strip('"')
    return f"{version}-{digest}" if version else digest


def cacheable(*, shared: bool = False):
    """A public GET: ETag and If-None-Match (304); Cache-Control public for anonymous callers, revalidated each time,
    or for PUBLIC_CACHE_SECONDS when `shared` (the feed and the map: a CDN absorbs a flood day's spike)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            response = current_app.make_response(view(*args, **kwargs))
            if response.status_code != 200:
                return response
            response.set_etag(representation_tag(response))
            if "Authorization" in request.headers:
                response.headers["Cache-Control"] = "private, no-cache"
            elif shared:
                response.headers["Cache-Control"] = f"public, max-age={setting('PUBLIC_CACHE_SECONDS')}"
            else:
                response.headers["Cache-Control"] = "public, no-cache"
            response.vary.add("Authorization")
            return response.make_conditional(request)

        return mark_operation(wrapper, cacheable=True)

    return decorator


def init_app(app: Flask) -> None:
    app.after_request(_localised)
