"""HTTP caching: Content-Language and Vary on localised answers, ETags per representation, 304s, public if anonymous."""

# One language per answer: every JSON (or XML) answer of the API says which (Content-Language) and that it depends
# on Accept-Language (Vary), so no cache hands the Indonesian body to an English reader. A public GET decorated
# with `cacheable` gets an ETag naming its exact bytes (so the English and Indonesian bodies differ), answers 304 to
# an If-None-Match that still holds, and is `public` only when asked without a token: anything a signed-in caller
# reads is `private`. Errors are never stored (a cached 503 would outlive the outage).
#
# Two server-side caches keep a spike off the database. A shared public GET asked without a token is answered from
# this process's memory for PUBLIC_RESPONSE_CACHE_SECONDS (the same bytes, so the same ETag). `cached_answer` keeps
# a signed-in person's whole answer (the overview, their account, the inbox's first page) sealed in Redis, or in
# memory on the embedded default, so a repeated read costs one round trip; a change to their rows drops it.

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from functools import wraps

from flask import Flask, current_app, has_app_context, request
from flask_jwt_extended import current_user, get_jwt
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

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


# ---- one person's answers ------------------------------------------------------------------------------
#
# Kept in one Redis hash per person (jaki:answers:<user id>), a field per answer (namespace, language, variant),
# each value sealed with its own expiry and, for answers that also show shared data (the inbox shows the area's
# broadcasts), the generation of that data it was built from. Forgetting a person is one DEL, whatever they had
# kept; a new broadcast is one INCR that makes every kept inbox stale. What makes an answer stale:
# - a change to a row the person owns: every model naming its owner column in `__answer_owner__` (the account,
#   staff areas, consent choices, inbox rows and read marks) is watched on every session (`_note_changes`);
# - a change to shared data a model names in `__answer_generation__` (broadcasts): one INCR, every copy stale;
# - writes that bypass the ORM call forget_answers themselves (the relay's inserts, "mark all read");
# - an outbox event for the person (notifications/hooks.py).
# A request that read the old rows just before a change may still keep its answer: the TTL bounds that.

ANSWER_PURPOSE = "answer-cache"  # AES-GCM associated data
TRUE_VALUES = frozenset({"1", "t", "true", "y", "yes", "on"})  # what marshmallow's Boolean reads as true
ANSWER_MEMORY_ENTRIES = 10_000  # people kept in the embedded default's memory (a city's worth is Redis')
MAX_VARIANT_LENGTH = 32  # of one query argument's value in a field name
_OWNERS = "jaki.answers.owners"
_GENERATIONS = "jaki.answers.generations"
_session_hooks_installed = False


def _answers_key(user_id: str) -> str:
    return f"jaki:answers:{user_id}"


def _generation_key(name: str) -> str:
    return f"jaki:answers-generation:{name}"


def _variant(args: tuple[str, ...], bypass: str | None) -> str | None:
    """The field's variant from the query string, or None when the request asks for something not kept (a cursor,
    an argument the answer does not name)."""
    parts = []
    for name in request.args:
        if name == bypass:
            continue
        if name not in args:
            return None
        value = request.args.get(name, "")
        if len(value) > MAX_VARIANT_LENGTH:
            return None
        parts.append(f"{name}={value}")
    return "&".join(sorted(parts))


def cached_answer(
    namespace: str,
    ttl_setting: str,
    *,
    bypass: str | None = None,
    args: tuple[str, ...] = (),
    generation: str | None = None,
):
    """Below login_required: the signed-in person's 200 answer, sealed (it may hold health or financial data), kept
    for `ttl_setting` seconds in Redis (one round trip per hit) or in memory on the embedded default.

    bypass: a query argument that, when true (?refresh=true), answers afresh and refills the copy.
    args: the query arguments that select a variant (the inbox's limit); any other argument (a cursor) is answered
    afresh and not kept. generation: a shared counter (bump_generation) whose change makes every copy stale."""

    def decorator(view):
        @wraps(view)
        def wrapper(*a, **kw):
            ttl = int(setting(ttl_setting))
            claims = get_jwt()
            user_id = claims.get("sub")
            variant = _variant(args, bypass) if ttl > 0 and user_id else None
            if variant is None:
                return view(*a, **kw)
            field = f"{namespace}:{current_language()}:{variant}"
            refresh = bypass is not None and request.args.get(bypass, "").strip().lower() in TRUE_VALUES
            if refresh:
                hit, current = None, _read_generation(generation)  # the copy is not read, only replaced
            else:
                hit, current = _read_answer(user_id, field, generation, claims.get("iat", 0))
            if hit is not None:
                return _replay(hit)
            response = current_app.make_response(view(*a, **kw))
            if response.status_code == 200:
                # The generation read before the view ran: a broadcast made meanwhile leaves this copy stale.
                valid_from = getattr(current_user, "tokens_valid_from", None)
                _write_answer(user_id, field, _stored(response), ttl, current, valid_from)
            return response

        return wrapper

    return decorator


def _seal(entry: list) -> str:
    return cipher().encrypt(json.dumps(entry, separators=(",", ":")), ANSWER_PURPOSE)


def _unseal(token: str) -> list:
    return json.loads(cipher().decrypt(token, ANSWER_PURPOSE))


def _fresh(entry, generation: str | None, issued_at: int) -> tuple | None:
    """The stored answer of an entry [body, headers, expires_at, generation, valid_from] still good for a token
    issued at `issued_at`, or None. valid_from is the account's password change: an older token is never served
    a copy (the miss then loads the account, which refuses it)."""
    try:
        body, headers, expires_at, built_from, valid_from = entry
    except (TypeError, ValueError):
        return None
    if expires_at <= time.time() or built_from != generation or issued_at < (valid_from or 0):
        return None
    return body.encode(), [tuple(h) for h in headers]


