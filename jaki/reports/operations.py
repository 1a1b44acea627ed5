"""The reports business layer: create, route, find, transition, transfer, support, comment, rate (Open311 uses it too).

Who may do what (the transition table itself is jaki.reports.workflow.TRANSITIONS):
- Verification (submitted -> verified | rejected | duplicate, transfer to another kelurahan) is the kelurahan's
  decision: its kelurahan unit, staff (officer or agency admin) of the kelurahan office (KELURAHAN_UNIT) whose
  areas cover the report's kelurahan (a kota or kecamatan covers the kelurahan below it), or an admin. Where a
  category is verified_by "agency", the responsible agency verifies instead, with the scope of its work below.
- The work (dispatch, in progress, resolve, transfer to another agency) belongs to the responsible agency: an
  officer of that agency whose areas cover the kelurahan (or who is assigned), an agency admin of that agency,
  or an admin. Once a report is assigned, other officers cannot move it; their agency admin can.
- Reports with no kelurahan (stored before the boundaries refused points outside Jakarta) are for admins only:
  the triage queue (GET /officer/reports?unrouted=true), never an agency's.
- The reporter confirms (closes) or reopens their own report; nobody else among citizens changes it.
Every change to a report row needs the version the client read (If-Match); the UPDATE itself is conditional on
that version (SQLAlchemy version_id_col), so two concurrent writers cannot both win.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from flask import current_app, url_for
from sqlalchemy import and_, func, or_, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from jaki import audit
from jaki.agencies.models import Agency
from jaki.agencies.registry import KELURAHAN_UNIT
from jaki.api import Keyset, Page
from jaki.auth.models import User
from jaki.auth.permissions import area_covers
from jaki.db import new_uuid, utcnow
from jaki.errors import Conflict, Forbidden, JakiError, NotFound, PreconditionFailed, RateLimited, field_error
from jaki.events import record_event
from jaki.extensions import db
from jaki.geo import operations as geo
from jaki.geo.cells import cell_of, ranges_for_bbox, ranges_for_radius
from jaki.geo.spatial import M_PER_DEG, haversine_m, in_jakarta_bbox
from jaki.i18n import current_language, translate
from jaki.media.images import MAX_BYTES, PhotoRejected, SanitizedPhoto, sanitize_photo
from jaki.media.storage import storage_from_config
from jaki.reports import workflow as wf
from jaki.reports.models import (
    Category,
    Report,
    ReportComment,
    ReportHistory,
    ReportPhoto,
    ReportQuota,
    ReportRating,
    ReportSupport,
)

log = logging.getLogger(__name__)

# Settings with their defaults (init_app puts them in app.config unless the config already has them).
DEFAULTS = {
    "REPORTS_MAX_PHOTOS": 5,
    "REPORTS_PHOTO_MAX_BYTES": MAX_BYTES,
    "REPORTS_DAILY_CAP": 20,  # per reporter and Jakarta day, held in the database across processes
    "REPORTS_CREATE_RATE": "5 per minute;30 per hour",  # flask-limiter, per user id
    "REPORTS_AUTO_CLOSE_DAYS": 7,
    "REPORTS_REOPEN_DAYS": 14,
    "REPORTS_MAP_MAX_PINS": 200,  # a viewport holding more matching reports is answered with clusters
    "REPORTS_NEARBY_MAX_RADIUS_M": 5000,
    "REPORTS_DUPLICATE_CANDIDATES": 5,
}

WIB = timezone(timedelta(hours=7), "WIB")  # Jakarta has no daylight saving
_AREA_CODE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")
# "7", or "7-<digest>" as the public GET tags its representation (jaki.caching): the version is what If-Match checks.
_VERSION_TAG = re.compile(r"([0-9]{1,9})(-[0-9a-f]{16})?")
_SCAN_CAP = 2000  # rows a spatial scan reads at most before exact filtering
# Cell ranges a map or nearby query covers its area with. Each is one UNION ALL branch, planned and built apart;
# 8 read about 1.5x the area asked for and answered fastest at 10k to 1M reports (bench/scenario_reports.py).
_MAP_RANGES = 8
_NEARBY_FIRST_RING_M = 100.0  # nearby searches rings of 100 m, 400 m, 1.6 km, ... up to the radius asked


def setting(name: str):
    return current_app.config.get(name, DEFAULTS[name])


def storage():
    """The app's photo storage, built once from config and cached."""
    store = current_app.extensions.get("jaki.storage")
    if store is None:
        store = storage_from_config(current_app.config)
        current_app.extensions["jaki.storage"] = store
    return store


# ---- small helpers --------------------------------------------------------------------------------------


def etag(report: Report) -> str:
    return f'"{report.version}"'


def parse_if_match(header: str | None) -> int | None:
    """The version an If-Match header names; None when absent, -1 when it names no version of ours."""
    if header is None:
        return None
    tag = header.split(",")[0].strip()
    tag = tag.removeprefix("W/").strip('"')
    match = _VERSION_TAG.fullmatch(tag)
    return int(match.group(1)) if match else -1


def display_name(full_name: str | None) -> str | None:
    """What the public sees of a non-anonymous reporter: first name and the initial of the last ("Siti R.")."""
    if not full_name:
        return None
    words = full_name.split()
    if len(words) == 1:
        return words[0]
    return f"{words[0]} {words[-1][0]}."


def _text(value: str, field: str) -> str:
    """Stripped free text; NUL characters (which PostgreSQL cannot store) are a validation error, not a 500."""
    if "\x00" in value:
        raise field_error(field, "validation_error")
    return value.strip()


def _jakarta_today(now: datetime) -> date:
    return now.astimezone(WIB).date()


def _load_report(report_id: str) -> Report:
    report = db.session.get(Report, report_id) if isinstance(report_id, str) and len(report_id) <= 36 else None
    if report is None:
        raise NotFound()
    return report


def _check_version(report: Report, expected_version: int | None) -> None:
    if expected_version is None:
        raise JakiError("precondition_required", status=428)
    if expected_version != report.version:
        raise PreconditionFailed(headers={"ETag": etag(report)})


def _commit_versioned() -> None:
    """Commit; a lost race on the version (the conditional UPDATE touched no row) becomes 412."""
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise PreconditionFailed() from None


def _history(
    report: Report,
    actor: User | None,
    action: str,
    from_status: str | None,
    to_status: str,
    reason: str | None = None,
    details: dict | None = None,
) -> ReportHistory:
    entry = ReportHistory(
        report_id=report.id,
        actor_id=actor.id if actor else None,
        actor_role=actor.role if actor else "system",
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        details=details,
    )
    db.session.add(entry)
    return entry


