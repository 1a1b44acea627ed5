"""Correction requests: a citizen disputes a field an agency holds; the agency acknowledges within 3 x 24 hours."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from sqlalchemy import select

from jaki.agencies.models import Agency
from jaki.api import Keyset, Page
from jaki.auth.models import User
from jaki.db import utcnow
from jaki.errors import Conflict, Forbidden, NotFound, field_error
from jaki.events import record_event
from jaki.extensions import db
from jaki.pdp.models import CorrectionEvent, CorrectionRequest
from jaki.services import connectors
from jaki.services.household import household_for
from jaki.settings import setting
from jaki.timezone import WIB

log = logging.getLogger(__name__)

# The fields a citizen may dispute, per domain (the overview marks them "disputed" meanwhile). Population data
# (address, family relation) is Dukcapil's.
FIELDS: dict[str, tuple[str, ...]] = {
    "health": ("jkn.care_class", "jkn.segment", "jkn.status", "jkn.faskes", "immunisations"),
    "education": ("enrolment.school", "enrolment.grade", "kjp"),
    "social_aid": ("dtks.desil", "dtks.registered", "programme.enrolment", "programme.disbursement"),
    "tax": ("bill.amount", "bill.object", "bill.paid"),
    "permits": ("application.status",),
    "population": ("address", "family_relation", "full_name", "birth_date"),
}
POPULATION_AGENCY = "DUKCAPIL"

SUBMITTED, ACKNOWLEDGED, ESCALATED = "submitted", "acknowledged", "escalated"
CORRECTED, REJECTED = "corrected", "rejected"
OPEN = (SUBMITTED, ACKNOWLEDGED, ESCALATED)
STATUSES = (*OPEN, CORRECTED, REJECTED)
# Who may move a request where: the agency acknowledges, then corrects or rejects (with a note).
AGENCY_MOVES = {
    SUBMITTED: (ACKNOWLEDGED, CORRECTED, REJECTED),
    ESCALATED: (ACKNOWLEDGED, CORRECTED, REJECTED),
    ACKNOWLEDGED: (CORRECTED, REJECTED),
}
EVENT_STATUS = "pdp.correction.status_changed"
EVENT_ESCALATED = "pdp.correction.escalated"


def agency_for(domain: str) -> str:
    if domain == "population":
        return POPULATION_AGENCY
    return connectors.SPECS[domain].agency_code


def _reference() -> str:
    return f"KRK-{utcnow().astimezone(WIB):%Y%m%d}-{secrets.token_hex(3).upper()}"


def _trail(request: CorrectionRequest, status: str, actor, note: str | None = None) -> None:
    db.session.add(
        CorrectionEvent(
            request_id=request.id,
            at=utcnow(),
            status=status,
            actor_id=getattr(actor, "id", None),
            actor_role=getattr(actor, "role", None) or "system",
            note=note,
        )
    )


def _tell_citizen(request: CorrectionRequest) -> None:
    record_event(
        db.session,
        EVENT_STATUS,
        "pdp_correction",
        request.id,
        {
            "recipients": [request.user_id],
            "data": {"reference": request.reference, "status": request.status, "agency_code": request.agency_code},
        },
    )


def file_request(user, data: dict) -> CorrectionRequest:
    """Routed to the agency that holds the field, with its acknowledgement deadline."""
    domain, field = data["domain"], data["field"]
    if domain not in FIELDS:
        raise field_error("domain", "pdp_correction_domain_unknown", allowed=", ".join(FIELDS))
    if field not in FIELDS[domain]:
        raise field_error("field", "pdp_correction_field_unknown", allowed=", ".join(FIELDS[domain]))
    member_id = data.get("member_id")
    household = household_for(user)
    member = household.me if not member_id else household.find(member_id)
    if member is None:
        raise field_error("member_id", "pdp_member_unknown")
    agency_code = agency_for(domain)
    if db.session.get(Agency, agency_code) is None:
        raise field_error("domain", "pdp_correction_domain_unknown", allowed=", ".join(FIELDS))
    duplicate = db.session.scalar(
        select(CorrectionRequest.id).where(
            CorrectionRequest.user_id == user.id,
            CorrectionRequest.member_id == member.member_id,
            CorrectionRequest.domain == domain,
            CorrectionRequest.field == field,
            CorrectionRequest.status.in_(OPEN),
        )
    )
    if duplicate is not None:
        raise Conflict("pdp_correction_open")
    now = utcnow()
    request = CorrectionRequest(
        reference=_reference(),
        user_id=user.id,
        member_id=member.member_id,
        domain=domain,
        agency_code=agency_code,
        field=field,
        requested_value=data.get("requested_value"),
        explanation=data["explanation"],
        status=SUBMITTED,
        created_at=now,
        ack_due_at=now + timedelta(hours=setting("PDP_CORRECTION_ACK_HOURS")),
    )
    db.session.add(request)
    db.session.flush()
    _trail(request, SUBMITTED, user)
    _tell_citizen(request)
    db.session.commit()
    log.info("correction request filed", extra={"correction_id": request.id, "agency": agency_code})
    return request


ORDER = Keyset((CorrectionRequest.created_at, CorrectionRequest.id), ("datetime", "str"), descending=True)
QUEUE_ORDER = Keyset((CorrectionRequest.ack_due_at, CorrectionRequest.id), ("datetime", "str"))


def my_requests(user, *, limit: int, cursor: str | None) -> Page:
    query = select(CorrectionRequest).where(CorrectionRequest.user_id == user.id)
    return ORDER.page(query, limit=limit, cursor=cursor)


def my_request(user, request_id: str) -> CorrectionRequest:
    request = db.session.get(CorrectionRequest, request_id) if len(request_id) <= 36 else None
    if request is None or request.user_id != user.id:
        raise NotFound()
    return request


def trail(request: CorrectionRequest) -> list[CorrectionEvent]:
    return list(
        db.session.scalars(
            select(CorrectionEvent).where(CorrectionEvent.request_id == request.id).order_by(CorrectionEvent.id)
        )
    )


def agency_queue(officer, *, status: str | None, limit: int, cursor: str | None) -> Page:
    """The agency's queue, the nearest deadline first; open requests unless a status is asked for."""
    QUEUE_ORDER.decode(cursor)
    if officer.role == "admin":
        query = select(CorrectionRequest)
    elif officer.agency_code:
        query = select(CorrectionRequest).where(CorrectionRequest.agency_code == officer.agency_code)
    else:
        return Page([], None)
    query = (
        query.where(CorrectionRequest.status == status) if status else query.where(CorrectionRequest.status.in_(OPEN))
    )
    return QUEUE_ORDER.page(query, limit=limit, cursor=cursor)


