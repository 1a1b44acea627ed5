"""Identity business layer: registration, phone verification, login, password and profile, staff accounts."""

from __future__ import annotations

import logging
import secrets
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from jaki import audit
from jaki.agencies.models import Agency
from jaki.api import Keyset, Page
from jaki.audit import AuditEntry
from jaki.auth import nik as nik_mod
from jaki.auth import tokens
from jaki.auth.crypto import hash_password, hash_secret, needs_rehash, nik_index, verify_password
from jaki.auth.models import STAFF_ROLES, LoginThrottle, OtpChallenge, RefreshToken, StaffArea, User
from jaki.auth.phones import normalize_phone
from jaki.auth.population import registry, same_name
from jaki.auth.sms import sms_sender
from jaki.db import dialect_insert, utcnow
from jaki.errors import Conflict, Forbidden, JakiError, NotFound, RateLimited, Unauthorized, field_error
from jaki.extensions import db
from jaki.geo.models import Area
from jaki.pdp.access import EXPORT, record_read
from jaki.pdp.scope import check_read
from jaki.settings import setting

log = logging.getLogger(__name__)

OTP_PURPOSE_PHONE = "phone_verify"


# ---- validation helpers -----------------------------------------------------------------------------


def kecamatan_exists(dotted_code: str) -> bool | None:
    """None while no areas are loaded (only the kota is checked then)."""
    loaded = db.session.scalar(select(exists().where(Area.level == "kecamatan")))
    if not loaded:
        return None
    return db.session.get(Area, dotted_code) is not None


def parse_nik(raw: str, *, field: str = "nik", birth_date: date | None = None) -> nik_mod.NIK:
    try:
        return nik_mod.parse(raw, birth_date=birth_date, kecamatan_exists=kecamatan_exists)
    except nik_mod.InvalidNIK as exc:
        raise field_error(field, exc.code) from None


def check_password_strength(password: str, *, nik: str, phone: str | None = None) -> None:
    lowered = password.lower()
    trivial = password.isdigit() and len(set(password)) < 3
    if len(password) < 10 or lowered in (nik, (phone or "").lstrip("+")) or trivial:
        raise field_error("password", "password_weak")


# ---- registration and phone verification -------------------------------------------------------------


def register(
    *, nik: str, full_name: str, birth_date: date, phone: str, password: str, email: str | None = None
) -> User:
    parsed = parse_nik(nik, birth_date=birth_date)
    phone = normalize_phone(phone)
    check_password_strength(password, nik=parsed.value, phone=phone)
    person = registry().lookup(parsed.value)
    if person is None or not same_name(person.full_name, full_name) or person.birth_date != birth_date:
        # One answer for "not in the registry" and "details differ": the registry is not an oracle.
        raise JakiError("nik_not_in_registry", status=422)
    index = nik_index(parsed.value)
    if db.session.scalar(select(exists().where(User.nik_index == index))):
        raise Conflict("account_exists")
    user = User(
        role="citizen",
        status="pending",
        full_name=person.full_name,
        birth_date=person.birth_date,
        sex=parsed.sex,
        email=email,
        password_hash=hash_password(password),
        home_kelurahan_code=_known_area(person.kelurahan_code),
        kk_index=person.kk_index,
    )
    user.nik = parsed.value
    user.phone = phone
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("account_exists") from None
    send_otp(user, OTP_PURPOSE_PHONE, enforce_cooldown=False)
    db.session.commit()
    log.info("citizen registered", extra={"user_id": user.id})
    return user


def _known_area(code: str | None) -> str | None:
    if code and db.session.get(Area, code) is not None:
        return code
    return None