def _supporter_ids(report_id: str) -> list[str]:
    return list(
        db.session.scalars(
            select(ReportSupport.user_id)
            .where(ReportSupport.report_id == report_id)
            .order_by(ReportSupport.created_at, ReportSupport.user_id)
        )
    )


def _recipients(*groups: Iterable[str | None], exclude: str | None = None) -> list[str]:
    seen: list[str] = []
    for group in groups:
        for user_id in group:
            if user_id and user_id != exclude and user_id not in seen:
                seen.append(user_id)
    return seen


def _event(type_: str, report: Report, recipients: list[str], **data) -> None:
    """Outbox event in the caller's transaction. Payload: ids, codes and statuses only (never free text)."""
    payload = {
        "report_id": report.id,
        "reference": report.reference,
        "category_code": report.category_code,
        "status": report.status,
        "public_status": wf.PUBLIC_LABELS[report.status],
        "kelurahan_code": report.kelurahan_code,
        "agency_code": report.agency_code,
        **data,
    }
    record_event(db.session, type_, "report", report.id, {"recipients": recipients, "data": payload})


def _status_changed(report: Report, from_status: str, actor: User | None, extra: Iterable[str] = (), **data) -> None:
    recipients = _recipients(
        [report.reporter_id],
        _supporter_ids(report.id),
        [report.assigned_officer_id],
        extra,
        exclude=actor.id if actor else None,
    )
    if recipients:
        _event("report.status_changed", report, recipients, from_status=from_status, **data)


# ---- categories ---------------------------------------------------------------------------------------


def list_categories(active_only: bool = True) -> list[Category]:
    query = select(Category).order_by(Category.sort_order, Category.code)
    if active_only:
        query = query.where(Category.active.is_(True))
    return list(db.session.scalars(query))


def _check_agency(agency_code: str) -> None:
    if db.session.get(Agency, agency_code) is None:
        raise field_error("agency_code", "agency_unknown")


def create_category(
    *,
    code: str,
    name: str,
    name_en: str,
    agency_code: str,
    sla_hours: int,
    duplicate_radius_m: int = 50,
    active: bool = True,
    sort_order: int = 100,
    verified_by: str = "kelurahan",
    sensitive: bool = False,
) -> Category:
    _check_agency(agency_code)
    if db.session.get(Category, code) is not None:
        raise Conflict("category_exists")
    category = Category(
        code=code,
        name=name,
        name_en=name_en,
        agency_code=agency_code,
        sla_hours=sla_hours,
        duplicate_radius_m=duplicate_radius_m,
        active=active,
        sort_order=sort_order,
        verified_by=verified_by,
        sensitive=sensitive,
    )
    db.session.add(category)
    db.session.commit()
    return category


def update_category(code: str, changes: dict) -> Category:
    category = db.session.get(Category, code)
    if category is None:
        raise NotFound()
    if "agency_code" in changes:
        _check_agency(changes["agency_code"])
    for name in (
        "name",
        "name_en",
        "agency_code",
        "sla_hours",
        "duplicate_radius_m",
        "active",
        "sort_order",
        "verified_by",
        "sensitive",
    ):
        if name in changes:
            setattr(category, name, changes[name])
    db.session.commit()
    return category


def upsert_categories(rows: Iterable[dict]) -> int:
    """Add the categories that do not exist yet (admins' later edits are kept); returns how many were added."""
    added = 0
    for row in rows:
        if db.session.get(Category, row["code"]) is None and db.session.get(Agency, row["agency_code"]) is not None:
            db.session.add(Category(**row))
            added += 1
    db.session.flush()
    return added


# ---- photos -------------------------------------------------------------------------------------------


def _photo_error(index: int, exc: PhotoRejected) -> JakiError:
    message = exc.message_en if current_language() == "en" else exc.message_id
    return JakiError(exc.code, status=exc.http_status, message=message, errors={"photos": [f"{index + 1}: {message}"]})


def sanitize_uploads(uploads: Sequence[bytes], already: int = 0) -> list[SanitizedPhoto]:
    """Validate and clean photos (real type from the bytes, size and pixel caps, EXIF/GPS stripped)."""
    limit = setting("REPORTS_MAX_PHOTOS")
    if already + len(uploads) > limit:
        raise field_error("photos", "too_many_photos", max=limit)
    cleaned = []
    for index, data in enumerate(uploads):
        try:
            cleaned.append(sanitize_photo(data, max_bytes=setting("REPORTS_PHOTO_MAX_BYTES")))
        except PhotoRejected as exc:
            raise _photo_error(index, exc) from None
    return cleaned


def _store_photo(
    report: Report, photo: SanitizedPhoto, *, kind: str, position: int, uploader: User | None, round_: int = 0
) -> ReportPhoto:
    row = ReportPhoto(
        id=new_uuid(),
        report_id=report.id,
        kind=kind,
        position=position,
        round=round_,
        content_type=photo.content_type,
        width=photo.width,
        height=photo.height,
        size_bytes=len(photo.content),
        sha256=photo.sha256,
        uploaded_by_id=uploader.id if uploader else None,
        storage_key="",
    )
    row.storage_key = f"reports/{report.id}/{row.id}.{photo.extension}"
    storage().put(row.storage_key, photo.content, photo.content_type)
    db.session.add(row)
    return row


def _discard(keys: Iterable[str]) -> None:
    for key in keys:
        try:
            storage().delete(key)
        except Exception:  # noqa: BLE001 - best effort: an orphan object is harmless, the error that got us here is not
            log.warning("could not delete orphan photo", extra={"key": key})


def _enqueue_thumbnails(photo_ids: list[str]) -> None:
    """After the commit. Ids captured before it: touching an expired row here would open a read transaction
    that an inline job's write (embedded SQLite) then leaves stale, and the caller's next write would fail.
    With Redis down the report stays filed: its photos are served full size until a thumbnail exists."""
    from jaki.jobs import Queues, enqueue_safely
    from jaki.reports.tasks import make_photo_thumbnail

    for photo_id in photo_ids:
        if not enqueue_safely(make_photo_thumbnail, photo_id, queue=Queues.MEDIA):
            break


def photo_url(photo: ReportPhoto, thumbnail: bool = False) -> str:
    key = photo.thumbnail_key if thumbnail and photo.thumbnail_key else photo.storage_key
    direct = storage().url(key)
    if direct:
        return direct
    params = {"thumbnail": 1} if thumbnail else {}
    return url_for("reports.photo", report_id=photo.report_id, photo_id=photo.id, **params)