def agency_request(officer, request_id: str) -> CorrectionRequest:
    request = db.session.get(CorrectionRequest, request_id) if len(request_id) <= 36 else None
    if request is None:
        raise NotFound()
    if officer.role != "admin" and officer.agency_code != request.agency_code:
        raise Forbidden()
    return request


def move(officer, request_id: str, to_status: str, note: str | None) -> CorrectionRequest:
    request = agency_request(officer, request_id)
    request = db.session.scalar(select(CorrectionRequest).where(CorrectionRequest.id == request.id).with_for_update())
    if to_status not in AGENCY_MOVES.get(request.status, ()):
        raise Conflict("pdp_correction_transition", current=request.status)
    if to_status in (CORRECTED, REJECTED) and not (note or "").strip():
        raise field_error("note", "pdp_correction_note_required")
    now = utcnow()
    request.status = to_status
    if request.acknowledged_at is None:
        request.acknowledged_at = now  # a decision acknowledges too
    if to_status in (CORRECTED, REJECTED):
        request.closed_at = now
    _trail(request, to_status, officer, note)
    _tell_citizen(request)
    db.session.commit()
    return request


def escalate_overdue(now=None) -> int:
    """Requests not acknowledged by their deadline: escalated once, the agency's admins and the citizen told."""
    now = now or utcnow()
    overdue = db.session.scalars(
        select(CorrectionRequest)
        .where(CorrectionRequest.status == SUBMITTED, CorrectionRequest.ack_due_at <= now)
        .order_by(CorrectionRequest.ack_due_at)
        .limit(500)
        .with_for_update(skip_locked=True)
    ).all()
    for request in overdue:
        request.status, request.escalated_at = ESCALATED, now
        _trail(request, ESCALATED, None, "acknowledgement deadline passed")
        admins = db.session.scalars(
            select(User.id).where(
                User.role == "agency_admin", User.agency_code == request.agency_code, User.status == "active"
            )
        ).all()
        record_event(
            db.session,
            EVENT_ESCALATED,
            "pdp_correction",
            request.id,
            {
                "recipients": [request.user_id, *admins],
                "data": {"reference": request.reference, "agency_code": request.agency_code},
            },
        )
    db.session.commit()
    if overdue:
        log.warning("correction requests escalated", extra={"count": len(overdue)})
    return len(overdue)


def disputed_fields(user, member_ids: list[str]) -> dict[str, list[dict]]:
    """domain -> the fields under an open correction request, for the overview to mark as disputed."""
    rows = db.session.scalars(
        select(CorrectionRequest).where(
            CorrectionRequest.user_id == user.id,
            CorrectionRequest.member_id.in_(member_ids),
            CorrectionRequest.status.in_(OPEN),
        )
    ).all()
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r.domain, []).append(
            {"member_id": r.member_id, "field": r.field, "reference": r.reference, "status": r.status}
        )
    return out
