"""HTTP caching: Content-Language and Vary on localised answers, ETags per representation, 304s, public if anonymous."""

# One language per answer: every JSON (or XML) answer of the API says which (Content-Language) and that it depends
# on Accept-Language (Vary), so no cache hands the Indonesian body to an English reader. A public GET decorated
# with `cacheable` gets an ETag naming its exact bytes (so the English and Indonesian bodies differ), answers 304 to
# an If-None-Match that still holds, and is `public` only when asked without a token: anything a signed-in caller
# reads is `private`. Errors are never stored (a cached 503 would outlive the outage).
#
# Two server-side caches keep a spike off the database. A shared public GET asked without a token is answered from
# this process's memory for PUBLIC_RESPONSE_CACHE_SECONDS (the same bytes, so the same ETag). `cached_answer` keeps
# a signed-in person's whole answer (the overview) sealed in Redis, or in memory on the embedded default, so a
# repeated read costs one cache read; a committed outbox event for that person drops it (notifications/hooks.py).

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from functools import wraps

from flask import Flask, current_app, request
from flask_jwt_extended import get_jwt_identity
from redis.exceptions import RedisError

from jaki.api import API_PREFIX
from jaki.apidoc import mark_operation
from jaki.auth.crypto import cipher
from jaki.i18n import current_language
from jaki.settings import setting

log = logging.getLogger(__name__)

LOCALISED_TYPES = ("application/json", "application/geo+json", "text/xml", "application/xml")
# Headers the view set that a cached copy carries; ETag, Cache-Control and Vary are set again on every answer.
_KEPT_HEADERS = ("Content-Type", "Link", "X-Total-Count")


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


class MemoryCache:
    """A bounded, least-recently-used map with a time to live per entry, shared by the threads of a process."""

    def __init__(self, entries: int):
        self.entries = entries
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            expires, value = item
            if expires <= time.monotonic():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return value

    def put(self, key, value, ttl: float) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)

    def pop(self, key) -> None:
        with self._lock:
            self._items.pop(key, None)


def _memory(name: str, entries: int) -> MemoryCache:
    caches = current_app.extensions.setdefault("jaki.memory_caches", {})
    cache = caches.get(name)
    if cache is None:
        cache = caches.setdefault(name, MemoryCache(entries))
    return cache


def _stored(response) -> tuple:
    headers = [(name, response.headers[name]) for name in _KEPT_HEADERS if name in response.headers]
    return response.get_data(), headers


def _replay(stored: tuple):
    body, headers = stored
    response = current_app.response_class(body, status=200)
    for name, value in headers:
        response.headers[name] = value
    return response


