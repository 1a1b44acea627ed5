"""Token issue, rotation with reuse detection, revocation (Redis with TTL, or a table), JWT callbacks."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

from flask import current_app, g
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from flask_jwt_extended.config import config as jwt_config
from jwt.exceptions import InvalidTokenError, MissingRequiredClaimError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload

from jaki.auth.deferral import DEFER_USER  # set on g by login_required(load_user=False) and the like
from jaki.auth.models import ROLES, RefreshToken, RevokedToken, User
from jaki.db import utcnow
from jaki.errors import Unauthorized, envelope
from jaki.extensions import db
from jaki.i18n import translate
from jaki.settings import setting

log = logging.getLogger(__name__)


# ---- revocation store -------------------------------------------------------------------------------


RECENT_KEY = "jaki:revocations:recent"  # sorted set: key -> when it was revoked (epoch seconds)
RECENT_MARGIN_SECONDS = 60  # clocks of the machines writing and reading may differ by this much


def _recent_window() -> float:
    """How long a revocation can still matter to an access token: its whole life (and the clock margin)."""
    return setting("JWT_ACCESS_TOKEN_EXPIRES").total_seconds() + RECENT_MARGIN_SECONDS


class RedisRevocations:
    def __init__(self, redis):
        self.redis = redis

    def revoke(self, key: str, ttl_seconds: int) -> None:
        if ttl_seconds > 0:
            now = time.time()
            pipe = self.redis.pipeline(transaction=False)
            pipe.set(f"jaki:revoked:{key}", b"1", ex=ttl_seconds)
            pipe.zadd(RECENT_KEY, {key: now})
            pipe.zremrangebyscore(RECENT_KEY, "-inf", now - _recent_window())
            pipe.execute()

    def any_revoked(self, keys: list[str]) -> bool:
        return any(self.redis.mget([f"jaki:revoked:{k}" for k in keys]))

    def recent(self) -> set[str]:
        """Every key revoked within an access token's life: one round trip."""
        since = time.time() - _recent_window()
        return {k.decode() for k in self.redis.zrangebyscore(RECENT_KEY, since, "+inf")}


class TableRevocations:
    def revoke(self, key: str, ttl_seconds: int) -> None:
        if ttl_seconds <= 0:
            return
        expires = utcnow() + timedelta(seconds=ttl_seconds)
        existing = db.session.scalar(select(RevokedToken).where(RevokedToken.key == key))
        if existing is None:
            db.session.add(RevokedToken(key=key, expires_at=expires))
        elif existing.expires_at < expires:
            existing.expires_at = expires

    def any_revoked(self, keys: list[str]) -> bool:
        now = utcnow()
        found = db.session.scalar(
            select(RevokedToken.id).where(RevokedToken.key.in_(keys), RevokedToken.expires_at > now).limit(1)
        )
        return found is not None

    def recent(self) -> set[str]:
        """Every key revoked within an access token's life: a jti entry expires with its token; a family entry is
        written with the refresh token's life, so it was revoked within the window if it expires late enough."""
        now = utcnow()
        family_since = now + setting("JWT_REFRESH_TOKEN_EXPIRES") - timedelta(seconds=_recent_window())
        rows = db.session.scalars(
            select(RevokedToken.key).where(
                RevokedToken.expires_at > now,
                (RevokedToken.key.like("jti:%")) | (RevokedToken.expires_at > family_since),
            )
        ).all()
        return set(rows)

    @staticmethod
    def purge_expired() -> int:
        result = db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= utcnow()))
        return result.rowcount or 0


def revocations():
    redis = current_app.extensions.get("jaki.redis")
    return RedisRevocations(redis) if redis is not None else TableRevocations()