def send_otp(user: User, purpose: str, *, enforce_cooldown: bool = True) -> None:
    cfg = current_app.config
    now = utcnow()
    latest = db.session.scalar(
        select(OtpChallenge)
        .where(OtpChallenge.user_id == user.id, OtpChallenge.purpose == purpose)
        .order_by(OtpChallenge.created_at.desc())
        .limit(1)
    )
    if enforce_cooldown and latest is not None:
        wait = int((latest.created_at + timedelta(seconds=cfg["OTP_RESEND_SECONDS"]) - now).total_seconds())
        if wait > 0:
            raise RateLimited("otp_resend_too_soon", seconds=wait, headers={"Retry-After": str(wait)})
    code = f"{secrets.randbelow(10**6):06d}"
    db.session.add(
        OtpChallenge(
            user_id=user.id,
            purpose=purpose,
            code_hash=hash_secret(f"{user.id}:{code}"),
            expires_at=now + timedelta(seconds=cfg["OTP_TTL_SECONDS"]),
        )
    )
    sms_sender().send(user.phone, f"Kode verifikasi JAKI Anda: {code}. Jangan berikan kode ini kepada siapa pun.")


def resend_otp(nik: str) -> None:
    """Always answers the same way, whether or not the NIK has a pending account (no enumeration)."""
    parsed = parse_nik(nik)
    user = db.session.scalar(select(User).where(User.nik_index == nik_index(parsed.value)))
    if user is not None and user.phone_verified_at is None:
        send_otp(user, OTP_PURPOSE_PHONE)
        db.session.commit()


def verify_phone(nik: str, code: str) -> User:
    parsed = parse_nik(nik)
    user = db.session.scalar(select(User).where(User.nik_index == nik_index(parsed.value)))
    if user is None:
        raise JakiError("otp_invalid", status=422)
    challenge = db.session.scalar(
        select(OtpChallenge)
        .where(
            OtpChallenge.user_id == user.id,
            OtpChallenge.purpose == OTP_PURPOSE_PHONE,
            OtpChallenge.consumed_at.is_(None),
        )
        .order_by(OtpChallenge.created_at.desc())
        .limit(1)
    )
    now = utcnow()
    if challenge is None or challenge.expires_at <= now:
        raise JakiError("otp_invalid", status=422)
    if challenge.attempts >= setting("OTP_MAX_ATTEMPTS"):
        raise JakiError("otp_too_many_attempts", status=429)
    challenge.attempts += 1
    if not secrets.compare_digest(challenge.code_hash, hash_secret(f"{user.id}:{code}")):
        db.session.commit()  # the attempt counts even though the answer is an error
        raise JakiError("otp_invalid", status=422)
    challenge.consumed_at = now
    user.phone_verified_at = now
    if user.status == "pending":
        user.status = "active"
    db.session.commit()
    return user


# ---- login ------------------------------------------------------------------------------------------


def _record_failure(index: str, now) -> None:
    """One more failure for the NIK, counted in the database itself: parallel guesses each count (a read, then a
    write of failures + 1, lost some and met a duplicate key on the first failure: a 500)."""
    table = LoginThrottle.__table__
    failures = db.session.execute(
        dialect_insert(table)
        .values(nik_index=index, failures=1, last_failure_at=now)
        .on_conflict_do_update(
            index_elements=[table.c.nik_index], set_={"failures": table.c.failures + 1, "last_failure_at": now}
        )
        .returning(table.c.failures)
    ).scalar_one()
    lock = _lock_seconds(failures)
    if lock:
        db.session.execute(
            update(table).where(table.c.nik_index == index).values(locked_until=now + timedelta(seconds=lock))
        )


def _lock_seconds(failures: int) -> int:
    cfg = current_app.config
    over = failures - cfg["LOGIN_LOCKOUT_THRESHOLD"]
    if over < 0:
        return 0
    return min(cfg["LOGIN_LOCKOUT_BASE_SECONDS"] * (2 ** min(over, 20)), cfg["LOGIN_LOCKOUT_MAX_SECONDS"])


def check_password(index: str, password_hash: str | None, password: str) -> bool:
    """The one password check behind login, re-authentication and password change, all sharing one lock per
    NIK: while locked even the right password is refused (429); a wrong one counts towards the lock (committed
    before the caller answers). The right password clears the count, in the caller's transaction."""
    now = utcnow()
    throttle = db.session.get(LoginThrottle, index)
    if throttle is not None and throttle.locked_until is not None and throttle.locked_until > now:
        wait = int((throttle.locked_until - now).total_seconds()) + 1
        raise RateLimited("account_locked", seconds=wait, headers={"Retry-After": str(wait)})
    if verify_password(password_hash, password):
        if throttle is not None:
            db.session.delete(throttle)
        return True
    _record_failure(index, now)
    db.session.commit()
    return False