def _read_answer(user_id: str, field: str, generation: str | None, issued_at: int) -> tuple[tuple | None, str | None]:
    """(the kept answer or None, the generation now); one round trip to Redis."""
    redis = current_app.extensions.get("jaki.redis")
    if redis is None:
        current = _memory_generation(generation)
        kept = _memory("answers", ANSWER_MEMORY_ENTRIES).get(user_id) or {}
        return _fresh(kept.get(field), current, issued_at), current
    try:
        if generation is None:
            token, current = redis.hget(_answers_key(user_id), field), None
        else:
            pipe = redis.pipeline(transaction=False)
            pipe.hget(_answers_key(user_id), field)
            pipe.get(_generation_key(generation))
            token, raw = pipe.execute()
            current = _generation_value(raw)
    except RedisError as exc:
        log.warning("answer cache unreachable; answering afresh", extra={"error": type(exc).__name__})
        return None, None
    if token is None:
        return None, current
    try:
        return _fresh(_unseal(token.decode()), current, issued_at), current
    except Exception:  # noqa: BLE001 - a key rotation or a damaged entry is a miss, never an error
        return None, current


def _read_generation(generation: str | None) -> str | None:
    if generation is None:
        return None
    redis = current_app.extensions.get("jaki.redis")
    if redis is None:
        return _memory_generation(generation)
    try:
        current = redis.get(_generation_key(generation))
    except RedisError:
        return None  # not kept then: _write_answer finds Redis down too, or keeps a copy that is simply missed
    return _generation_value(current)


def _generation_value(raw: bytes | None) -> str:
    """A generation counter as Redis holds it; never bumped yet is "0" (as in memory)."""
    return raw.decode() if raw is not None else "0"


def _write_answer(
    user_id: str, field: str, stored: tuple, ttl: int, generation: str | None, valid_from: int | None
) -> None:
    body, headers = stored
    entry = [body.decode(), headers, time.time() + ttl, generation, valid_from]
    redis = current_app.extensions.get("jaki.redis")
    if redis is None:
        memory = _memory("answers", ANSWER_MEMORY_ENTRIES)
        kept = dict(memory.get(user_id) or {})
        kept[field] = entry
        memory.put(user_id, kept, ttl)
        return
    try:
        pipe = redis.pipeline(transaction=False)
        pipe.hset(_answers_key(user_id), field, _seal(entry))
        pipe.expire(_answers_key(user_id), ttl)
        pipe.execute()
    except RedisError as exc:
        log.warning("answer cache unreachable; not kept", extra={"error": type(exc).__name__})


def forget_answers(user_ids) -> None:
    """Drop every kept answer of these people (their data changed)."""
    user_ids = sorted({u for u in user_ids if u})
    if not user_ids:
        return
    redis = current_app.extensions.get("jaki.redis")
    if redis is None:
        memory = _memory("answers", ANSWER_MEMORY_ENTRIES)
        for user_id in user_ids:
            memory.pop(user_id)
        return
    try:
        for start in range(0, len(user_ids), 1000):
            redis.delete(*[_answers_key(u) for u in user_ids[start : start + 1000]])
    except RedisError as exc:
        log.warning("kept answers not dropped; they expire by themselves", extra={"error": type(exc).__name__})


def _memory_generation(name: str | None) -> str | None:
    if name is None:
        return None
    return str(current_app.extensions.setdefault("jaki.answer_generations", {}).get(name, 0))


def bump_generation(name: str) -> None:
    """Every kept answer built from this shared data (the broadcasts) is stale from now on."""
    redis = current_app.extensions.get("jaki.redis")
    if redis is None:
        generations = current_app.extensions.setdefault("jaki.answer_generations", {})
        with _generation_lock:
            generations[name] = generations.get(name, 0) + 1
        return
    try:
        redis.incr(_generation_key(name))
    except RedisError as exc:
        log.warning(
            "answer generation not moved; kept answers expire by themselves", extra={"error": type(exc).__name__}
        )


_generation_lock = threading.Lock()


def _note_changes(session, _flush_context) -> None:
    """Whose kept answers this transaction makes stale (the owners of the rows it wrote, `__answer_owner__`) and
    which shared generations it moves (`__answer_generation__`): dropped now, so the transaction reads its own
    writes, and again after the commit, so a reader that raced it does not keep the old answer."""
    owners: set[str] = set()
    generations: set[str] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        kind = type(obj)
        column = getattr(kind, "__answer_owner__", None)
        if column is not None and isinstance(owner := getattr(obj, column, None), str):
            owners.add(owner)
        generation = getattr(kind, "__answer_generation__", None)
        if generation is not None:
            generations.add(generation)
    if not owners and not generations:
        return
    session.info.setdefault(_OWNERS, set()).update(owners)
    session.info.setdefault(_GENERATIONS, set()).update(generations)
    _drop(owners, generations)


def _drop(owners, generations) -> None:
    if not has_app_context():
        return
    if owners:
        forget_answers(owners)
    for name in sorted(generations):
        bump_generation(name)


def _after_commit(session) -> None:
    _drop(session.info.pop(_OWNERS, None), session.info.pop(_GENERATIONS, None) or ())


def _after_rollback(session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_OWNERS, None)
        session.info.pop(_GENERATIONS, None)


def install_session_hooks() -> None:
    """Listen on every Session (idempotent: create_app may run several times)."""
    global _session_hooks_installed
    if _session_hooks_installed:
        return
    event.listen(Session, "after_flush", _note_changes)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", _after_rollback)
    _session_hooks_installed = True


def init_app(app: Flask) -> None:
    install_session_hooks()
    app.after_request(_localised)