def cacheable(*, shared: bool = False):
    """A public GET: ETag and If-None-Match (304); Cache-Control public for anonymous callers, revalidated each time,
    or for PUBLIC_CACHE_SECONDS when `shared` (the feed and the map: a CDN absorbs a flood day's spike). A shared
    GET asked anonymously is also answered from memory for PUBLIC_RESPONSE_CACHE_SECONDS."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            ttl = float(setting("PUBLIC_RESPONSE_CACHE_SECONDS")) if shared else 0.0
            memory = key = None
            if ttl > 0 and "Authorization" not in request.headers:
                memory = _memory("public", setting("PUBLIC_RESPONSE_CACHE_ENTRIES"))
                key = (request.full_path, current_language())
                hit = memory.get(key)
                if hit is not None:
                    response = _replay(hit[0])
                    response.set_etag(hit[1])
                    return _public_headers(response, shared)
            response = current_app.make_response(view(*args, **kwargs))
            if response.status_code != 200:
                return response
            response.set_etag(representation_tag(response))
            if memory is not None:
                memory.put(key, (_stored(response), response.get_etag()[0]), ttl)
            return _public_headers(response, shared)

        return mark_operation(wrapper, cacheable=True)

    return decorator


def _public_headers(response, shared: bool):
    if "Authorization" in request.headers:
        response.headers["Cache-Control"] = "private, no-cache"
    elif shared:
        response.headers["Cache-Control"] = f"public, max-age={setting('PUBLIC_CACHE_SECONDS')}"
    else:
        response.headers["Cache-Control"] = "public, no-cache"
    response.vary.add("Authorization")
    return response.make_conditional(request)


# ---- one person's whole answer -----------------------------------------------------------------------------

ANSWER_PURPOSE = "answer-cache"  # AES-GCM associated data
TRUE_VALUES = frozenset({"1", "t", "true", "y", "yes", "on"})  # what marshmallow's Boolean reads as true
LANGUAGES = ("id", "en")
ANSWER_MEMORY_ENTRIES = 10_000  # the embedded default's in-memory copy (one process, a city's worth is Redis')
_namespaces: set[str] = set()


def _answer_key(namespace: str, user_id: str, language: str) -> str:
    return f"jaki:answer:{namespace}:{user_id}:{language}"


def cached_answer(namespace: str, ttl_setting: str, *, bypass: str | None = None):
    """Below login_required: the signed-in person's 200 answer, sealed (it may hold health or financial data),
    kept for `ttl_setting` seconds in Redis (one GET per hit) or in memory on the embedded default. A request
    whose `bypass` query argument is true (?refresh=true) is answered afresh and refills it."""
    _namespaces.add(namespace)

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            ttl = int(setting(ttl_setting))
            user_id = get_jwt_identity()
            if ttl <= 0 or not user_id:
                return view(*args, **kwargs)
            key = _answer_key(namespace, user_id, current_language())
            if bypass is None or request.args.get(bypass, "").strip().lower() not in TRUE_VALUES:
                hit = _read_answer(key)
                if hit is not None:
                    return _replay(hit)
            response = current_app.make_response(view(*args, **kwargs))
            if response.status_code == 200:
                _write_answer(key, _stored(response), ttl)
            return response

        return wrapper

    return decorator


def _seal(stored: tuple) -> str:
    body, headers = stored
    return cipher().encrypt(json.dumps([body.decode(), headers], separators=(",", ":")), ANSWER_PURPOSE)


def _unseal(token: str) -> tuple:
    body, headers = json.loads(cipher().decrypt(token, ANSWER_PURPOSE))
    return body.encode(), [tuple(h) for h in headers]


def _read_answer(key: str) -> tuple | None:
    redis = current_app.extensions.get("jaki.redis")
    if redis is None:
        return _memory("answers", ANSWER_MEMORY_ENTRIES).get(key)
    try:
        token = redis.get(key)
    except RedisError as exc:
        log.warning("answer cache unreachable; answering afresh", extra={"error": type(exc).__name__})
        return None
    if token is None:
        return None
    try:
        return _unseal(token.decode())
    except Exception:  # noqa: BLE001 - a key rotation or a damaged entry is a miss, never an error
        return None


def _write_answer(key: str, stored: tuple, ttl: int) -> None:
    redis = current_app.extensions.get("jaki.redis")
    if redis is None:
        _memory("answers", ANSWER_MEMORY_ENTRIES).put(key, stored, ttl)
        return
    try:
        redis.set(key, _seal(stored), ex=ttl)
    except RedisError as exc:
        log.warning("answer cache unreachable; not kept", extra={"error": type(exc).__name__})


def forget_answers(user_ids) -> None:
    """Drop every cached answer of these people (their data changed)."""
    keys = [
        _answer_key(namespace, user_id, language)
        for namespace in sorted(_namespaces)
        for user_id in user_ids
        for language in LANGUAGES
    ]
    if not keys:
        return
    redis = current_app.extensions.get("jaki.redis")
    if redis is None:
        memory = _memory("answers", ANSWER_MEMORY_ENTRIES)
        for key in keys:
            memory.pop(key)
        return
    try:
        redis.delete(*keys)
    except RedisError as exc:
        log.warning("cached answers not dropped; they expire by themselves", extra={"error": type(exc).__name__})


def init_app(app: Flask) -> None:
    app.after_request(_localised)