def read_photo(
    report_id: str, photo_id: str, thumbnail: bool = False, viewer: User | None = None
) -> tuple[bytes, str, bool]:
    """(bytes, content type, public) of a photo of a report the viewer may see; the thumbnail once it exists."""
    report = _load_report(report_id)
    _check_visible(report, viewer)
    photo = db.session.get(ReportPhoto, photo_id) if len(photo_id) <= 36 else None
    if photo is None or photo.report_id != report.id:
        raise NotFound()
    public = report.status in wf.PUBLIC_STATUSES
    if thumbnail and photo.thumbnail_key:
        return storage().get(photo.thumbnail_key), "image/jpeg", public
    return storage().get(photo.storage_key), photo.content_type, public


# ---- creating -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    report: Report
    created: bool


def _outside_jakarta(region_name: str | None = None) -> JakiError:
    message = (
        translate("location_in_neighbour_region", region=region_name)
        if region_name
        else translate("location_outside_jakarta")
    )
    return JakiError(
        "location_outside_jakarta",
        status=422,
        message=message,
        errors={"latitude": [message], "longitude": [message]},
    )


def check_location(latitude: float, longitude: float) -> None:
    """A point a nearby search may start from: finite and within Jakarta's bounding box (a search may look across
    the border; a new report may not: route_location)."""
    if not (math.isfinite(latitude) and math.isfinite(longitude)) or not in_jakarta_bbox(latitude, longitude):
        raise _outside_jakarta()


def route_location(latitude: float, longitude: float) -> geo.Routing:
    """Where a new report goes, decided by the real boundaries (jaki.geo.operations.locate). A point on a
    neighbour's land is refused naming the region; one at sea beyond the gap distance is refused too."""
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        raise _outside_jakarta()
    routing = geo.locate(latitude, longitude)
    if not routing.routed:
        raise _outside_jakarta(routing.region_name)
    return routing


def active_category(code: str) -> Category:
    category = db.session.get(Category, code) if isinstance(code, str) and len(code) <= 40 else None
    if category is None or not category.active:
        raise field_error("category", "category_unknown")
    return category


def _take_quota(user_id: str, now: datetime) -> None:
    """Count one report against the reporter's daily cap with a conditional UPDATE (atomic across processes)."""
    cap = setting("REPORTS_DAILY_CAP")
    day = _jakarta_today(now)
    for _attempt in range(3):
        result = db.session.execute(
            update(ReportQuota.__table__)
            .where(ReportQuota.user_id == user_id, ReportQuota.day == day, ReportQuota.count < cap)
            .values(count=ReportQuota.count + 1)
        )
        if result.rowcount == 1:
            return
        row_exists = db.session.scalar(
            select(ReportQuota.count).where(ReportQuota.user_id == user_id, ReportQuota.day == day)
        )
        if row_exists is not None:
            midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), WIB)
            raise RateLimited(
                "report_daily_cap", cap=cap, headers={"Retry-After": str(max(int((midnight - now).total_seconds()), 1))}
            )
        try:
            with db.session.begin_nested():
                db.session.execute(ReportQuota.__table__.insert().values(user_id=user_id, day=day, count=1))
            return
        except IntegrityError:
            continue  # another request made today's row first: go round and increment it
    raise RateLimited("report_daily_cap", cap=cap)


def duplicates_query(category: Category, latitude: float, longitude: float):
    """Open reports of the category whose cell may lie within its radius (index: category_code + cell)."""
    ranges = ranges_for_radius(latitude, longitude, category.duplicate_radius_m)
    return (
        select(Report)
        .where(Report.category_code == category.code, _cells(ranges), Report.status.in_(wf.OPEN_STATUSES))
        .limit(_SCAN_CAP)
    )


def find_duplicates(
    category: Category, latitude: float, longitude: float, *, exclude_id: str | None = None
) -> list[tuple[Report, float]]:
    """Open reports of the same category within the category's radius, nearest first."""
    radius = category.duplicate_radius_m
    if radius <= 0:
        return []
    found = []
    for report in db.session.scalars(duplicates_query(category, latitude, longitude)):
        if report.id == exclude_id:
            continue
        distance = haversine_m(latitude, longitude, report.latitude, report.longitude)
        if distance <= radius:
            found.append((report, distance))
    found.sort(key=lambda pair: (pair[1], pair[0].id))
    return found[: setting("REPORTS_DUPLICATE_CANDIDATES")]


def _duplicate_conflict(candidates: list[tuple[Report, float]], reporter: User | None) -> Conflict:
    listed = [
        {
            "id": r.id,
            "distance_m": round(d, 1),
            "status": r.status,
            "public_status": wf.PUBLIC_LABELS[r.status],
            "support_count": r.support_count,
            "created_at": r.created_at.isoformat(),
            "mine": reporter is not None and r.reporter_id == reporter.id,
        }
        for r, d in candidates
    ]
    return Conflict("duplicate_nearby", errors={"duplicates": listed})


def create_report(
    reporter: User | None,
    *,
    category_code: str,
    description: str,
    latitude: float,
    longitude: float,
    address: str | None = None,
    anonymous: bool = False,
    photos: Sequence[bytes] = (),
    idempotency_key: str | None = None,
    force: bool = False,
    source: str = "app",
    enforce_quota: bool = True,
) -> Created:
    """File a report: validate, offer duplicates (unless force), route, store photos, record the event.

    Retries over HTTP are answered by jaki.idempotency before this runs; `idempotency_key` only labels the row (the
    demo seeder finds its own reports by it). Photos are the raw uploaded bytes; thumbnails are made afterwards by
    a MEDIA job.
    """
    routing = route_location(latitude, longitude)
    category = active_category(category_code)
    description = _text(description, "description")
    address = _text(address, "address") if address else None
    cleaned = sanitize_uploads(photos)
    if not force:
        candidates = find_duplicates(category, latitude, longitude)
        if candidates:
            raise _duplicate_conflict(candidates, reporter)
    now = utcnow()
    if reporter is not None and enforce_quota:
        _take_quota(reporter.id, now)
    report = Report(
        reporter_id=reporter.id if reporter else None,
        source=source,
        category_code=category.code,
        description=description,
        address=(address or "").strip() or None,
        latitude=latitude,
        longitude=longitude,
        cell=cell_of(latitude, longitude),
        anonymous=bool(anonymous),
        status=wf.SUBMITTED,
        kelurahan_code=routing.kelurahan_code,
        kecamatan_code=routing.kecamatan_code,
        kota_code=routing.kota_code,
        routing_distance_m=routing.distance_m,
        agency_code=category.agency_code,
        sla_due_at=now + timedelta(hours=category.sla_hours),
        idempotency_key=idempotency_key,
        created_at=now,
        updated_at=now,
    )
    db.session.add(report)
    db.session.flush()
    stored: list[ReportPhoto] = []
    try:
        for position, photo in enumerate(cleaned):
            stored.append(_store_photo(report, photo, kind="report", position=position, uploader=reporter))
        _history(
            report,
            reporter,
            "create",
            None,
            wf.SUBMITTED,
            details={
                "kelurahan_code": routing.kelurahan_code,
                "agency_code": category.agency_code,
                "routed": routing.routed,
                "exact": routing.exact,
            },
        )
        if reporter is not None:
            _event("report.created", report, [reporter.id], routed=routing.routed)
        photo_ids = [p.id for p in stored]
        db.session.commit()
    except BaseException:
        db.session.rollback()
        _discard(p.storage_key for p in stored)
        raise
    _enqueue_thumbnails(photo_ids)
    return Created(report, True)


