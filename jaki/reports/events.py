"""What a report change leaves behind: its history row and its outbox event, with who is told."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from jaki.auth.models import User
from jaki.events import record_event
from jaki.extensions import db
from jaki.reports import workflow as wf
from jaki.reports.models import Report, ReportHistory, ReportSupport


def record_history(
    report: Report,
    actor: User | None,
    action: str,
    from_status: str | None,
    to_status: str,
    reason: str | None = None,
    details: dict | None = None,
    actor_role: str | None = None,
) -> ReportHistory:
    """actor None is jaki itself ("system"), or, with actor_role "external", a body outside the Pemprov."""
    entry = ReportHistory(
        report_id=report.id,
        actor_id=actor.id if actor else None,
        actor_role=actor.role if actor else (actor_role or "system"),
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        details=details,
    )
    db.session.add(entry)
    return entry


def supporter_ids(report_id: str) -> list[str]:
    return list(
        db.session.scalars(
            select(ReportSupport.user_id)
            .where(ReportSupport.report_id == report_id)
            .order_by(ReportSupport.created_at, ReportSupport.user_id)
        )
    )


def distinct_recipients(*groups: Iterable[str | None], exclude: str | None = None) -> list[str]:
    seen: list[str] = []
    for group in groups:
        for user_id in group:
            if user_id and user_id != exclude and user_id not in seen:
                seen.append(user_id)
    return seen


def report_event(type_: str, report: Report, recipients: list[str], **data) -> None:
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


def status_changed(report: Report, from_status: str, actor: User | None, extra: Iterable[str] = (), **data) -> None:
    recipients = distinct_recipients(
        [report.reporter_id],
        supporter_ids(report.id),
        [report.assigned_officer_id],
        extra,
        exclude=actor.id if actor else None,
    )
    if recipients:
        report_event("report.status_changed", report, recipients, from_status=from_status, **data)
