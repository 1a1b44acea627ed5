"""Permit and letter applications: create, attach documents, submit, strict status transitions, SLA."""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime

from sqlalchemy import or_, select
from werkzeug.utils import secure_filename

from jaki import audit
from jaki.api import Keyset, Page
from jaki.auth.crypto import nik_index
from jaki.auth.models import Resident, StaffArea, User
from jaki.auth.permissions import area_covers
from jaki.db import new_uuid, utcnow
from jaki.errors import Conflict, Forbidden, JakiError, NotFound, PreconditionFailed, Unavailable, field_error
from jaki.events import record_event
from jaki.extensions import db
from jaki.geo.models import Area
from jaki.i18n import current_language
from jaki.media.images import PhotoRejected, sanitize_photo, sniff_type
from jaki.media.storage import app_storage
from jaki.services.permits import workflow
from jaki.services.permits.models import Application, ApplicationDocument, ApplicationEvent, ApplicationType
from jaki.services.permits.sla import add_working_days, calendar_overrides, extend_for_pause
from jaki.services.permits.workflow import APPLICANT, EDITABLE, NOTE_REQUIRED, OFFICER, TERMINAL
from jaki.settings import setting
from jaki.timezone import WIB, jakarta_today

log = logging.getLogger(__name__)

STAFF_ROLES = ("officer", "agency_admin")
KELURAHAN_CODE = re.compile(r"^31\.\d{2}\.\d{2}\.\d{4}$")

# Sniffed from the bytes (jaki.media.images.sniff_type), never taken from the client's Content-Type.
DOCUMENT_TYPES = {"PDF": "application/pdf", "JPEG": "image/jpeg", "PNG": "image/png"}
MAX_DOCUMENTS = 20
# A HEIC photo of a document becomes a JPEG of up to this many pixels a side: an iPhone's 12 MP (4032 px)
# keeps every pixel, so small print stays legible.
DOCUMENT_MAX_SIDE = 4096


# ---- helpers ----------------------------------------------------------------------------------------


def _type(code: str, kind: str) -> ApplicationType:
    row = db.session.get(ApplicationType, code)
    if row is None or row.kind != kind or not row.active:
        raise field_error("type_code", f"{kind}_type_unknown")
    return row


def new_reference(type_code: str) -> str:
    """A fresh application reference, e.g. SKD-20260102-4F2A1C (its date on Jakarta's clock)."""
    return f"{type_code}-{utcnow().astimezone(WIB):%Y%m%d}-{secrets.token_hex(3).upper()}"


def _check_area(area_code: str | None, field: str) -> str:
    if not area_code or not KELURAHAN_CODE.match(area_code):
        raise field_error(field, "kelurahan_required")
    # Areas are imported from the shared data when present; without them the code's shape is all we can check.
    any_area = db.session.scalar(select(Area.code).where(Area.level == "kelurahan").limit(1))
    if any_area is not None and db.session.get(Area, area_code) is None:
        raise field_error(field, "area_unknown")
    return area_code


def _home_kelurahan(user) -> str | None:
    if user.home_kelurahan_code:
        return user.home_kelurahan_code
    return db.session.scalar(select(Resident.kelurahan_code).where(Resident.nik_index == nik_index(user.nik)))


def checklist(application: Application) -> list[dict]:
    uploaded = {d.kind: d for d in application.documents}
    items = []
    for doc in application.type.documents:
        found = uploaded.get(doc["kind"])
        items.append({**doc, "uploaded": found is not None, "document": found})
    return items


def missing_documents(application: Application) -> list[str]:
    return [item["kind"] for item in checklist(application) if item["required"] and not item["uploaded"]]