def login(nik: str, password: str) -> dict:
    try:
        value = nik_mod.parse(nik).value
    except nik_mod.InvalidNIK:
        value = None
    if value is None:
        verify_password(None, password)  # same work as a real check
        raise Unauthorized("login_failed")
    index = nik_index(value)
    # A login never reads the staff areas (the tokens carry the role only): not loaded.
    user = db.session.scalar(select(User).where(User.nik_index == index).options(lazyload(User.areas)))
    if not check_password(index, user.password_hash if user else None, password):
        raise Unauthorized("login_failed")
    if user.status == "disabled":
        raise Forbidden("account_inactive")
    if user.phone_verified_at is None:
        raise Forbidden("phone_not_verified")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    pair = tokens.issue_pair(user, fresh=True)
    who = {"user_id": user.id, "role": user.role}  # read before the commit expires them (a reload otherwise)
    db.session.commit()
    log.info("login", extra=who)
    return pair


def reauthenticate(user: User, password: str) -> dict:
    """A fresh access token for sensitive actions, in the same token family. A stolen access token must not be
    a way to guess the password: the login's lock applies (the rate limits are on the route)."""
    if not check_password(user.nik_index, user.password_hash, password):
        raise Unauthorized("password_wrong")
    db.session.commit()
    from flask_jwt_extended import create_access_token, get_jwt

    family = get_jwt().get("fam")
    fresh_for = timedelta(minutes=setting("FRESH_TOKEN_MINUTES"))
    access = create_access_token(
        identity=user.id, additional_claims={"role": user.role, "fam": family}, fresh=fresh_for
    )
    return {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": int(setting("JWT_ACCESS_TOKEN_EXPIRES").total_seconds()),
    }


def change_password(user: User, current_password: str, new_password: str) -> dict:
    if not check_password(user.nik_index, user.password_hash, current_password):
        raise Unauthorized("password_wrong")
    check_password_strength(new_password, nik=user.nik, phone=user.phone)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    tokens.revoke_all_for_user(user.id)
    pair = tokens.issue_pair(user, fresh=True)
    db.session.commit()
    return pair


def logout(access_payload: dict, refresh_token: str | None) -> None:
    tokens.revoke_token(access_payload)
    family = access_payload.get("fam")
    if family:
        tokens.revoke_family(family)
    if refresh_token:
        from flask_jwt_extended import decode_token

        try:
            payload = decode_token(refresh_token, allow_expired=True)
        except Exception:  # noqa: BLE001 - a garbage refresh token at logout is simply ignored
            payload = None
        if payload and payload.get("sub") == access_payload["sub"]:
            tokens.revoke_token(payload)
    db.session.commit()


# ---- profile ----------------------------------------------------------------------------------------


def update_profile(user: User, changes: dict) -> User:
    """Only email and the home kelurahan may be changed here; name, NIK and birth date come from Dukcapil."""
    if "email" in changes:
        user.email = changes["email"]
    if "home_kelurahan_code" in changes:
        code = changes["home_kelurahan_code"] or None  # "" clears it, as null does
        area = db.session.get(Area, code) if code else None
        if code and (area is None or area.level != "kelurahan"):
            raise field_error("home_kelurahan_code", "area_unknown")
        user.home_kelurahan_code = code
    db.session.commit()
    return user