# ---- scope --------------------------------------------------------------------------------------------


def may_verify(user: User, report: Report) -> bool:
    """The kelurahan's decisions: its kelurahan unit (staff of the kelurahan office whose areas cover the
    report's kelurahan), or the agency itself where the category says so, or an admin."""
    if user.role == "admin":
        return True
    if user.role not in ("officer", "agency_admin"):
        return False
    if report.category.verified_by == "agency":
        return may_work(user, report)
    return user.agency_code == KELURAHAN_UNIT and area_covers(user.area_codes, report.kelurahan_code)


def may_work(user: User, report: Report) -> bool:
    """The agency's work: its officers in their areas (or assigned), its agency admins, or an admin. A report
    with no kelurahan (stored before the boundaries decided) is in the admins' triage queue, no agency's."""
    if user.role == "admin":
        return True
    if user.agency_code is None or user.agency_code != report.agency_code or report.kelurahan_code is None:
        return False
    if user.role == "agency_admin":
        return True
    return user.role == "officer" and (
        report.assigned_officer_id == user.id or area_covers(user.area_codes, report.kelurahan_code)
    )


def may_see_as_staff(user: User, report: Report) -> bool:
    return user.is_staff and (may_verify(user, report) or may_work(user, report))


def _check_visible(report: Report, viewer: User | None) -> None:
    """Public reports are visible to everyone; a rejected one only to its reporter and staff in scope."""
    if report.status in wf.PUBLIC_STATUSES:
        return
    if viewer is not None and (viewer.id == report.reporter_id or may_see_as_staff(viewer, report)):
        return
    raise NotFound()


def _check_transition_scope(actor: User | None, role: str, report: Report, move: tuple[str, str]) -> None:
    if role == "system":
        if actor is not None:
            raise Forbidden("transition_forbidden")
        return
    if role == "citizen":
        if actor.id != report.reporter_id:
            raise Forbidden("transition_forbidden")
        return
    if move in wf.VERIFICATION:
        ok = may_verify(actor, report)
    elif move == (wf.VERIFIED, wf.REJECTED) or move[1] == wf.DUPLICATE:
        ok = may_verify(actor, report) or may_work(actor, report)
    else:
        ok = may_work(actor, report)
    if not ok:
        raise Forbidden("transition_forbidden")
    if (
        role == "officer"
        and move in ((wf.DISPATCHED, wf.IN_PROGRESS), (wf.IN_PROGRESS, wf.RESOLVED))
        and report.assigned_officer_id not in (None, actor.id)
    ):
        raise Conflict("report_already_claimed")


# ---- the workflow -------------------------------------------------------------------------------------


def _agency_officer(officer_id: str, agency_code: str) -> User:
    officer = db.session.get(User, officer_id) if isinstance(officer_id, str) and len(officer_id) <= 36 else None
    if officer is None or officer.role != "officer" or officer.agency_code != agency_code or officer.status != "active":
        raise field_error("officer_id", "officer_invalid")
    return officer


def _label(status: str) -> str:
    """The status as citizens know it (Menunggu, Proses, ...)."""
    return translate(wf.label_message(status)) if status in wf.PUBLIC_LABELS else status


def _require_text(value: str | None, field: str, code: str) -> str:
    value = _text(value or "", field)
    if not value:
        raise field_error(field, code)
    return value


def _assign(report: Report, officer: User, now: datetime) -> None:
    report.assigned_officer_id = officer.id
    report.assigned_at = now


def transition(
    actor: User | None,
    report_id: str,
    to_status: str,
    *,
    expected_version: int | None,
    reason: str | None = None,
    note: str | None = None,
    officer_id: str | None = None,
    duplicate_of_id: str | None = None,
) -> Report:
    """Move a report along the state machine. actor None is the system (scheduled jobs).

    Errors: 404 unknown, 428/412 version, 409 transition_not_allowed (no such move from this status),
    403 transition_forbidden (role or scope), 422 missing reason/note/evidence/officer.
    """
    report = _load_report(report_id)
    role = "system" if actor is None else actor.role
    if actor is not None and actor.role == "citizen" and actor.id != report.reporter_id:
        _check_visible(report, actor)
    _check_version(report, expected_version)
    from_status = report.status
    move = (from_status, to_status)
    if move not in wf.TRANSITIONS:
        raise Conflict("transition_not_allowed", from_status=_label(from_status), to_status=_label(to_status))
    if not wf.allowed(from_status, to_status, role):
        raise Forbidden("transition_forbidden")
    _check_transition_scope(actor, role, report, move)

    # One UPDATE per change: queries in between must not flush the half-changed row (and bump the version twice).
    with db.session.no_autoflush:
        now = utcnow()
        history_reason = None
        details: dict = {}
        assigned: User | None = None
        if move in wf.NEEDS_REASON:
            history_reason = _require_text(reason, "reason", "report_reason_required")
        if to_status == wf.VERIFIED:
            report.verified_at = now
        elif to_status == wf.REJECTED:
            report.rejection_reason = history_reason
        elif move == (wf.VERIFIED, wf.DISPATCHED):
            if officer_id:
                assigned = _agency_officer(officer_id, report.agency_code)
                _assign(report, assigned, now)
                details["officer_id"] = assigned.id
            report.dispatched_at = now
        elif move in wf.REOPEN:
            days = setting("REPORTS_REOPEN_DAYS")
            finished = report.resolved_at or report.closed_at
            if finished is not None and now - finished > timedelta(days=days):
                raise Conflict("reopen_window_passed", days=days)
            report.reopen_count += 1
            report.resolved_at = None
            report.closed_at = None
            report.resolution_note = None
            report.dispatched_at = now
            report.sla_due_at = now + timedelta(hours=report.category.sla_hours)
            report.sla_breached_at = None
        elif to_status == wf.IN_PROGRESS:
            if report.assigned_officer_id is None and role == "officer":
                _assign(report, actor, now)
                details["officer_id"] = actor.id
        elif to_status == wf.RESOLVED:
            history_reason = _require_text(note, "note", "resolution_note_required")
            has_evidence = db.session.scalar(
                select(func.count(ReportPhoto.id)).where(
                    ReportPhoto.report_id == report.id,
                    ReportPhoto.kind == "evidence",
                    ReportPhoto.round == report.reopen_count,
                )
            )
            if not has_evidence:
                raise field_error("evidence", "evidence_required")
            report.resolution_note = history_reason
            report.resolved_at = now
        elif to_status == wf.CLOSED:
            report.closed_at = now
        elif to_status == wf.DUPLICATE:
            original = _duplicate_target(report, duplicate_of_id)
            report.duplicate_of_id = original.id
            details["duplicate_of_id"] = original.id
            _merge_supporters(report, original, now)
        report.status = to_status
        _history(report, actor, "transition", from_status, to_status, reason=history_reason, details=details or None)
        _status_changed(
            report,
            from_status,
            actor,
            **({"duplicate_of_id": report.duplicate_of_id} if to_status == wf.DUPLICATE else {}),
        )
        if assigned is not None and (actor is None or assigned.id != actor.id):
            _event("report.assigned", report, [assigned.id], officer_id=assigned.id)
    _commit_versioned()
    return report