def move(application: Application, to_status: str, actor, role: str, note: str | None = None) -> None:
    """The one place a status changes: strict transition (workflow.TRANSITIONS), SLA clock, timeline row and
    outbox event. The caller holds the row lock and commits."""
    current = application.status
    if not workflow.allowed(application.kind, current, to_status, role):
        raise Conflict(
            "status_transition_not_allowed",
            errors={"status": [f"{current} -> {to_status}"]},
            from_status=current,
            to_status=to_status,
        )
    if to_status in NOTE_REQUIRED and not (note and note.strip()):
        raise field_error("note", "note_required")
    now = utcnow()
    if current == "draft" and to_status == "submitted":
        application.submitted_at = now
        overrides = calendar_overrides(db.session, jakarta_today(now))
        application.sla_due_at = add_working_days(now, application.type.sla_days, overrides)
    if to_status == "revision_requested":
        application.sla_paused_at = now
    if current == "revision_requested" and application.sla_paused_at is not None:
        # The clock stood still while the applicant owed the revision, counted in working days as the deadline
        # is: a pause over a weekend or a holiday moves nothing.
        overrides = calendar_overrides(db.session, jakarta_today(application.sla_paused_at))
        application.sla_due_at = extend_for_pause(application.sla_due_at, application.sla_paused_at, now, overrides)
        application.sla_paused_at = None
    if to_status in TERMINAL:
        application.decided_at = now
        application.sla_paused_at = None
        if (
            application.sla_due_at is not None
            and now > application.sla_due_at
            and application.sla_breached_at is None
            and to_status != "withdrawn"
        ):
            application.sla_breached_at = now  # decided late: counted as a breach in the statistics
    application.status = to_status
    application.version += 1
    application.events.append(
        ApplicationEvent(
            at=now,
            from_status=current,
            to_status=to_status,
            actor_id=actor.id,
            actor_role=actor.role,
            note=(note or "").strip() or None,
        )
    )
    # The applicant is told about what others did to their application, not about their own clicks.
    recipients = [application.applicant_id] if actor.id != application.applicant_id else []
    record_event(
        db.session,
        f"{application.kind}.status_changed",
        application.kind,
        application.id,
        {
            "recipients": recipients,
            "data": {
                "application_id": application.id,
                "reference": application.reference,
                "kind": application.kind,
                "type_code": application.type_code,
                "from_status": current,
                "to_status": to_status,
            },
        },
    )


# ---- applicant ----------------------------------------------------------------------------------------


def list_types(kind: str) -> list[ApplicationType]:
    return list(
        db.session.scalars(
            select(ApplicationType)
            .where(ApplicationType.kind == kind, ApplicationType.active.is_(True))
            .order_by(ApplicationType.code)
        )
    )


def create(user, kind: str, data: dict) -> Application:
    app_type = _type(data["type_code"], kind)
    if kind == "letter":
        area = _check_area(_home_kelurahan(user), "home_kelurahan_code")
    else:
        area = _check_area(data.get("area_code"), "area_code")
        if not (data.get("object_address") or "").strip():
            raise field_error("object_address", "object_address_required")
    application = Application(
        reference=new_reference(app_type.code),
        kind=kind,
        type_code=app_type.code,
        applicant_id=user.id,
        area_code=area,
        status="draft",
        object_address=(data.get("object_address") or "").strip() or None,
        purpose=(data.get("purpose") or "").strip() or None,
    )
    application.type = app_type
    application.events.append(
        ApplicationEvent(from_status=None, to_status="draft", actor_id=user.id, actor_role=user.role)
    )
    db.session.add(application)
    db.session.commit()
    return application


def own(user, application_id: str, kind: str) -> Application:
    """The citizen's own application; another's is 404 (its existence is not disclosed)."""
    application = db.session.get(Application, application_id)
    if application is None or application.kind != kind or application.applicant_id != user.id:
        raise NotFound()
    return application


def list_own(user, kind: str) -> list[Application]:
    return list(
        db.session.scalars(
            select(Application)
            .where(Application.applicant_id == user.id, Application.kind == kind)
            .order_by(Application.created_at.desc())
        )
    )


def _locked(application_id: str) -> Application:
    # Row lock (PostgreSQL) so two concurrent moves cannot both start from the same status.
    # OF: the eagerly joined type row is read, not locked (every application of a type would queue on it).
    query = select(Application).where(Application.id == application_id).with_for_update(of=Application)
    application = db.session.scalar(query.execution_options(populate_existing=True))
    if application is None:
        raise NotFound()
    return application


def _heic_as_jpeg(data: bytes, limit: int) -> bytes:
    """An iPhone's HEIC photo of a document as a JPEG that officers' browsers show, without EXIF or GPS."""
    try:
        return sanitize_photo(data, max_bytes=limit, max_side=DOCUMENT_MAX_SIDE).content
    except PhotoRejected as exc:
        message = exc.message_en if current_language() == "en" else exc.message_id
        raise JakiError(exc.code, status=exc.http_status, message=message, errors={"file": [message]}) from None


