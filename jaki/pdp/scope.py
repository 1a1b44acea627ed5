"""Need to know: an official reads a person's record within their role's scope, or by a reviewed break-glass read."""

from __future__ import annotations

from sqlalchemy import and_, exists, or_, select

from jaki.auth.permissions import area_covers
from jaki.errors import Forbidden, field_error
from jaki.extensions import db
from jaki.reports.models import Report
from jaki.services.permits.models import Application, ApplicationType

# Why an official reads outside their scope: one of these codes (X-Break-Glass) plus the free text of the
# reason (X-Access-Reason). Each such read waits for a supervisor's review and is shown to the citizen.
BREAK_GLASS_REASONS = (
    "emergency",  # a person's life or safety (vital interest)
    "complaint",  # the person's own complaint handled by another unit
    "legal_request",  # a court, police or ombudsman request
    "data_correction",  # the person asked for a correction
    "supervisor_order",  # a documented instruction of the official's superior
)
BREAK_GLASS_HEADER = "X-Break-Glass"


def _reports_in_scope(actor, person_id: str):
    conditions = [Report.assigned_officer_id == actor.id]  # a case they hold
    if actor.agency_code:
        mine = [Report.agency_code == actor.agency_code]
        if actor.area_codes:
            mine.append(
                or_(*[or_(Report.kelurahan_code == a, Report.kelurahan_code.like(a + ".%")) for a in actor.area_codes])
            )
        conditions.append(and_(*mine))  # their agency's cases (in their area when they have one)
    return exists().where(Report.reporter_id == person_id, or_(*conditions))


def _applications_in_scope(actor, person_id: str):
    return (
        exists()
        .where(
            Application.applicant_id == person_id,
            Application.status != "draft",
            Application.type_code == ApplicationType.code,
            ApplicationType.agency_code == actor.agency_code,
        )
        .correlate(None)
    )


def in_scope(actor, person) -> bool:
    """Whether reading `person`'s account is part of `actor`'s job without breaking the glass."""
    if actor.id == person.id or actor.role == "admin":
        return True  # one's own account; the city's account administrators
    if actor.role not in ("officer", "agency_admin") or person.is_staff:
        return False  # a colleague's account is the administrators' business
    if person.home_kelurahan_code and area_covers(actor.area_codes, person.home_kelurahan_code):
        return True  # their area
    if db.session.scalar(select(_reports_in_scope(actor, person.id))):
        return True
    return bool(actor.agency_code) and bool(db.session.scalar(select(_applications_in_scope(actor, person.id))))


def check_read(actor, person, break_glass: str | None) -> str | None:
    """None when the read is in scope; the break-glass code when it is not but a listed reason was given; else 403."""
    if break_glass is not None:
        code = break_glass.strip().lower()
        if code not in BREAK_GLASS_REASONS:
            raise field_error(BREAK_GLASS_HEADER, "pdp_break_glass_unknown", allowed=", ".join(BREAK_GLASS_REASONS))
    else:
        code = None
    if in_scope(actor, person):
        return None
    if code is None or actor.role == "command_center" or (person.is_staff and actor.role != "admin"):
        raise Forbidden("pdp_need_to_know")
    return code
