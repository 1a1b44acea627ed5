"""Idempotency-Key for every create: the first answer is stored in the database and a retry gets it again."""

# One implementation for every create (jaki.api.Blueprint applies it to each signed-in POST answering 201/202;
# Open311's POST names its own caller). A key belongs to one caller (the account, or the Open311 API key) and one
# request: the method, the route, its path arguments, the query and the body (JSON canonically, form fields and
# the bytes of each file, whatever multipart boundary the retry uses). The row is committed before the view runs,
# so a duplicate sent at the same time meets the unique constraint and waits for the first answer instead of
# acting twice. Only successful answers are kept: after an error the key is released and the client may retry.

from __future__ import annotations

import hashlib
import json
import re
import time
from contextlib import suppress
from datetime import datetime, timedelta
from functools import wraps

from flask import Response, current_app, g, request
from flask_jwt_extended import get_jwt_identity, verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt.exceptions import PyJWTError
from sqlalchemy import JSON, Integer, LargeBinary, String, UniqueConstraint, delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from jaki.apidoc import mark_operation
from jaki.auth.deferral import DEFER_USER
from jaki.db import Base, db, dialect_insert, utcnow
from jaki.errors import Conflict, field_error
from jaki.i18n import register
from jaki.settings import setting

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,100}")
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_HEADERS = ("Content-Type", "Location", "ETag")
_POLL_SECONDS = 0.05

register(
    {
        "idempotency_key_reused": (
            "Idempotency-Key ini sudah dipakai untuk permintaan lain.",
            "This Idempotency-Key was already used for a different request.",
        ),
        "idempotency_key_invalid": (
            "Idempotency-Key harus 8-100 karakter (huruf, angka, - atau _).",
            "The Idempotency-Key must be 8-100 characters (letters, digits, - or _).",
        ),
        "idempotency_key_in_progress": (
            "Permintaan dengan Idempotency-Key ini masih diproses. Coba lagi sebentar lagi.",
            "A request with this Idempotency-Key is still being processed. Try again in a moment.",
        ),
    }
)