def upload_document(user, application_id: str, kind: str, doc_kind: str, upload) -> ApplicationDocument:
    own(user, application_id, kind)
    application = _locked(application_id)
    if application.status not in EDITABLE:
        raise Conflict("application_not_editable", status_name=application.status)
    if doc_kind not in {d["kind"] for d in application.type.documents}:
        raise field_error("kind", "document_kind_unknown")
    limit = int(setting("SERVICES_DOCUMENT_MAX_BYTES"))
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise field_error("file", "document_too_large", status=413, megabytes=limit // (1024 * 1024))
    kind_sniffed = sniff_type(data)
    content_type = DOCUMENT_TYPES.get(kind_sniffed)
    filename = secure_filename(upload.filename or "") or doc_kind
    if kind_sniffed == "HEIF":
        data, content_type = _heic_as_jpeg(data, limit), "image/jpeg"
        filename = filename.rsplit(".", 1)[0] + ".jpg"
    if content_type is None:
        raise field_error("file", "document_type_unsupported", status=415)
    replaced = next((d for d in application.documents if d.kind == doc_kind), None)
    if replaced is None and len(application.documents) >= MAX_DOCUMENTS:
        raise field_error("file", "too_many_documents")
    document = ApplicationDocument(
        id=new_uuid(),
        application_id=application.id,
        kind=doc_kind,
        content_type=content_type,
        size=len(data),
        filename=filename[:200],
    )
    document.storage_key = f"services/applications/{application.id}/{document.id}"
    storage = app_storage()
    try:
        storage.put(document.storage_key, data, content_type)
    except Exception as exc:  # noqa: BLE001 - any storage failure is "try again later" for the citizen
        log.warning("document storage failed", extra={"error": type(exc).__name__})
        raise Unavailable("storage_unavailable") from None
    if replaced is not None:
        application.documents.remove(replaced)
    application.documents.append(document)
    application.version += 1
    db.session.commit()
    if replaced is not None:
        _delete_object(storage, replaced.storage_key)
    return document


def _delete_object(storage, key: str) -> None:
    try:
        storage.delete(key)
    except Exception as exc:  # noqa: BLE001 - an orphan file is tidied later; the request has succeeded
        log.warning("document delete failed", extra={"error": type(exc).__name__})


def delete_document(user, application_id: str, kind: str, document_id: str) -> None:
    own(user, application_id, kind)
    application = _locked(application_id)
    if application.status not in EDITABLE:
        raise Conflict("application_not_editable", status_name=application.status)
    document = next((d for d in application.documents if d.id == document_id), None)
    if document is None:
        raise NotFound()
    application.documents.remove(document)
    application.version += 1
    db.session.commit()
    _delete_object(app_storage(), document.storage_key)


def read_document(application: Application, document_id: str) -> tuple[ApplicationDocument, bytes]:
    document = next((d for d in application.documents if d.id == document_id), None)
    if document is None:
        raise NotFound()
    try:
        return document, app_storage().get(document.storage_key)
    except Exception as exc:  # noqa: BLE001
        log.warning("document read failed", extra={"error": type(exc).__name__})
        raise Unavailable("storage_unavailable") from None


def submit(user, application_id: str, kind: str) -> Application:
    """Send a draft (or a revision) to the office: every required document must be there."""
    own(user, application_id, kind)
    application = _locked(application_id)
    missing = missing_documents(application)
    if missing and application.status in EDITABLE:
        raise JakiError("documents_missing", status=422, errors={"documents": missing})
    move(application, workflow.submit_target(kind, application.status), user, APPLICANT)
    db.session.commit()
    return application


def withdraw(user, application_id: str, kind: str, note: str | None) -> Application:
    own(user, application_id, kind)
    application = _locked(application_id)
    move(application, "withdrawn", user, APPLICANT, note)
    db.session.commit()
    return application


# ---- officers -----------------------------------------------------------------------------------------


def officer_can(officer, application: Application) -> bool:
    """Officers of the agency that issues the type, whose areas cover the application's kelurahan."""
    return (
        officer.role in STAFF_ROLES
        and officer.agency_code is not None
        and officer.agency_code == application.type.agency_code
        and area_covers(officer.area_codes, application.area_code)
    )


def _officer_application(officer, application_id: str, kind: str) -> Application:
    application = db.session.get(Application, application_id)
    if application is None or application.kind != kind or application.status == "draft":
        raise NotFound()
    if not officer_can(officer, application):
        raise Forbidden()
    return application


def officer_read(officer, application_id: str, kind: str) -> Application:
    application = _officer_application(officer, application_id, kind)
    audit.record(
        db.session,
        actor=officer,
        subject_id=application.applicant_id,
        action=f"{kind}.read",
        fields=("applicant", "object_address", "purpose", "documents", "timeline"),
        reason=f"processing {application.reference}",
    )
    db.session.commit()
    return application


def officer_document(officer, application_id: str, kind: str, document_id: str):
    application = _officer_application(officer, application_id, kind)
    document, data = read_document(application, document_id)
    audit.record(
        db.session,
        actor=officer,
        subject_id=application.applicant_id,
        action=f"{kind}.document.read",
        fields=(f"document:{document.kind}",),
        reason=f"processing {application.reference}",
    )
    db.session.commit()
    return document, data


# The officers' queue: most urgent first (jaki.api.Keyset).
QUEUE_ORDER = Keyset((Application.sla_due_at, Application.id), ("datetime", "str"))


def officer_queue(officer, kind: str, args: dict) -> Page:
    QUEUE_ORDER.decode(args.get("cursor"))  # a bad cursor is refused even when the queue is empty
    if officer.role not in STAFF_ROLES or not officer.agency_code or not officer.area_codes:
        return Page([], None)
    areas = [or_(Application.area_code == a, Application.area_code.like(a + ".%")) for a in officer.area_codes]
    query = (
        select(Application)
        .join(ApplicationType)
        .where(
            Application.kind == kind,
            ApplicationType.agency_code == officer.agency_code,
            Application.status != "draft",
            or_(*areas),
        )
    )
    if args.get("status"):
        query = query.where(Application.status == args["status"])
    elif not args.get("include_closed"):
        query = query.where(Application.status.not_in(TERMINAL))  # the work still to do
    if args.get("breached"):
        query = query.where(Application.sla_breached_at.is_not(None))
    return QUEUE_ORDER.page(query, limit=args.get("limit", 20), cursor=args.get("cursor"))


def officer_transition(officer, application_id: str, kind: str, data: dict) -> Application:
    _officer_application(officer, application_id, kind)
    application = _locked(application_id)
    if data.get("version") is not None and data["version"] != application.version:
        raise PreconditionFailed()
    to_status = data["status"]
    if to_status == "issued":
        number = (data.get("decision_number") or "").strip()
        application.decision_number = (
            number
            or f"{application.type_code}/{utcnow().astimezone(WIB):%Y}/{application.reference.rsplit('-', 1)[-1]}"
        )
    move(application, to_status, officer, OFFICER, data.get("note"))
    audit.record(
        db.session,
        actor=officer,
        subject_id=application.applicant_id,
        action=f"{kind}.status_change",
        fields=("status",),
        reason=f"processing {application.reference}",
    )
    db.session.commit()
    return application


# ---- SLA ----------------------------------------------------------------------------------------------


def flag_sla_breaches(now: datetime | None = None) -> int:
    """Flag open applications past their SLA (once each) and record permit.sla_breached / letter.sla_breached."""
    now = now or utcnow()
    query = (
        select(Application)
        .where(
            Application.status.not_in(("draft", *TERMINAL)),
            Application.sla_breached_at.is_(None),
            Application.sla_paused_at.is_(None),
            Application.sla_due_at < now,
        )
        .order_by(Application.id)
        .limit(500)
        .with_for_update(of=Application, skip_locked=True)
    )
    flagged = 0
    while True:
        rows = db.session.scalars(query).all()
        if not rows:
            break
        for application in rows:
            application.sla_breached_at = now
            # The office's staff for that area are told; the applicant sees the flag on their application.
            staff = db.session.scalars(
                select(User.id)
                .join(StaffArea, StaffArea.user_id == User.id)
                .where(
                    User.agency_code == application.type.agency_code,
                    User.role.in_(STAFF_ROLES),
                    User.status == "active",
                )
            ).all()
            staff_areas = {}
            for user_id, area in db.session.execute(
                select(StaffArea.user_id, StaffArea.area_code).where(StaffArea.user_id.in_(staff))
            ):
                staff_areas.setdefault(user_id, []).append(area)
            recipients = sorted(uid for uid, areas in staff_areas.items() if area_covers(areas, application.area_code))
            record_event(
                db.session,
                f"{application.kind}.sla_breached",
                application.kind,
                application.id,
                {
                    "recipients": recipients,
                    "data": {
                        "application_id": application.id,
                        "reference": application.reference,
                        "kind": application.kind,
                        "type_code": application.type_code,
                        "status": application.status,
                        "sla_due_at": application.sla_due_at.isoformat(),
                    },
                },
            )
            flagged += 1
        db.session.commit()
    log.info("SLA breaches flagged", extra={"count": flagged})
    return flagged
