"""Evidence bound to the task: capture tokens, the checks an evidence photo must pass, and the hash-chained log."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text, union_all, update
from sqlalchemy.exc import IntegrityError

from jaki.auth.models import User
from jaki.db import utcnow
from jaki.errors import Conflict, Forbidden, JakiError
from jaki.extensions import db
from jaki.geo.spatial import haversine_m
from jaki.i18n import translate
from jaki.media import phash
from jaki.reports import capture
from jaki.reports import workflow as wf
from jaki.reports.events import record_history
from jaki.reports.models import CaptureToken, EvidenceLogEntry, PhotoHashBand, Report, ReportPhoto
from jaki.reports.photos import discard_photos, enqueue_thumbnails, sanitize_uploads, store_photo
from jaki.reports.scope import load_report, may_work
from jaki.settings import setting

GENESIS = "0" * 64
PHASES = ("before", "after")
# Serialises appends to the evidence log on PostgreSQL (the unique prev_hash refuses a fork everywhere).
_CHAIN_LOCK = 15_015


def new_capture_token(actor: User, report_id: str) -> capture.Minted:
    """Another token for the next photo: the officer working the report, while it is in progress."""
    report = load_report(report_id)
    if not actor.is_staff or not may_work(actor, report):
        raise Forbidden()
    if report.status != wf.IN_PROGRESS:
        raise Conflict("evidence_not_allowed")
    if report.assigned_officer_id not in (None, actor.id):
        raise Conflict("report_already_claimed")
    minted = capture.mint(report, actor, capture.work_started_at(report) or utcnow())
    db.session.commit()
    return minted


def _refuse(code: str, status: int = 422, field: str = "photos", **params) -> JakiError:
    message = translate(code, **params)
    return JakiError(code, status=status, message=message, errors={field: [message]})


def _check_token(token: str | None, report: Report, actor: User) -> CaptureToken:
    if not token:
        raise _refuse("capture_token_missing", 422, "token")
    row = db.session.scalar(select(CaptureToken).where(CaptureToken.token_hash == capture.digest(token)))
    if row is None or row.report_id != report.id or row.round != report.reopen_count or row.officer_id != actor.id:
        raise _refuse("capture_token_invalid", 403, "token")
    if row.used_at is not None:
        raise _refuse("capture_token_used", 409, "token")
    if row.expires_at <= utcnow():
        raise _refuse("capture_token_expired", 403, "token")
    return row


def _check_fix(report: Report, latitude, longitude, accuracy_m) -> float:
    values = (latitude, longitude, accuracy_m)
    if any(v is None or not math.isfinite(v) for v in values) or not (
        -90 <= latitude <= 90 and -180 <= longitude <= 180
    ):
        raise _refuse("evidence_fix_missing", 422, "latitude")
    limit = setting("REPORTS_EVIDENCE_MAX_ACCURACY_M")
    if accuracy_m < 0 or accuracy_m > limit:
        raise _refuse("evidence_fix_imprecise", 422, "accuracy_m", max=limit)
    distance = haversine_m(report.latitude, report.longitude, latitude, longitude)
    radius = report.category.evidence_radius_m
    if distance > radius + accuracy_m:
        raise _refuse("evidence_too_far", 422, "latitude", distance=int(distance), radius=radius)
    return distance


def _check_time(captured_at: datetime | None, started_at: datetime, now: datetime) -> None:
    if captured_at is None:
        raise _refuse("evidence_capture_time_missing", 422, "captured_at")
    skew = timedelta(seconds=setting("REPORTS_EVIDENCE_CLOCK_SKEW_SECONDS"))
    if captured_at < started_at - skew:
        raise _refuse("evidence_captured_before_claim", 422, "captured_at")
    if captured_at > now + skew:
        raise _refuse("evidence_captured_after_upload", 422, "captured_at")


def find_reused(report: Report, hash_hex: str, now: datetime) -> ReportPhoto | None:
    """A photo this one repeats: any of the report's own photos, or evidence of the last 90 days anywhere.

    The band index narrows the 90 days to the photos sharing an 8-bit band (any within distance 7 does); the
    exact distance is then counted on those few."""
    threshold = setting("REPORTS_PHASH_MAX_DISTANCE")
    own = db.session.scalars(
        select(ReportPhoto).where(ReportPhoto.report_id == report.id, ReportPhoto.phash.is_not(None))
    ).all()
    for photo in own:
        if phash.distance(photo.phash, hash_hex) <= threshold:
            return photo
    since = now - timedelta(days=setting("REPORTS_EVIDENCE_REUSE_DAYS"))
    # One index range per band (UNION ALL: each branch its own range scan), the hashes read from the index.
    branches = [
        select(PhotoHashBand.photo_id, PhotoHashBand.phash).where(
            PhotoHashBand.band == band, PhotoHashBand.value == value, PhotoHashBand.created_at >= since
        )
        for band, value in enumerate(phash.bands(hash_hex))
    ]
    for photo_id, other in db.session.execute(union_all(*branches)):
        if phash.distance(other, hash_hex) <= threshold:
            return db.session.get(ReportPhoto, photo_id)
    return None


def index_hash(photo: ReportPhoto) -> None:
    for band, value in enumerate(phash.bands(photo.phash)):
        db.session.add(
            PhotoHashBand(
                photo_id=photo.id,
                band=band,
                value=value,
                phash=photo.phash,
                kind=photo.kind,
                created_at=photo.created_at,
            )
        )


def add_evidence(
    actor: User,
    report_id: str,
    upload: bytes,
    *,
    token: str | None,
    captured_at: datetime | None,
    latitude: float | None,
    longitude: float | None,
    accuracy_m: float | None,
    phase: str = "after",
) -> ReportPhoto:
    """One photo proving the work, checked against the task: the assignment's capture token (single use), a
    fix near the report, a capture time between the start of work and now, and not a picture seen before."""
    report = load_report(report_id)
    if not actor.is_staff or not may_work(actor, report):
        raise Forbidden()
    if report.status != wf.IN_PROGRESS:
        raise Conflict("evidence_not_allowed")
    if actor.role == "officer" and report.assigned_officer_id not in (None, actor.id):
        raise Conflict("report_already_claimed")
    now = utcnow()
    grant = _check_token(token, report, actor)
    distance = _check_fix(report, latitude, longitude, accuracy_m)
    _check_time(captured_at, grant.work_started_at, now)
    this_round = db.session.scalar(
        select(func.count(ReportPhoto.id)).where(
            ReportPhoto.report_id == report.id, ReportPhoto.kind == "evidence", ReportPhoto.round == report.reopen_count
        )
    )
    (photo,) = sanitize_uploads([upload], already=this_round)
    hash_hex = phash.dhash(photo.content)
    if find_reused(report, hash_hex, now) is not None:
        raise _refuse("evidence_photo_reused", 409)
    # Single use across processes: one conditional UPDATE; whoever changes the row first owns the token.
    used = db.session.execute(
        update(CaptureToken.__table__)
        .where(CaptureToken.id == grant.id, CaptureToken.used_at.is_(None))
        .values(used_at=now)
    )
    if used.rowcount != 1:
        db.session.rollback()
        raise _refuse("capture_token_used", 409, "token")
    position = db.session.scalar(
        select(func.coalesce(func.max(ReportPhoto.position), -1)).where(ReportPhoto.report_id == report.id)
    )
    stored = store_photo(
        report, photo, kind="evidence", position=position + 1, uploader=actor, round_=report.reopen_count
    )
    try:
        stored.phash, stored.phase, stored.created_at = hash_hex, phase, now
        db.session.flush()
        index_hash(stored)
        db.session.execute(update(CaptureToken.__table__).where(CaptureToken.id == grant.id).values(photo_id=stored.id))
        entry = append_log(
            report_id=report.id,
            photo_id=stored.id,
            round=report.reopen_count,
            phase=phase,
            actor_id=actor.id,
            at=now,
            captured_at=captured_at,
            latitude=latitude,
            longitude=longitude,
            accuracy_m=accuracy_m,
            distance_m=round(distance, 1),
            sha256=hashlib.sha256(upload).hexdigest(),
            stored_sha256=photo.sha256,
            phash=hash_hex,
        )
        record_history(
            report,
            actor,
            "evidence",
            report.status,
            report.status,
            details={
                "photo_id": stored.id,
                "phase": phase,
                "round": report.reopen_count,
                "sha256": entry.sha256,
                "stored_sha256": entry.stored_sha256,
                "phash": hash_hex,
                "distance_m": entry.distance_m,
                "evidence_log_id": entry.id,
                "evidence_hash": entry.hash,
            },
        )
        photo_id = stored.id
        db.session.commit()
    except BaseException:
        db.session.rollback()
        discard_photos([stored.storage_key])
        raise
    enqueue_thumbnails([photo_id])
    return db.session.get(ReportPhoto, photo_id)


# ---- the evidence log -----------------------------------------------------------------------------------

_CONTENT = (
    "report_id",
    "photo_id",
    "round",
    "phase",
    "actor_id",
    "at",
    "captured_at",
    "latitude",
    "longitude",
    "accuracy_m",
    "distance_m",
    "sha256",
    "stored_sha256",
    "phash",
)


def _value(value):
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, float):
        return repr(round(value, 7))
    return value


def entry_hash(prev_hash: str, content: dict) -> str:
    """SHA-256 over the previous row's hash and this row's content, as canonical JSON."""
    body = json.dumps({k: _value(content[k]) for k in _CONTENT}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + "\n" + body).encode()).hexdigest()


def _content_of(row: EvidenceLogEntry) -> dict:
    return {k: getattr(row, k) for k in _CONTENT}


def append_log(**content) -> EvidenceLogEntry:
    """Append a row after the last one (in the caller's transaction). On PostgreSQL an advisory lock makes
    concurrent appends take turns; everywhere, prev_hash is unique, so a fork could never be stored."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    for _attempt in range(5):
        last = db.session.scalar(select(EvidenceLogEntry.hash).order_by(EvidenceLogEntry.id.desc()).limit(1))
        prev = last or GENESIS
        entry = EvidenceLogEntry(prev_hash=prev, hash=entry_hash(prev, content), **content)
        try:
            with db.session.begin_nested():
                db.session.add(entry)
            return entry
        except IntegrityError:
            continue  # another process appended first: chain after its row
    raise Conflict("evidence_log_busy")


@dataclass(frozen=True)
class Verification:
    rows: int
    broken_id: int | None  # the first row whose hash or link does not hold
    reason: str | None = None


def verify_chain(batch: int = 1000) -> Verification:
    """Walk the log in order, recomputing each row's hash and checking it links to the row before."""
    expected = GENESIS
    count = 0
    after = 0
    while True:
        rows = db.session.scalars(
            select(EvidenceLogEntry).where(EvidenceLogEntry.id > after).order_by(EvidenceLogEntry.id).limit(batch)
        ).all()
        if not rows:
            return Verification(count, None)
        for row in rows:
            if row.prev_hash != expected:
                return Verification(count, row.id, "link")
            if entry_hash(row.prev_hash, _content_of(row)) != row.hash:
                return Verification(count, row.id, "content")
            expected = row.hash
            count += 1
            after = row.id
            db.session.expunge(row)  # a long log is walked in constant memory