def _duplicate_target(report: Report, duplicate_of_id: str | None) -> Report:
    original = (
        db.session.get(Report, duplicate_of_id)
        if isinstance(duplicate_of_id, str) and len(duplicate_of_id) <= 36
        else None
    )
    if original is None or original.id == report.id or original.status not in wf.OPEN_STATUSES:
        raise field_error("duplicate_of", "duplicate_of_invalid")
    return original


def _merge_supporters(duplicate: Report, original: Report, now: datetime) -> None:
    """The duplicate's reporter and supporters follow the original from now on."""
    people = _recipients([duplicate.reporter_id], _supporter_ids(duplicate.id), exclude=original.reporter_id)
    already = set(_supporter_ids(original.id))
    added = [p for p in people if p not in already]
    for user_id in added:
        db.session.add(ReportSupport(report_id=original.id, user_id=user_id, created_at=now))
    if added:
        db.session.execute(
            update(Report.__table__)
            .where(Report.id == original.id)
            .values(support_count=Report.support_count + len(added))
        )


def claim(actor: User, report_id: str, *, expected_version: int | None) -> Report:
    """An officer takes a verified or dispatched report of their agency (verified becomes dispatched)."""
    report = _load_report(report_id)
    if actor.role not in ("officer", "agency_admin") or not may_work(actor, report):
        raise Forbidden()
    _check_version(report, expected_version)
    if report.status not in (wf.VERIFIED, wf.DISPATCHED, wf.IN_PROGRESS):
        raise Conflict("report_not_claimable")
    if report.assigned_officer_id == actor.id:
        return report
    if report.assigned_officer_id is not None:
        raise Conflict("report_already_claimed")
    with db.session.no_autoflush:  # one conditional UPDATE, at the commit where a lost race becomes 412
        now = utcnow()
        from_status = report.status
        _assign(report, actor, now)
        if from_status == wf.VERIFIED:
            report.status = wf.DISPATCHED
            report.dispatched_at = now
        _history(report, actor, "claim", from_status, report.status, details={"officer_id": actor.id})
        if report.status != from_status:
            _status_changed(report, from_status, actor)
    _commit_versioned()
    return report


def assign(actor: User, report_id: str, officer_id: str, *, expected_version: int | None) -> Report:
    """An agency admin (or admin) gives a dispatched or in-progress report to one of the agency's officers."""
    report = _load_report(report_id)
    if actor.role not in ("agency_admin", "admin") or not may_work(actor, report):
        raise Forbidden()
    _check_version(report, expected_version)
    if report.status not in (wf.DISPATCHED, wf.IN_PROGRESS):
        raise Conflict("report_not_claimable")
    officer = _agency_officer(officer_id, report.agency_code)
    with db.session.no_autoflush:  # one conditional UPDATE, at the commit where a lost race becomes 412
        previous = report.assigned_officer_id
        _assign(report, officer, utcnow())
        _history(
            report,
            actor,
            "assign",
            report.status,
            report.status,
            details={"officer_id": officer.id, "previous_officer_id": previous},
        )
        _event("report.assigned", report, [officer.id], officer_id=officer.id)
    _commit_versioned()
    return report


def transfer(
    actor: User,
    report_id: str,
    *,
    expected_version: int | None,
    reason: str | None,
    kelurahan_code: str | None = None,
    agency_code: str | None = None,
) -> Report:
    """Pass a report to another kelurahan (it is verified again there) or agency (it is dispatched again)."""
    report = _load_report(report_id)
    if not actor.is_staff or not (may_verify(actor, report) or may_work(actor, report)):
        raise Forbidden()
    _check_version(report, expected_version)
    if bool(kelurahan_code) == bool(agency_code):
        raise field_error("kelurahan_code", "transfer_target_required")
    kind = "kelurahan" if kelurahan_code else "agency"
    statuses, roles, result_status = wf.TRANSFERS[kind]
    if report.status not in statuses:
        raise Conflict("transfer_not_allowed")
    if actor.role not in roles or not (may_verify(actor, report) if kind == "kelurahan" else may_work(actor, report)):
        raise Forbidden()
    reason = _require_text(reason, "reason", "report_reason_required")
    with db.session.no_autoflush:  # one conditional UPDATE, at the commit where a lost race becomes 412
        from_status = report.status
        if kind == "kelurahan":
            if not geo.area_exists(kelurahan_code, "kelurahan"):
                raise field_error("kelurahan_code", "kelurahan_unknown")
            details = {"from_kelurahan_code": report.kelurahan_code, "to_kelurahan_code": kelurahan_code}
            report.kecamatan_code, report.kota_code = geo.parent_codes(kelurahan_code)
            report.kelurahan_code = kelurahan_code
            report.routing_distance_m = None
            report.verified_at = None
        else:
            if db.session.get(Agency, agency_code) is None:
                raise field_error("agency_code", "agency_unknown")
            details = {"from_agency_code": report.agency_code, "to_agency_code": agency_code}
            report.agency_code = agency_code
            report.dispatched_at = None
        report.assigned_officer_id = None
        report.assigned_at = None
        report.status = result_status
        _history(report, actor, "transfer", from_status, result_status, reason=reason, details=details)
        _status_changed(report, from_status, actor, transfer=kind)
    _commit_versioned()
    return report


