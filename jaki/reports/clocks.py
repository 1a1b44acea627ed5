"""Visible clocks: a report's SLA (due time, time left, pauses with their reason) and staff's red flag."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from jaki.db import utcnow
from jaki.extensions import db
from jaki.reports import workflow as wf
from jaki.reports.models import Report, ReportHistory, SlaPause
from jaki.settings import setting

PAUSE_REASONS = ("external_agency",)


def pause(report: Report, reason: str, now: datetime) -> None:
    """Stop the SLA clock (in the caller's transaction); a pause already open stays the one."""
    if report.sla_paused_at is not None:
        return
    report.sla_paused_at = now
    report.sla_pauses.append(SlaPause(report_id=report.id, started_at=now, reason=reason))


def resume(report: Report, now: datetime) -> None:
    """Start it again: the due time moves on by the time it stood still."""
    if report.sla_paused_at is None:
        return
    for open_pause in report.sla_pauses:
        if open_pause.ended_at is None:
            open_pause.ended_at = now
    report.sla_due_at = report.sla_due_at + (now - report.sla_paused_at)
    report.sla_paused_at = None


def paused_seconds(report: Report) -> float:
    return sum((p.ended_at - p.started_at).total_seconds() for p in report.sla_pauses if p.ended_at is not None)


def sla_view(report: Report, now: datetime | None = None) -> dict:
    """What every report shows of its SLA."""
    now = now or utcnow()
    running = report.status in wf.OPEN_STATUSES
    if report.sla_paused_at is not None:
        left = (report.sla_due_at - report.sla_paused_at).total_seconds()
    elif running:
        left = (report.sla_due_at - now).total_seconds()
    else:
        left = None
    return {
        "started_at": report.sla_started_at or report.created_at,
        "due_at": report.sla_due_at,
        "running": running and report.sla_paused_at is None,
        "time_left_seconds": int(left) if left is not None else None,
        "breached": report.sla_breached_at is not None
        or (report.resolved_at is not None and report.resolved_at > report.sla_due_at),
        "paused": report.sla_paused_at is not None,
        "pauses": [{"started_at": p.started_at, "ended_at": p.ended_at, "reason": p.reason} for p in report.sla_pauses],
    }


def red_flag(report: Report, now: datetime | None = None) -> bool:
    """Staff's red flag: still open STATS_RED_FLAG_DAYS (6) days after receipt."""
    now = now or utcnow()
    return report.status in wf.OPEN_STATUSES and now - report.created_at >= timedelta(
        days=setting("STATS_RED_FLAG_DAYS")
    )


def escalations(report_id: str) -> list[dict]:
    """The escalations the clock triggered (the SLA job's breach flag and whom it told)."""
    rows = db.session.scalars(
        select(ReportHistory)
        .where(ReportHistory.report_id == report_id, ReportHistory.action.in_(("sla_breached", "escalate")))
        .order_by(ReportHistory.id)
    )
    return [{"at": h.at, "action": h.action, "details": h.details} for h in rows]