class IdempotencyRecord(Base):
    """A create's key and, once it succeeded, its answer (status, body, the headers a client needs)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("principal", "key", name="uq_idempotency_keys_principal_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    principal: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(100))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)  # None while the first request runs
    body: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    headers: Mapped[dict | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


def signed_in_principal() -> str | None:
    """The caller's account; None without a valid access token (the view itself then answers 401).

    The token's subject names the caller: the account row is left to the view's own check, which loads it once
    (loaded here, it would be read again after the claim's commit expired it)."""
    setattr(g, DEFER_USER, True)
    try:
        verify_jwt_in_request(optional=True)
    except (JWTExtendedException, PyJWTError):
        return None
    identity = get_jwt_identity()
    return f"user:{identity}" if identity else None


def idempotent(principal=signed_in_principal):
    """Decorate a create so that a request carrying Idempotency-Key is answered once per key and body."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            key = request.headers.get(HEADER)
            if key is None:
                return view(*args, **kwargs)
            owner = principal()
            if owner is None:
                return view(*args, **kwargs)
            if not KEY_PATTERN.fullmatch(key):
                raise field_error(HEADER, "idempotency_key_invalid")
            stored = claim(owner, key, fingerprint())
            if isinstance(stored, Response):
                return stored
            try:
                response = current_app.make_response(view(*args, **kwargs))
            except BaseException:
                # The error answers the client; should the database be what failed, the row stays pending and
                # is taken over once IDEMPOTENCY_PENDING_SECONDS have passed.
                with suppress(SQLAlchemyError):
                    release(stored)
                raise
            if 200 <= response.status_code < 300:
                keep(stored, response)
            else:
                release(stored)
            return response

        return mark_operation(wrapper, idempotent=True)

    return decorator


# ---- what makes two requests the same ----


def _file_digest(upload) -> str:
    digest = hashlib.sha256()
    stream = upload.stream
    for chunk in iter(lambda: stream.read(1 << 16), b""):
        digest.update(chunk)
    stream.seek(0)  # the view reads the upload again
    return digest.hexdigest()


def _body() -> object:
    if request.is_json:
        body = request.get_json(silent=True)
        return ["json", body] if body is not None else ["raw", hashlib.sha256(request.get_data()).hexdigest()]
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        # str(): a part may come without a name (werkzeug gives None), and None does not sort.
        fields = sorted((str(name), str(value)) for name, value in request.form.items(multi=True))
        files = sorted((str(name), _file_digest(upload)) for name, upload in request.files.items(multi=True))
        return ["form", fields, files]
    return ["raw", hashlib.sha256(request.get_data()).hexdigest()]


def fingerprint() -> str:
    """The request a key stands for, as a digest."""
    described = [
        request.method,
        request.url_rule.rule if request.url_rule else request.path,
        sorted((request.view_args or {}).items()),
        sorted(request.args.items(multi=True)),
        _body(),
    ]
    return hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()


# ---- the stored answer ----


def _ttl() -> timedelta:
    return timedelta(seconds=setting("IDEMPOTENCY_TTL_SECONDS"))


def find(principal: str, key: str):
    """The stored row for a caller's key (read past the session's identity map: another process may have written it)."""
    return db.session.execute(
        select(
            IdempotencyRecord.id,
            IdempotencyRecord.fingerprint,
            IdempotencyRecord.status_code,
            IdempotencyRecord.body,
            IdempotencyRecord.headers,
            IdempotencyRecord.created_at,
            IdempotencyRecord.expires_at,
        ).where(IdempotencyRecord.principal == principal, IdempotencyRecord.key == key)
    ).first()


def _replay(row) -> Response:
    response = Response(row.body, status=row.status_code)
    for name, value in (row.headers or {}).items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


def insert_key(principal: str, key: str, digest: str, now: datetime) -> int | None:
    """The new row's id, or None when the caller's key is stored already (one statement: on PostgreSQL a duplicate
    made at the same moment waits for the first's commit, then finds its row)."""
    table = IdempotencyRecord.__table__
    return db.session.execute(
        dialect_insert(table)
        .values(principal=principal, key=key, fingerprint=digest, created_at=now, expires_at=now + _ttl())
        .on_conflict_do_nothing(index_elements=[table.c.principal, table.c.key])
        .returning(table.c.id)
    ).scalar()


def claim(principal: str, key: str, digest: str) -> int | Response:
    """The new row's id when this request is the first with the key; the stored answer when one exists. Raises
    422 for the key used with another request, 409 when the first is still running after the wait."""
    deadline = time.monotonic() + setting("IDEMPOTENCY_WAIT_SECONDS")
    abandoned = timedelta(seconds=setting("IDEMPOTENCY_PENDING_SECONDS"))
    vanished = 0
    insert_next = True  # once the key is found stored, only read it, until it is gone
    while True:
        now = utcnow()
        if insert_next:
            record_id = insert_key(principal, key, digest, now)
            if record_id is not None:
                db.session.commit()  # visible to a duplicate at once: the unique constraint decides between them
                return record_id
        row = find(principal, key)
        insert_next = row is None
        if row is None:
            # Released (the first attempt failed) since it was met: try to be first again.
            vanished += 1
            if vanished > 5:  # a key the constraint refuses but no one holds: not a race, a bug
                raise RuntimeError("idempotency_keys refuses a key that is not stored")
            db.session.rollback()
            continue
        if row.expires_at <= now or (row.status_code is None and row.created_at < now - abandoned):
            db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == row.id))
            db.session.commit()
            insert_next = True
            continue
        if row.fingerprint != digest:
            raise field_error(HEADER, "idempotency_key_reused")
        if row.status_code is not None:
            return _replay(row)
        if time.monotonic() >= deadline:
            raise Conflict("idempotency_key_in_progress", headers={"Retry-After": "1"})
        db.session.rollback()  # end the read transaction: the next look sees the first request's commit
        time.sleep(_POLL_SECONDS)


def keep(record_id: int, response: Response) -> None:
    headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
    db.session.rollback()  # whatever the view left uncommitted is not part of its answer
    db.session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record_id)
        .values(status_code=response.status_code, body=response.get_data(), headers=headers)
    )
    db.session.commit()


def release(record_id: int) -> None:
    """Forget the key after a failed attempt, so that the client's retry runs again."""
    db.session.rollback()
    db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))
    db.session.commit()


def purge_expired() -> int:
    """Delete keys past their lifetime (periodic)."""
    result = db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= utcnow()))
    db.session.commit()
    return result.rowcount
