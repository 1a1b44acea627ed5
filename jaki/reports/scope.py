"""Who may see a report and who may act on it, as Python checks and as the staff queue's SQL."""

# Who may do what (the transition table itself is jaki.reports.workflow.TRANSITIONS):
# - Verification (submitted -> verified | rejected | duplicate, transfer to another kelurahan) is the kelurahan's
#   decision: its kelurahan unit, staff (officer or agency admin) of the kelurahan office (KELURAHAN_UNIT) whose
#   areas cover the report's kelurahan (a kota or kecamatan covers the kelurahan below it), or an admin. Where a
#   category is verified_by "agency", the responsible agency verifies instead, with the scope of its work below.
# - The work (dispatch, in progress, resolve, transfer to another agency) belongs to the responsible agency: an
#   officer of that agency whose areas cover the kelurahan (or who is assigned), an agency admin of that agency,
#   or an admin. Once a report is assigned, other officers cannot move it; their agency admin can.
# - Reports with no kelurahan (stored before the boundaries refused points outside Jakarta) are for admins only:
#   the triage queue (GET /officer/reports?unrouted=true), never an agency's.
# - Validation (awaiting_validation -> resolved | in_progress) is four-eyes: never the resolver; the kelurahan
#   unit of the report's kelurahan, a validator whose areas cover it, or an admin (may_validate).
# - The reporter confirms (closes), disputes (reopens) or withdraws their own report; nobody else among citizens.

from __future__ import annotations

import re

from sqlalchemy import and_, or_, select

from jaki.agencies.registry import KELURAHAN_UNIT
from jaki.auth.models import User
from jaki.auth.permissions import area_covers
from jaki.errors import Conflict, Forbidden, NotFound, field_error
from jaki.extensions import db
from jaki.reports import workflow as wf
from jaki.reports.models import Category, Report

AREA_CODE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")


def load_report(report_id: str) -> Report:
    report = db.session.get(Report, report_id) if isinstance(report_id, str) and len(report_id) <= 36 else None
    if report is None:
        raise NotFound()
    return report


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


def may_validate(user: User, report: Report) -> bool:
    """Four-eyes: someone other than the resolver, of the kelurahan unit of the report's kelurahan, or a
    validator (Biro Pemerintahan's) whose areas cover it, or an admin."""
    if user.id == report.resolved_by_id:
        return False
    if user.role == "admin":
        return True
    if user.role == "validator":
        # Biro Pemerintahan's validators work province-wide (no areas), or where their areas say.
        return report.kelurahan_code is not None and (
            not user.area_codes or area_covers(user.area_codes, report.kelurahan_code)
        )
    return (
        user.role in ("officer", "agency_admin")
        and user.agency_code == KELURAHAN_UNIT
        and area_covers(user.area_codes, report.kelurahan_code)
    )


def may_see_as_staff(user: User, report: Report) -> bool:
    if not user.is_staff:
        return False
    if may_verify(user, report) or may_work(user, report):
        return True
    return report.status == wf.AWAITING_VALIDATION and may_validate(user, report)


def check_visible(report: Report, viewer: User | None) -> None:
    """Public reports are visible to everyone; a rejected one only to its reporter and staff in scope."""
    if report.status in wf.PUBLIC_STATUSES:
        return
    if viewer is not None and (viewer.id == report.reporter_id or may_see_as_staff(viewer, report)):
        return
    raise NotFound()


def check_transition_scope(actor: User | None, role: str, report: Report, move: tuple[str, str]) -> None:
    if role == "system":
        if actor is not None:
            raise Forbidden("transition_forbidden")
        return
    if role == "citizen":
        if actor.id != report.reporter_id:
            raise Forbidden("transition_forbidden")
        return
    if move in wf.VALIDATION:
        if actor.id == report.resolved_by_id:
            raise Forbidden("validator_is_resolver")
        ok = may_validate(actor, report)
    elif move in wf.VERIFICATION:
        ok = may_verify(actor, report)
    elif move == (wf.VERIFIED, wf.REJECTED) or move[1] == wf.DUPLICATE:
        ok = may_verify(actor, report) or may_work(actor, report)
    else:
        ok = may_work(actor, report)
    if not ok:
        raise Forbidden("transition_forbidden")
    if (
        role == "officer"
        and (move == (wf.DISPATCHED, wf.IN_PROGRESS) or move in wf.WORK_DONE)
        and report.assigned_officer_id not in (None, actor.id)
    ):
        raise Conflict("report_already_claimed")


def get_for_staff(user: User, report_id: str) -> Report:
    report = load_report(report_id)
    if not may_see_as_staff(user, report) and report.assigned_officer_id != user.id:
        raise Forbidden()
    return report


def area_condition(code: str):
    if not AREA_CODE.match(code or ""):
        raise field_error("area", "area_filter_invalid")
    depth = code.count(".")
    if depth == 0:
        return Report.kota_code.like(code + ".%")
    return {1: Report.kota_code, 2: Report.kecamatan_code, 3: Report.kelurahan_code}[depth] == code


def staff_scope(user: User):
    """Which reports a staff member's queue holds (admins: all; reports with no kelurahan: admins only)."""
    if user.role == "admin":
        return None
    covered = [area_condition(code) for code in user.area_codes if AREA_CODE.match(code)]
    in_areas = or_(*covered) if covered else None
    to_verify = to_validate = None
    if user.agency_code == KELURAHAN_UNIT and in_areas is not None:
        by_kelurahan = select(Category.code).where(Category.verified_by == "kelurahan")
        to_verify = and_(Report.status == wf.SUBMITTED, in_areas, Report.category_code.in_(by_kelurahan))
    if (user.agency_code == KELURAHAN_UNIT or user.role == "validator") and in_areas is not None:
        to_validate = and_(Report.status == wf.AWAITING_VALIDATION, in_areas)
    elif user.role == "validator":
        to_validate = and_(Report.status == wf.AWAITING_VALIDATION, Report.kelurahan_code.is_not(None))
    if user.role == "agency_admin":
        agency = and_(Report.agency_code == user.agency_code, Report.kelurahan_code.is_not(None))
    else:
        agency = and_(Report.agency_code == user.agency_code, in_areas) if in_areas is not None else None
    if user.role == "validator":
        agency = None
    parts = [p for p in (to_verify, to_validate, agency, Report.assigned_officer_id == user.id) if p is not None]
    return or_(*parts)
