"""The staff workflow: transitions along jaki.reports.workflow, claiming, assigning, transferring."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update

from jaki.agencies.models import Agency
from jaki.auth.models import User
from jaki.db import utcnow
from jaki.errors import Conflict, Forbidden, field_error
from jaki.extensions import db
from jaki.geo import operations as geo
from jaki.i18n import translate
from jaki.reports import capture
from jaki.reports import workflow as wf
from jaki.reports.checks import require_text
from jaki.reports.events import distinct_recipients, record_history, report_event, status_changed, supporter_ids
from jaki.reports.models import Report, ReportPhoto, ReportSupport
from jaki.reports.scope import check_transition_scope, check_visible, load_report, may_verify, may_work
from jaki.reports.versions import check_version, commit_versioned
from jaki.settings import setting


def _agency_officer(officer_id: str, agency_code: str) -> User:
    officer = db.session.get(User, officer_id) if isinstance(officer_id, str) and len(officer_id) <= 36 else None
    if officer is None or officer.role != "officer" or officer.agency_code != agency_code or officer.status != "active":
        raise field_error("officer_id", "officer_invalid")
    return officer


def _label(status: str) -> str:
    """The status as citizens know it (Menunggu, Proses, ...)."""
    return translate(wf.label_message(status)) if status in wf.PUBLIC_LABELS else status


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
    report = load_report(report_id)
    role = "system" if actor is None else actor.role
    if actor is not None and actor.role == "citizen" and actor.id != report.reporter_id:
        check_visible(report, actor)
    check_version(report, expected_version)
    from_status = report.status
    move = (from_status, to_status)
    if move not in wf.TRANSITIONS:
        raise Conflict("transition_not_allowed", from_status=_label(from_status), to_status=_label(to_status))
    if not wf.allowed(from_status, to_status, role):
        raise Forbidden("transition_forbidden")
    check_transition_scope(actor, role, report, move)

    # One UPDATE per change: queries in between must not flush the half-changed row (and bump the version twice).
    with db.session.no_autoflush:
        now = utcnow()
        history_reason = None
        details: dict = {}
        assigned: User | None = None
        if move in wf.NEEDS_REASON:
            history_reason = require_text(reason, "reason", "report_reason_required")
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
            # The reporter's dispute: a new resolution round, and the SLA clock starts again from now.
            report.reopen_count += 1
            report.dispute_count += 1
            report.resolved_at = None
            report.closed_at = None
            report.resolution_note = None
            report.resolved_by_id = None
            report.work_done_at = None
            report.validation_rejected_at = None
            report.dispatched_at = now
            report.sla_started_at = now
            report.sla_due_at = now + timedelta(hours=report.category.sla_hours)
            report.sla_breached_at = None
        elif move == (wf.DISPATCHED, wf.IN_PROGRESS):
            if report.assigned_officer_id is None and role == "officer":
                _assign(report, actor, now)
                details["officer_id"] = actor.id
            if actor is not None:
                # Evidence is bound to this assignment: the one starting the work gets a capture token.
                report.capture_token = capture.mint(report, actor, now)
        elif move in wf.WORK_DONE:
            needs_validation = report.category.validation_required
            if needs_validation and to_status == wf.RESOLVED:
                raise Conflict("validation_required")
            if not needs_validation and to_status == wf.AWAITING_VALIDATION:
                raise Conflict("validation_not_required")
            history_reason = require_text(note, "note", "resolution_note_required")
            if not _has_evidence(report):
                raise field_error("evidence", "evidence_required")
            report.resolution_note = history_reason
            report.resolved_by_id = actor.id if actor is not None else None
            report.work_done_at = now
            report.validation_rejected_at = None
            # Receipt -> dispatch to the unit that did the work (Singapore's time to owner).
            owner_at = report.dispatched_at or now
            report.time_to_owner_seconds = max(int((owner_at - report.created_at).total_seconds()), 0)
            if to_status == wf.RESOLVED:
                report.resolved_at = now
        elif move == (wf.AWAITING_VALIDATION, wf.RESOLVED):
            report.resolved_at = now
            details["validation"] = "accepted"
            details["resolved_by_id"] = report.resolved_by_id
        elif move == (wf.AWAITING_VALIDATION, wf.IN_PROGRESS):
            # TL Ditolak: back to the officer, the SLA clock still running; new evidence is needed.
            report.validation_rejected_at = now
            report.work_done_at = None
            details["validation"] = "rejected"
            details["resolved_by_id"] = report.resolved_by_id
        elif to_status == wf.CLOSED:
            report.closed_at = now
        elif to_status == wf.DUPLICATE:
            original = _duplicate_target(report, duplicate_of_id)
            report.duplicate_of_id = original.id
            details["duplicate_of_id"] = original.id
            _merge_supporters(report, original, now)
            record_history(
                original,
                actor,
                "merge",
                original.status,
                original.status,
                details={"merged_id": report.id, "merged_reference": report.reference},
            )
        report.status = to_status
        record_history(
            report, actor, "transition", from_status, to_status, reason=history_reason, details=details or None
        )
        status_changed(
            report,
            from_status,
            actor,
            **(_merge_data(report) if to_status == wf.DUPLICATE else {}),
            **({"validation": details["validation"]} if "validation" in details else {}),
        )
        if assigned is not None and (actor is None or assigned.id != actor.id):
            report_event("report.assigned", report, [assigned.id], officer_id=assigned.id)
    commit_versioned()
    return report


def _has_evidence(report: Report) -> bool:
    """This round's "after" evidence (or evidence stored before phases existed), newer than a rejected validation."""
    query = select(func.count(ReportPhoto.id)).where(
        ReportPhoto.report_id == report.id,
        ReportPhoto.kind == "evidence",
        ReportPhoto.round == report.reopen_count,
        or_(ReportPhoto.phase.is_(None), ReportPhoto.phase == "after"),
    )
    if report.validation_rejected_at is not None:
        query = query.where(ReportPhoto.created_at > report.validation_rejected_at)
    return bool(db.session.scalar(query))