def data_export(user: User) -> dict:
    """Everything jaki holds about the person (UU PDP right of access). Domains add their sections."""
    sessions = db.session.scalars(
        select(RefreshToken).where(RefreshToken.user_id == user.id).order_by(RefreshToken.issued_at)
    ).all()
    access_log = db.session.scalars(
        select(AuditEntry).where(AuditEntry.subject_id == user.id).order_by(AuditEntry.at)
    ).all()
    export = {
        "account": {
            "id": user.id,
            "nik": user.nik,
            "full_name": user.full_name,
            "birth_date": user.birth_date.isoformat(),
            "sex": user.sex,
            "phone": user.phone,
            "email": user.email,
            "role": user.role,
            "status": user.status,
            "home_kelurahan_code": user.home_kelurahan_code,
            "created_at": user.created_at.isoformat(),
            "phone_verified_at": user.phone_verified_at.isoformat() if user.phone_verified_at else None,
            "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
        },
        "sessions": [
            {
                "issued_at": s.issued_at.isoformat(),
                "expires_at": s.expires_at.isoformat(),
                "revoked": s.revoked_at is not None,
            }
            for s in sessions
        ],
        "accessed_by_officials": [
            {
                "at": a.at.isoformat(),
                "actor_role": a.actor_role,
                "action": a.action,
                "fields": a.fields,
                "reason": a.reason,
                "lawful_basis": a.lawful_basis,
            }
            for a in access_log
        ],
    }
    for section, provider in current_app.extensions.get("jaki.export_sections", {}).items():
        export[section] = provider(user)
    # An export is a read too: a stolen session's export shows in the person's access log.
    record_read(
        db.session,
        subject_index=user.nik_index,
        kind=EXPORT,
        action="user.data_export",
        fields=tuple(export),
        purpose="UU PDP right of access",
        lawful_basis="legal_obligation",
        notify=False,
    )
    db.session.commit()
    return export


# ---- staff ------------------------------------------------------------------------------------------


def create_staff(
    *,
    nik: str,
    full_name: str,
    birth_date: date,
    phone: str,
    password: str,
    role: str,
    agency_code: str | None = None,
    area_codes: list[str] | None = None,
    email: str | None = None,
) -> User:
    if role not in STAFF_ROLES:
        raise field_error("role", "role_invalid")
    parsed = parse_nik(nik, birth_date=birth_date)
    phone = normalize_phone(phone)
    check_password_strength(password, nik=parsed.value, phone=phone)
    if role in ("officer", "agency_admin"):
        if not agency_code or db.session.get(Agency, agency_code) is None:
            raise field_error("agency_code", "agency_unknown")
    elif agency_code:
        raise field_error("agency_code", "role_invalid")
    area_codes = sorted(set(area_codes or []))
    unknown = [c for c in area_codes if db.session.get(Area, c) is None]
    if unknown:
        raise field_error("area_codes", "area_unknown")
    if db.session.scalar(select(exists().where(User.nik_index == nik_index(parsed.value)))):
        raise Conflict("account_exists")
    user = User(
        role=role,
        status="active",
        full_name=full_name,
        birth_date=birth_date,
        sex=parsed.sex,
        email=email,
        password_hash=hash_password(password),
        agency_code=agency_code,
        phone_verified_at=utcnow(),
    )
    user.nik = parsed.value
    user.phone = phone
    user.areas = [StaffArea(area_code=c) for c in area_codes]
    db.session.add(user)
    db.session.commit()
    log.info("staff account created", extra={"user_id": user.id, "role": role})
    return user


def read_person(actor: User, user_id: str, reason: str | None, break_glass: str | None = None) -> User:
    """A staff read of someone else's personal data: needs a stated reason and leaves an audit row. Outside the
    official's scope (need to know, jaki.pdp.scope) only as a break-glass read: a listed reason, reviewed later."""
    reason = audit.access_reason(reason)
    person = db.session.get(User, user_id)
    if person is None or person.status == "deleted":
        raise NotFound()
    glass = check_read(actor, person, break_glass)
    audit.record(
        db.session,
        actor=actor,
        subject_id=person.id,
        action="user.read",
        fields=("full_name", "nik_masked", "birth_date", "phone_masked", "email"),
        reason=reason,
        break_glass_code=glass,
    )
    db.session.commit()
    return person


AUDIT_ORDER = Keyset((audit.AuditEntry.id,), ("int",), descending=True)


def audit_log(*, subject_id: str | None, actor_id: str | None, limit: int, cursor: str | None) -> Page:
    """The personal-data access log, newest first, in keyset pages."""
    query = select(audit.AuditEntry)
    if subject_id:
        query = query.where(audit.AuditEntry.subject_id == subject_id)
    if actor_id:
        query = query.where(audit.AuditEntry.actor_id == actor_id)
    return AUDIT_ORDER.page(query, limit=limit, cursor=cursor)