class RevocationSnapshot:
    """What this process knows of recent revocations, re-read at most every REVOCATION_CACHE_SECONDS.

    An access token lives JWT_ACCESS_TOKEN_EXPIRES, so only revocations made within that long can concern one:
    the store's recent() set is small (logouts and stolen families of the last 15 minutes), and checking an access
    token costs no round trip. A revocation made by another process takes effect here within
    REVOCATION_CACHE_SECONDS (one made by this process at once); refresh tokens are still checked in the store.
    """

    def __init__(self):
        self._keys: frozenset[str] = frozenset()
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def contains_any(self, keys: list[str], max_age: float) -> bool:
        if time.monotonic() - self._read_at >= max_age:
            with self._lock:
                if time.monotonic() - self._read_at >= max_age:
                    read_at = time.monotonic()
                    self._keys = frozenset(revocations().recent())
                    self._read_at = read_at
        return any(key in self._keys for key in keys)

    def add(self, key: str) -> None:
        with self._lock:
            self._keys = self._keys | {key}


def _snapshot() -> RevocationSnapshot:
    app = current_app._get_current_object()
    snapshot = app.extensions.get("jaki.revocation_snapshot")
    if snapshot is None:
        snapshot = app.extensions.setdefault("jaki.revocation_snapshot", RevocationSnapshot())
    return snapshot


def _revoke(key: str, ttl_seconds: int) -> None:
    revocations().revoke(key, ttl_seconds)
    if ttl_seconds > 0:
        _snapshot().add(key)  # this process refuses the token at once, whatever its snapshot's age


def is_revoked(payload: dict) -> bool:
    keys = [f"jti:{payload['jti']}"]
    if payload.get("fam"):
        keys.append(f"fam:{payload['fam']}")
    max_age = float(setting("REVOCATION_CACHE_SECONDS"))
    if payload.get("type") == "access" and max_age > 0:
        return _snapshot().contains_any(keys, max_age)
    return revocations().any_revoked(keys)


def _remaining_seconds(exp: int) -> int:
    return max(int(exp - datetime.now(UTC).timestamp()) + 1, 0)


# ---- issuing and rotating ---------------------------------------------------------------------------


def issue_pair(user: User, *, fresh: bool, family_id: str | None = None) -> dict:
    family_id = family_id or str(uuid.uuid4())
    claims = {"role": user.role, "fam": family_id}
    fresh_for = timedelta(minutes=setting("FRESH_TOKEN_MINUTES")) if fresh else False
    access = create_access_token(identity=user.id, additional_claims=claims, fresh=fresh_for)
    refresh = create_refresh_token(identity=user.id, additional_claims=claims)
    payload = decode_token(refresh)
    db.session.add(
        RefreshToken(
            jti=payload["jti"],
            family_id=family_id,
            user_id=user.id,
            expires_at=datetime.fromtimestamp(payload["exp"], UTC),
        )
    )
    expires_in = int(setting("JWT_ACCESS_TOKEN_EXPIRES").total_seconds())
    return {"access_token": access, "refresh_token": refresh, "token_type": "Bearer", "expires_in": expires_in}


def revoke_family(family_id: str) -> None:
    max_life = int(setting("JWT_REFRESH_TOKEN_EXPIRES").total_seconds())
    _revoke(f"fam:{family_id}", max_life)
    db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def rotate(refresh_payload: dict, user: User) -> dict:
    """Exchange a refresh token for a new pair. A second use of the same refresh token means it was stolen
    (or replayed): the whole family, every device session descended from that login, is revoked."""
    row = db.session.get(RefreshToken, refresh_payload["jti"], with_for_update=True)
    if row is None or row.user_id != user.id:
        raise Unauthorized("token_invalid")
    if row.used_at is not None or row.revoked_at is not None:
        log.warning("refresh token reuse detected; revoking family", extra={"user_id": user.id})
        revoke_family(row.family_id)
        db.session.commit()
        raise Unauthorized("token_revoked")
    row.used_at = utcnow()
    return issue_pair(user, fresh=False, family_id=row.family_id)


def revoke_token(payload: dict) -> None:
    _revoke(f"jti:{payload['jti']}", _remaining_seconds(payload["exp"]))


def revoke_all_for_user(user_id: str) -> None:
    families = db.session.scalars(
        select(RefreshToken.family_id)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .distinct()
    ).all()
    for family in families:
        revoke_family(family)


# ---- required claims -----------------------------------------------------------------------------------

