"""Recent agency answers per citizen and domain, encrypted: Redis when configured, else a database table."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from jaki.auth.crypto import cipher
from jaki.extensions import db, redis_client
from jaki.services.connectors import domains
from jaki.services.models import SectionCache

log = logging.getLogger(__name__)

PURPOSE = "services-cache"  # AES-GCM associated data: a cached answer cannot be passed off as another field


@dataclass(frozen=True)
class CacheEntry:
    fingerprint: str  # which household members the answer covers: a changed household is a miss
    as_of: datetime
    data: dict


def fingerprint(member_ids: list[str]) -> str:
    return hashlib.sha256(",".join(sorted(member_ids)).encode()).hexdigest()[:32]


def _seal(entry: CacheEntry) -> str:
    # Health, child and financial data: encrypted at rest in Redis and in the table alike.
    plain = json.dumps(
        {"fp": entry.fingerprint, "as_of": entry.as_of.isoformat(), "data": entry.data}, separators=(",", ":")
    )
    return cipher().encrypt(plain, PURPOSE)


def _open(sealed: str) -> CacheEntry | None:
    try:
        raw = json.loads(cipher().decrypt(sealed, PURPOSE))
        return CacheEntry(raw["fp"], datetime.fromisoformat(raw["as_of"]), raw["data"])
    except (ValueError, KeyError, TypeError):
        # Unreadable (e.g. the key was rotated): a miss, not an error.
        log.warning("services cache entry unreadable; ignored")
        return None


class DatabaseCache:
    """The embedded default: survives restarts and is shared by every process, unlike process memory."""

    def get(self, user_id: str, domain: str) -> CacheEntry | None:
        row = db.session.get(SectionCache, (user_id, domain))
        return _open(row.payload) if row is not None else None

    def get_many(self, user_id: str, domains: list[str]) -> dict[str, CacheEntry]:
        if not domains:
            return {}
        rows = db.session.scalars(
            select(SectionCache).where(SectionCache.user_id == user_id, SectionCache.domain.in_(domains))
        )
        return {row.domain: entry for row in rows if (entry := _open(row.payload)) is not None}

    def put(self, user_id: str, domain: str, entry: CacheEntry, ttl_seconds: int) -> None:
        sealed = _seal(entry)
        row = db.session.get(SectionCache, (user_id, domain))
        if row is not None:
            row.payload, row.as_of = sealed, entry.as_of
            return
        try:
            with db.session.begin_nested():
                db.session.add(SectionCache(user_id=user_id, domain=domain, as_of=entry.as_of, payload=sealed))
        except IntegrityError:
            pass  # a concurrent request of the same citizen stored it first; theirs is as fresh

    def clear(self, user_id: str) -> None:
        db.session.execute(delete(SectionCache).where(SectionCache.user_id == user_id))

    def export(self, user_id: str) -> dict:
        rows = db.session.scalars(select(SectionCache).where(SectionCache.user_id == user_id)).all()
        return {row.domain: entry for row in rows if (entry := _open(row.payload)) is not None}


class RedisCache:
    """Keys expire on their own after the stale limit; nothing outlives it."""

    PREFIX = "jaki:services:cache"

    def __init__(self, redis):
        self.redis = redis

    def _key(self, user_id: str, domain: str) -> str:
        return f"{self.PREFIX}:{user_id}:{domain}"

    def get(self, user_id: str, domain: str) -> CacheEntry | None:
        import redis

        try:
            raw = self.redis.get(self._key(user_id, domain))
        except redis.RedisError as exc:
            log.warning("services cache unavailable", extra={"error": type(exc).__name__})
            return None
        return _open(raw.decode() if isinstance(raw, bytes) else raw) if raw else None

    def get_many(self, user_id: str, domains: list[str]) -> dict[str, CacheEntry]:
        """One round trip for every domain of the overview."""
        import redis

        if not domains:
            return {}
        try:
            values = self.redis.mget([self._key(user_id, d) for d in domains])
        except redis.RedisError as exc:
            log.warning("services cache unavailable", extra={"error": type(exc).__name__})
            return {}
        found = {}
        for domain, raw in zip(domains, values, strict=True):
            if raw and (entry := _open(raw.decode() if isinstance(raw, bytes) else raw)) is not None:
                found[domain] = entry
        return found

    def put(self, user_id: str, domain: str, entry: CacheEntry, ttl_seconds: int) -> None:
        import redis

        try:
            self.redis.set(self._key(user_id, domain), _seal(entry), ex=max(int(ttl_seconds), 1))
        except redis.RedisError as exc:
            log.warning("services cache unavailable", extra={"error": type(exc).__name__})

    def clear(self, user_id: str) -> None:
        self.redis.delete(*[self._key(user_id, d) for d in domains()])

    def export(self, user_id: str) -> dict:
        return {d: entry for d in domains() if (entry := self.get(user_id, d)) is not None}


def section_cache() -> DatabaseCache | RedisCache:
    redis = redis_client()
    return RedisCache(redis) if redis is not None else DatabaseCache()
