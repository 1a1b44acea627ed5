"""Token issue, rotation with reuse detection, revocation (Redis with TTL, or a table), JWT callbacks."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from flask_jwt_extended.config import config as jwt_config
from jwt.exceptions import InvalidTokenError, MissingRequiredClaimError
from sqlalchemy import delete, select, update

from jaki.auth.models import ROLES, RefreshToken, RevokedToken, User
from jaki.db import utcnow
from jaki.errors import Unauthorized, envelope
from jaki.extensions import db
from jaki.i18n import translate
from jaki.settings import setting

log = logging.getLogger(__name__)


# ---- revocation store -------------------------------------------------------------------------------


class RedisRevocations:
    def __init__(self, redis):
        self.redis = redis

    def revoke(self, key: str, ttl_seconds: int) -> None:
        if ttl_seconds > 0:
            self.redis.set(f"jaki:revoked:{key}", b"1", ex=ttl_seconds)

    def any_revoked(self, keys: list[str]) -> bool:
        return any(self.redis.mget([f"jaki:revoked:{k}" for k in keys]))


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

    @staticmethod
    def purge_expired() -> int:
        result = db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= utcnow()))
        return result.rowcount or 0


def revocations():
    redis = current_app.extensions.get("jaki.redis")
    return RedisRevocations(redis) if redis is not None else TableRevocations()


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
    revocations().revoke(f"fam:{family_id}", max_life)
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
    revocations().revoke(f"jti:{payload['jti']}", _remaining_seconds(payload["exp"]))


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
        user = db.session.get(User, payload["sub"])
        if user is None or user.status == "disabled":
            return None
        # Tokens minted before a password change are dead (the change revokes families too; this is the
        # belt to those braces, and covers access tokens whose family was not known).
        changed = user.password_changed_at
        if changed is not None and payload["iat"] < int(changed.timestamp()):
            return None
        return user

    @jwt.token_in_blocklist_loader
    def is_revoked(_header, payload):
        keys = [f"jti:{payload['jti']}"]
        if payload.get("fam"):
            keys.append(f"fam:{payload['fam']}")
        return revocations().any_revoked(keys)

    def _401(code):
        return envelope(401, code, translate(code), headers={"WWW-Authenticate": "Bearer"})

    jwt.unauthorized_loader(lambda _reason: _401("unauthorized"))
    jwt.invalid_token_loader(lambda _reason: _401("token_invalid"))
    jwt.expired_token_loader(lambda _h, _p: _401("token_expired"))
    jwt.revoked_token_loader(lambda _h, _p: _401("token_revoked"))
    jwt.user_lookup_error_loader(lambda _h, _p: _401("token_revoked"))
    jwt.needs_fresh_token_loader(lambda _h, _p: _401("fresh_token_required"))
    jwt.token_verification_failed_loader(lambda _h, _p: _401("token_invalid"))
