"""The right owner: an officer corrects the category (re-routed), or says "not ours" and names who it is."""

from __future__ import annotations

from datetime import datetime, timedelta

from jaki.agencies.models import Agency
from jaki.auth.models import User
from jaki.db import utcnow
from jaki.errors import Conflict, Forbidden, field_error
from jaki.extensions import db
from jaki.reports import workflow as wf
from jaki.reports.categories import active_category
from jaki.reports.checks import require_text
from jaki.reports.clocks import paused_seconds
from jaki.reports.events import record_history, status_changed
from jaki.reports.external import enqueue_pending, hand_off
from jaki.reports.models import Report
from jaki.reports.scope import load_report, may_verify, may_work
from jaki.reports.versions import check_version, commit_versioned

# Before the work is done: afterwards the category is what was fixed.
CORRECTABLE = frozenset({wf.SUBMITTED, wf.VERIFIED, wf.DISPATCHED, wf.IN_PROGRESS})
EXTERNAL = "external"


def sla_due(report: Report, sla_hours: int) -> datetime:
    """The SLA origin (receipt, or the last dispute) plus the category's hours plus the closed pauses."""
    origin = report.sla_started_at or report.created_at
    return origin + timedelta(hours=sla_hours, seconds=paused_seconds(report))


def _reroute(report: Report, agency_code: str, now: datetime) -> str:
    """Hand the report to another agency: verified reports wait for its dispatch; a submitted one stays with the
    kelurahan's verification. Receipt time and SLA origin are kept."""
    report.agency_code = agency_code
    report.assigned_officer_id = None
    report.assigned_at = None
    report.dispatched_at = None
    if report.status in (wf.DISPATCHED, wf.IN_PROGRESS):
        report.status = wf.VERIFIED
    return report.status


def correct_category(
    actor: User, report_id: str, category_code: str, *, reason: str | None, expected_version: int | None
) -> Report:
    """An officer corrects a wrongly chosen category: the report goes to the new category's agency (if another)
    with the new category's SLA counted from the same origin; the history keeps both."""
    report = load_report(report_id)
    if not actor.is_staff or not (may_verify(actor, report) or may_work(actor, report)):
        raise Forbidden()
    check_version(report, expected_version)
    if report.status not in CORRECTABLE:
        raise Conflict("category_change_not_allowed")
    category = active_category(category_code)
    if category.code == report.category_code:
        raise Conflict("category_unchanged")
    reason = require_text(reason, "reason", "report_reason_required")
    with db.session.no_autoflush:
        now = utcnow()
        from_status = report.status
        details = {
            "from_category_code": report.category_code,
            "to_category_code": category.code,
            "from_agency_code": report.agency_code,
            "to_agency_code": category.agency_code,
        }
        report.category_code = category.code
        report.category = category
        report.sla_due_at = sla_due(report, category.sla_hours)
        if category.agency_code != report.agency_code:
            _reroute(report, category.agency_code, now)
        record_history(report, actor, "category_changed", from_status, report.status, reason=reason, details=details)
        status_changed(report, from_status, actor, category_changed=True)
    commit_versioned()
    _after_reroute(report)
    return report


def not_ours(
    actor: User, report_id: str, agency_code: str | None, *, reason: str | None, expected_version: int | None
) -> Report:
    """The agency says the report is not its responsibility and names whose it is; it goes there. A body outside
    the Pemprov (kind external) receives it through its channel (jaki.reports.external)."""
    report = load_report(report_id)
    if not actor.is_staff or not may_work(actor, report):
        raise Forbidden()
    check_version(report, expected_version)
    if report.status not in (wf.VERIFIED, wf.DISPATCHED, wf.IN_PROGRESS):
        raise Conflict("transfer_not_allowed")
    if not agency_code:
        raise field_error("agency_code", "responsible_body_required")
    body = db.session.get(Agency, agency_code) if len(agency_code) <= 40 else None
    if body is None:
        raise field_error("agency_code", "agency_unknown")
    if body.code == report.agency_code:
        raise field_error("agency_code", "responsible_body_is_owner")
    reason = require_text(reason, "reason", "report_reason_required")
    with db.session.no_autoflush:
        now = utcnow()
        from_status = report.status
        details = {
            "from_agency_code": report.agency_code,
            "to_agency_code": body.code,
            "external": body.kind == EXTERNAL,
        }
        _reroute(report, body.code, now)
        if body.kind == EXTERNAL:
            hand_off(report, body, now)
            details["handed_off"] = True
        record_history(report, actor, "not_ours", from_status, report.status, reason=reason, details=details)
        status_changed(report, from_status, actor, transfer="agency")
    commit_versioned()
    _after_reroute(report)
    return report


def _after_reroute(report: Report) -> None:
    """After the commit: deliver to an external owner (the delivery row was written with the change)."""
    enqueue_pending(report.id)