def mark_duplicate(actor: User, report_id: str, duplicate_of_id: str, *, expected_version: int | None) -> Report:
    return transition(
        actor, report_id, wf.DUPLICATE, expected_version=expected_version, duplicate_of_id=duplicate_of_id
    )


def add_evidence(actor: User, report_id: str, uploads: Sequence[bytes]) -> list[ReportPhoto]:
    """Photos proving the work, by the agency, while the report is in progress; resolving needs one."""
    report = _load_report(report_id)
    if not actor.is_staff or not may_work(actor, report):
        raise Forbidden()
    if report.status != wf.IN_PROGRESS:
        raise Conflict("evidence_not_allowed")
    if actor.role == "officer" and report.assigned_officer_id not in (None, actor.id):
        raise Conflict("report_already_claimed")
    existing = db.session.scalars(select(ReportPhoto).where(ReportPhoto.report_id == report.id)).all()
    this_round = [p for p in existing if p.kind == "evidence" and p.round == report.reopen_count]
    cleaned = sanitize_uploads(uploads, already=len(this_round))
    start = max((p.position for p in existing), default=-1) + 1
    stored: list[ReportPhoto] = []
    try:
        for offset, photo in enumerate(cleaned):
            stored.append(
                _store_photo(
                    report, photo, kind="evidence", position=start + offset, uploader=actor, round_=report.reopen_count
                )
            )
        photo_ids = [p.id for p in stored]
        db.session.commit()
    except BaseException:
        db.session.rollback()
        _discard(p.storage_key for p in stored)
        raise
    _enqueue_thumbnails(photo_ids)
    return stored


# ---- citizens' interactions -----------------------------------------------------------------------------


def support(actor: User, report_id: str) -> Report:
    """+1: the citizen has the same problem and follows the report. Idempotent."""
    report = _load_report(report_id)
    _check_visible(report, actor)
    if actor.id == report.reporter_id:
        raise Conflict("cannot_support_own")
    if report.status not in wf.OPEN_STATUSES:
        raise Conflict("report_not_open")
    try:
        with db.session.begin_nested():
            db.session.add(ReportSupport(report_id=report.id, user_id=actor.id))
    except IntegrityError:
        return report  # already supported (or a double tap racing itself)
    # A plain UPDATE: supporting is not an edit, so it must not change the version officers hold.
    db.session.execute(
        update(Report.__table__).where(Report.id == report.id).values(support_count=Report.support_count + 1)
    )
    if report.reporter_id:
        _event("report.supported", report, [report.reporter_id], support_count=report.support_count + 1)
    db.session.commit()
    db.session.refresh(report)
    return report


def supported_by(report_id: str, user: User | None) -> bool:
    if user is None:
        return False
    return db.session.get(ReportSupport, (report_id, user.id)) is not None


def add_comment(actor: User, report_id: str, body: str, *, internal: bool = False) -> ReportComment:
    """A public comment (any logged-in person on a visible report) or a staff-only internal note."""
    report = _load_report(report_id)
    if internal:
        if not may_see_as_staff(actor, report):
            raise Forbidden()
    else:
        _check_visible(report, actor)
    body = _require_text(body, "body", "validation_error")
    comment = ReportComment(
        report_id=report.id, author_id=actor.id, author_role=actor.role, internal=internal, body=body
    )
    db.session.add(comment)
    db.session.flush()
    if internal:
        recipients = _recipients([report.assigned_officer_id], exclude=actor.id)
    else:
        recipients = _recipients(
            [report.reporter_id], _supporter_ids(report.id), [report.assigned_officer_id], exclude=actor.id
        )
    if recipients:
        _event(
            "report.comment_added", report, recipients, comment_id=comment.id, internal=internal, author_role=actor.role
        )
    db.session.commit()
    return comment


def rate(actor: User, report_id: str, score: int, comment: str | None = None) -> ReportRating:
    report = _load_report(report_id)
    if actor.id != report.reporter_id:
        _check_visible(report, actor)
        raise Forbidden("rating_not_allowed")
    if report.status not in (wf.RESOLVED, wf.CLOSED):
        raise Conflict("rating_not_allowed")
    if db.session.get(ReportRating, report.id) is not None:
        raise Conflict("already_rated")
    rating = ReportRating(
        report_id=report.id, user_id=actor.id, score=score, comment=_text(comment or "", "comment") or None
    )
    try:
        with db.session.begin_nested():
            db.session.add(rating)
    except IntegrityError:
        raise Conflict("already_rated") from None
    db.session.commit()
    return rating


def rating_of(report_id: str) -> ReportRating | None:
    return db.session.get(ReportRating, report_id)


# ---- reading ------------------------------------------------------------------------------------------


# The lists' sort keys (jaki.api.Keyset): the feed newest first, comments in order, the queue by urgency.
FEED_ORDER = Keyset((Report.created_at, Report.id), ("datetime", "str"), descending=True)
COMMENT_ORDER = Keyset((ReportComment.id,), ("int",))
QUEUE_ORDER = Keyset((Report.sla_due_at, Report.id), ("datetime", "str"))


def _cells(ranges: list[tuple[int, int]]):
    """OR of BETWEENs on the indexed cell column: a B-tree range scan per range on SQLite and PostgreSQL."""
    return or_(*[Report.cell.between(lo, hi) for lo, hi in ranges])


def _in_cells(ranges: list[tuple[int, int]]):
    """The map columns of reports in the cell ranges, one index-only range scan of ix_reports_cell per range.

    That index covers these columns, so filtering thousands of candidates by their exact position never visits
    the table (whose rows lie in filing order, one page each); only the rows finally shown are read. UNION ALL
    rather than OR: PostgreSQL answers an OR of ranges with a bitmap scan, which always reads the table.
    MATERIALIZED on SQLite only: pushed down into the branches, the caller's status filter makes SQLite without
    ANALYZE statistics prefer the status index (every public report read); PostgreSQL inlines the CTE and
    filters inside the index scans.
    """
    columns = (Report.id, Report.latitude, Report.longitude, Report.status, Report.category_code, Report.created_at)
    branches = [select(*columns).where(Report.cell.between(lo, hi)) for lo, hi in ranges]
    return union_all(*branches).cte("cells").prefix_with("MATERIALIZED", dialect="sqlite")


def area_condition(code: str):
    if not _AREA_CODE.match(code or ""):
        raise field_error("area", "area_filter_invalid")
    depth = code.count(".")
    if depth == 0:
        return Report.kota_code.like(code + ".%")
    return {1: Report.kota_code, 2: Report.kecamatan_code, 3: Report.kelurahan_code}[depth] == code