# Every claim jaki relies on, with its type. flask-jwt-extended would accept a token without exp (it never
# expires), without type (it counts as an access token) or without jti (it cannot be revoked).
REQUIRED_CLAIMS = {"exp": int, "iat": int, "jti": str, "type": str, "sub": str, "role": str}
TOKEN_TYPES = ("access", "refresh")


def check_claims(claims: dict) -> None:
    """Refuse (401 token_invalid) a token missing a required claim or holding one of the wrong kind."""
    for name, kind in REQUIRED_CLAIMS.items():
        if name not in claims:
            raise MissingRequiredClaimError(name)
        value = claims[name]
        # bool is an int to Python; a numeric string is one to PyJWT: neither is a timestamp here.
        if type(value) is not kind or (kind is str and not 0 < len(value) <= 64):
            raise InvalidTokenError(f"claim {name} is not valid")
    if claims["type"] not in TOKEN_TYPES or claims["role"] not in ROLES:
        raise InvalidTokenError("claim type or role is not valid")


# ---- the signed-in user: loaded once, and only by views that need the record ----------------------------


def checked_user(payload: dict) -> User | None:
    """The token's user, or None when the account is gone or disabled or the token predates a password change."""
    # One round trip: the account and its staff areas together (selectin would be a second query per request).
    user = db.session.get(User, payload["sub"], options=[joinedload(User.areas)])
    if user is None or user.status == "disabled":
        return None
    # Tokens minted before a password change are dead (the change revokes families too; this is the
    # belt to those braces, and covers access tokens whose family was not known).
    if payload["iat"] < user.tokens_valid_from:
        return None
    return user


class DeferredUser:
    """current_user of a view that may answer without the account row (a cached answer): the token's id and role
    now, the checked User record on first use of anything else (one query, then kept for the request)."""

    def __init__(self, payload: dict):
        self.id = payload["sub"]
        self.role = payload["role"]
        self._payload = payload
        self._user: User | None = None

    def load(self) -> User:
        if self._user is None:
            self._user = checked_user(self._payload)
            if self._user is None:
                raise Unauthorized("token_revoked", headers={"WWW-Authenticate": "Bearer"})
        return self._user

    def __getattr__(self, name: str):
        return getattr(self.load(), name)

    def __setattr__(self, name: str, value) -> None:
        # A view that writes the account writes the record, never this stand-in.
        if name in self.__slots_own__:
            object.__setattr__(self, name, value)
        else:
            setattr(self.load(), name, value)

    __slots_own__ = frozenset({"id", "role", "_payload", "_user"})


def user_record(user) -> User:
    """The User behind current_user, loading it if the view deferred it."""
    return user.load() if isinstance(user, DeferredUser) else user


# ---- flask-jwt-extended callbacks: every answer in the one envelope, 422s become 401s ------------------


def register_jwt_callbacks(jwt) -> None:
    @jwt.decode_key_loader
    def decode_key(_header, unverified_claims):
        # The first hook flask-jwt-extended gives every token it decodes, before its own checks (type,
        # revocation, user) read the claims; the signature is verified right after.
        check_claims(unverified_claims)
        return jwt_config.decode_key

    @jwt.user_lookup_loader
    def load_user(_header, payload):
        if g.get(DEFER_USER):
            return DeferredUser(payload)
        return checked_user(payload)

    @jwt.token_in_blocklist_loader
    def blocklisted(_header, payload):
        return is_revoked(payload)

    def _401(code):
        return envelope(401, code, translate(code), headers={"WWW-Authenticate": "Bearer"})

    jwt.unauthorized_loader(lambda _reason: _401("unauthorized"))
    jwt.invalid_token_loader(lambda _reason: _401("token_invalid"))
    jwt.expired_token_loader(lambda _h, _p: _401("token_expired"))
    jwt.revoked_token_loader(lambda _h, _p: _401("token_revoked"))
    jwt.user_lookup_error_loader(lambda _h, _p: _401("token_revoked"))
    jwt.needs_fresh_token_loader(lambda _h, _p: _401("fresh_token_required"))
    jwt.token_verification_failed_loader(lambda _h, _p: _401("token_invalid"))