def _merge_data(report: Report) -> dict:
    """What the merged report's reporter is told: the original they now follow."""
    original = db.session.get(Report, report.duplicate_of_id)
    return {"duplicate_of_id": original.id, "duplicate_of_reference": original.reference}


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
    people = distinct_recipients([duplicate.reporter_id], supporter_ids(duplicate.id), exclude=original.reporter_id)
    already = set(supporter_ids(original.id))
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
    report = load_report(report_id)
    if actor.role not in ("officer", "agency_admin") or not may_work(actor, report):
        raise Forbidden()
    check_version(report, expected_version)
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
        record_history(report, actor, "claim", from_status, report.status, details={"officer_id": actor.id})
        if report.status != from_status:
            status_changed(report, from_status, actor)
    commit_versioned()
    return report


def assign(actor: User, report_id: str, officer_id: str, *, expected_version: int | None) -> Report:
    """An agency admin (or admin) gives a dispatched or in-progress report to one of the agency's officers."""
    report = load_report(report_id)
    if actor.role not in ("agency_admin", "admin") or not may_work(actor, report):
        raise Forbidden()
    check_version(report, expected_version)
    if report.status not in (wf.DISPATCHED, wf.IN_PROGRESS):
        raise Conflict("report_not_claimable")
    officer = _agency_officer(officer_id, report.agency_code)
    with db.session.no_autoflush:  # one conditional UPDATE, at the commit where a lost race becomes 412
        previous = report.assigned_officer_id
        _assign(report, officer, utcnow())
        record_history(
            report,
            actor,
            "assign",
            report.status,
            report.status,
            details={"officer_id": officer.id, "previous_officer_id": previous},
        )
        report_event("report.assigned", report, [officer.id], officer_id=officer.id)
    commit_versioned()
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
    report = load_report(report_id)
    if not actor.is_staff or not (may_verify(actor, report) or may_work(actor, report)):
        raise Forbidden()
    check_version(report, expected_version)
    if bool(kelurahan_code) == bool(agency_code):
        raise field_error("kelurahan_code", "transfer_target_required")
    kind = "kelurahan" if kelurahan_code else "agency"
    statuses, roles, result_status = wf.TRANSFERS[kind]
    if report.status not in statuses:
        raise Conflict("transfer_not_allowed")
    if actor.role not in roles or not (may_verify(actor, report) if kind == "kelurahan" else may_work(actor, report)):
        raise Forbidden()
    reason = require_text(reason, "reason", "report_reason_required")
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
        record_history(report, actor, "transfer", from_status, result_status, reason=reason, details=details)
        status_changed(report, from_status, actor, transfer=kind)
    commit_versioned()
    return report


def mark_duplicate(actor: User, report_id: str, duplicate_of_id: str, *, expected_version: int | None) -> Report:
    return transition(
        actor, report_id, wf.DUPLICATE, expected_version=expected_version, duplicate_of_id=duplicate_of_id
    )