def _statuses(statuses: Sequence[str] | None, allowed: Sequence[str]) -> list[str]:
    if not statuses:
        return list(allowed)
    unknown = [s for s in statuses if s not in allowed]
    if unknown:
        raise field_error("status", "validation_error")
    return list(statuses)


def list_reports(
    *,
    categories: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
    area: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    ids: Sequence[str] | None = None,
    reporter_id: str | None = None,
    public: bool = True,
    limit: int = 20,
    cursor: str | None = None,
) -> Page:
    """Reports newest first, by filters, in keyset pages (cursor = the last item's created_at and id).

    public=True keeps to what anyone may see (no rejected reports); reporter_id lists one person's own reports.
    """
    query = select(Report)
    query = query.where(Report.status.in_(_statuses(statuses, wf.PUBLIC_STATUSES if public else wf.STATUSES)))
    if categories:
        query = query.where(Report.category_code.in_(list(categories)))
    if area:
        query = query.where(area_condition(area))
    if since is not None:
        query = query.where(Report.created_at >= since)
    if until is not None:
        query = query.where(Report.created_at < until)
    if ids is not None:
        query = query.where(Report.id.in_(list(ids)))
    if reporter_id is not None:
        query = query.where(Report.reporter_id == reporter_id)
    return FEED_ORDER.page(query.options(selectinload(Report.reporter)), limit=limit, cursor=cursor)


def get_public_report(report_id: str, viewer: User | None = None) -> Report:
    report = _load_report(report_id)
    _check_visible(report, viewer)
    return report


def public_comments(report_id: str, *, limit: int = 50, cursor: str | None = None, viewer: User | None = None) -> Page:
    report = get_public_report(report_id, viewer)
    query = select(ReportComment).where(ReportComment.report_id == report.id, ReportComment.internal.is_(False))
    return COMMENT_ORDER.page(query, limit=limit, cursor=cursor)


def check_bbox(min_lat: float, min_lon: float, max_lat: float, max_lon: float) -> None:
    values = (min_lat, min_lon, max_lat, max_lon)
    if (
        not all(math.isfinite(v) for v in values)
        or min_lat > max_lat
        or min_lon > max_lon
        or not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90)
        or not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180)
    ):
        raise field_error("bbox", "bbox_invalid")


def _in_order(ids: Sequence[str]) -> list[Report]:
    """The reports with these ids, in this order (one primary-key lookup each; a report gone since is skipped)."""
    if not ids:
        return []
    found = {
        r.id: r
        for r in db.session.scalars(
            select(Report).where(Report.id.in_(list(ids))).options(selectinload(Report.reporter))
        )
    }
    return [found[i] for i in ids if i in found]


def map_statuses(statuses: Sequence[str] | None) -> list[str]:
    """The statuses a map shows: those asked for (public ones only), else every public one but duplicates."""
    if statuses:
        return _statuses(statuses, wf.PUBLIC_STATUSES)
    return [s for s in wf.PUBLIC_STATUSES if s != wf.DUPLICATE]


def bbox_query(
    min_lat: float,
    min_lon: float,
    max_lat: float,
    max_lon: float,
    *,
    limit: int,
    categories: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
):
    """Ids of the newest `limit` reports in a box: cell ranges (covering index) narrowed by the exact coordinates.

    Only ids: the rows are then read by primary key, so neither planner can trade the cell ranges for a worse
    plan of the whole (SQLite walking the created_at index backwards to satisfy ORDER BY ... LIMIT, which reads
    every report for a small viewport; PostgreSQL hash-joining a table read whole).
    """
    cells = _in_cells(ranges_for_bbox(min_lat, min_lon, max_lat, max_lon, max_ranges=_MAP_RANGES))
    query = select(cells.c.id).where(
        cells.c.latitude.between(min_lat, max_lat),
        cells.c.longitude.between(min_lon, max_lon),
        cells.c.status.in_(map_statuses(statuses)),
    )
    if categories:
        query = query.where(cells.c.category_code.in_(list(categories)))
    return query.order_by(cells.c.created_at.desc(), cells.c.id.desc()).limit(limit)


def reports_in_bbox(
    min_lat: float,
    min_lon: float,
    max_lat: float,
    max_lon: float,
    *,
    categories: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
    limit: int | None = None,
) -> tuple[list[Report], bool]:
    """Reports in a map viewport, newest first, at most `limit` (bounded); True when more were left out."""
    check_bbox(min_lat, min_lon, max_lat, max_lon)
    cap = setting("REPORTS_MAP_MAX_PINS")
    limit = min(limit or cap, cap)
    ids = list(
        db.session.scalars(
            bbox_query(min_lat, min_lon, max_lat, max_lon, limit=limit + 1, categories=categories, statuses=statuses)
        )
    )
    return _in_order(ids[:limit]), len(ids) > limit


def _approx_distance2(lat: float, lon: float, latitude=Report.latitude, longitude=Report.longitude):
    """Squared equirectangular distance in m^2 as SQL: within a few km it orders like the great circle does."""
    kx = M_PER_DEG * math.cos(math.radians(lat))
    dy = (latitude - lat) * M_PER_DEG
    dx = (longitude - lon) * kx
    return dy * dy + dx * dx


def nearby_query(
    lat: float,
    lon: float,
    radius_m: float,
    *,
    limit: int,
    categories: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
):
    """(id, latitude, longitude) of the `limit` reports nearest by approximate distance among those whose cell
    may lie within radius_m, straight from the covering index (the rows shown are read afterwards by primary key,
    as for the viewport)."""
    cells = _in_cells(ranges_for_radius(lat, lon, radius_m, max_ranges=_MAP_RANGES))
    distance2 = _approx_distance2(lat, lon, cells.c.latitude, cells.c.longitude)
    slack = (radius_m * 1.01 + 1) ** 2
    query = select(cells.c.id, cells.c.latitude, cells.c.longitude).where(
        distance2 <= slack, cells.c.status.in_(_statuses(statuses, wf.PUBLIC_STATUSES))
    )
    if categories:
        query = query.where(cells.c.category_code.in_(list(categories)))
    return query.order_by(distance2, cells.c.id).limit(limit)


def nearby(
    lat: float,
    lon: float,
    radius_m: float,
    *,
    categories: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
    limit: int = 20,
) -> list[tuple[Report, float]]:
    """Public reports within radius_m of a point, nearest first, with their distance in metres."""
    check_location(lat, lon)
    radius_m = min(max(radius_m, 1.0), setting("REPORTS_NEARBY_MAX_RADIUS_M"))
    # Rings growing 4x: the nearest `limit` within a small circle are the nearest of all, so a dense area is
    # answered from a few hundred index entries instead of every report within the radius; a sparse one takes
    # a few more small queries. A margin over `limit`: the exact great-circle order may swap near-ties of the
    # SQL approximation. The exact distances come from the index's coordinates, so only the `limit` rows shown
    # are read from the table.
    ring = min(radius_m, _NEARBY_FIRST_RING_M)
    while True:
        query = nearby_query(lat, lon, ring, limit=limit * 2 + 10, categories=categories, statuses=statuses)
        found = sorted(
            (d, report_id)
            for report_id, r_lat, r_lon in db.session.execute(query)
            if (d := haversine_m(lat, lon, r_lat, r_lon)) <= ring
        )
        if len(found) >= limit or ring >= radius_m:
            break
        ring = min(radius_m, ring * 4)
    found = found[:limit]
    distance = {report_id: d for d, report_id in found}
    return [(report, distance[report.id]) for report in _in_order([report_id for _, report_id in found])]


# ---- staff --------------------------------------------------------------------------------------------


def _staff_scope(user: User):
    """Which reports a staff member's queue holds (admins: all; reports with no kelurahan: admins only)."""
    if user.role == "admin":
        return None
    covered = [area_condition(code) for code in user.area_codes if _AREA_CODE.match(code)]
    in_areas = or_(*covered) if covered else None
    to_verify = None
    if user.agency_code == KELURAHAN_UNIT and in_areas is not None:
        by_kelurahan = select(Category.code).where(Category.verified_by == "kelurahan")
        to_verify = and_(Report.status == wf.SUBMITTED, in_areas, Report.category_code.in_(by_kelurahan))
    if user.role == "agency_admin":
        agency = and_(Report.agency_code == user.agency_code, Report.kelurahan_code.is_not(None))
    else:
        agency = and_(Report.agency_code == user.agency_code, in_areas) if in_areas is not None else None
    parts = [p for p in (to_verify, agency, Report.assigned_officer_id == user.id) if p is not None]
    return or_(*parts)


def officer_queue(
    user: User,
    *,
    statuses: Sequence[str] | None = None,
    mine: bool = False,
    unrouted: bool = False,
    categories: Sequence[str] | None = None,
    limit: int = 20,
    cursor: str | None = None,
    **filters,
) -> Page:
    """Open reports the staff member answers for, most urgent (earliest SLA due) first, in keyset pages; `filters`
    (overdue, sla_breached, area, agency, q) narrow it (jaki.reports.search.queue_conditions)."""
    from jaki.reports.search import queue_conditions

    if not user.is_staff:
        raise Forbidden()
    if unrouted and user.role != "admin":
        raise Forbidden()
    query = select(Report).where(Report.status.in_(_statuses(statuses, wf.STATUSES) if statuses else wf.OPEN_STATUSES))
    scope = _staff_scope(user)
    if scope is not None:
        query = query.where(scope)
    if mine:
        query = query.where(Report.assigned_officer_id == user.id)
    if unrouted:
        query = query.where(Report.kelurahan_code.is_(None))
    if categories:
        query = query.where(Report.category_code.in_(list(categories)))
    for condition in queue_conditions(**filters):
        query = query.where(condition)
    return QUEUE_ORDER.page(query, limit=limit, cursor=cursor)


def get_for_staff(user: User, report_id: str) -> Report:
    report = _load_report(report_id)
    if not may_see_as_staff(user, report) and report.assigned_officer_id != user.id:
        raise Forbidden()
    return report


def history(report_id: str) -> list[ReportHistory]:
    return list(
        db.session.scalars(select(ReportHistory).where(ReportHistory.report_id == report_id).order_by(ReportHistory.id))
    )


def comments_for_staff(report_id: str) -> list[ReportComment]:
    return list(
        db.session.scalars(select(ReportComment).where(ReportComment.report_id == report_id).order_by(ReportComment.id))
    )


def reporter_contact(user: User, report_id: str, reason: str | None) -> dict:
    """The reporter's name and phone for an officer who must call them: needs a reason, always audited."""
    report = get_for_staff(user, report_id)
    reason = audit.access_reason(reason)
    if report.reporter_id is None:
        raise NotFound()
    person = db.session.get(User, report.reporter_id)
    audit.record(
        db.session,
        actor=user,
        subject_id=person.id,
        action="report.reporter.read",
        fields=("full_name", "phone", "nik_masked"),
        reason=f"report {report.id}: {reason}",
    )
    db.session.commit()
    return {
        "report_id": report.id,
        "user_id": person.id,
        "full_name": person.full_name,
        "phone": person.phone,
        "nik_masked": person.nik_masked,
    }


# ---- the citizen's own ----------------------------------------------------------------------------------


def my_reports(
    user: User, *, statuses: Sequence[str] | None = None, limit: int = 20, cursor: str | None = None
) -> Page:
    return list_reports(statuses=statuses, reporter_id=user.id, public=False, limit=limit, cursor=cursor)


def my_report(user: User, report_id: str) -> Report:
    report = _load_report(report_id)
    if report.reporter_id != user.id:
        raise NotFound()
    return report


def export_section(user: User) -> dict:
    """UU PDP data export: the person's reports (anonymous ones too), comments, supports and ratings."""
    reports = db.session.scalars(select(Report).where(Report.reporter_id == user.id).order_by(Report.created_at)).all()
    comments = db.session.scalars(
        select(ReportComment).where(ReportComment.author_id == user.id).order_by(ReportComment.id)
    ).all()
    supports = db.session.scalars(
        select(ReportSupport).where(ReportSupport.user_id == user.id).order_by(ReportSupport.created_at)
    ).all()
    ratings = db.session.scalars(select(ReportRating).where(ReportRating.user_id == user.id)).all()
    return {
        "reports": [
            {
                "id": r.id,
                "created_at": r.created_at.isoformat(),
                "category_code": r.category_code,
                "description": r.description,
                "address": r.address,
                "latitude": r.latitude,
                "longitude": r.longitude,
                "anonymous": r.anonymous,
                "status": r.status,
                "kelurahan_code": r.kelurahan_code,
                "agency_code": r.agency_code,
                "photos": [p.id for p in r.photos],
                "idempotency_key": r.idempotency_key,
            }
            for r in reports
        ],
        "comments": [
            {
                "id": c.id,
                "report_id": c.report_id,
                "created_at": c.created_at.isoformat(),
                "body": c.body,
                "internal": c.internal,
            }
            for c in comments
        ],
        "supports": [{"report_id": s.report_id, "created_at": s.created_at.isoformat()} for s in supports],
        "ratings": [
            {"report_id": r.report_id, "score": r.score, "comment": r.comment, "created_at": r.created_at.isoformat()}
            for r in ratings
        ],
    }
