"""Report jobs: thumbnails (MEDIA queue), SLA escalation and auto-closing (scheduled, PERIODIC). All idempotent."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update

from jaki.auth.models import User
from jaki.db import utcnow
from jaki.errors import JakiError
from jaki.extensions import db
from jaki.media.images import PhotoRejected, make_thumbnail
from jaki.media.storage import ObjectNotFound, app_storage
from jaki.reports import transitions
from jaki.reports import workflow as wf
from jaki.reports.events import distinct_recipients, record_history, report_event
from jaki.reports.models import Report, ReportPhoto
from jaki.settings import setting

log = logging.getLogger(__name__)

BATCH = 500  # rows per sweep; the next run takes the rest


def make_photo_thumbnail(photo_id: str) -> str | None:
    """Store a JPEG thumbnail of a report photo; does nothing when the photo is gone or already has one."""
    photo = db.session.get(ReportPhoto, photo_id)
    if photo is None:
        return None
    store = app_storage()
    if photo.thumbnail_key and store.exists(photo.thumbnail_key):
        return photo.thumbnail_key
    try:
        original = store.get(photo.storage_key)
    except ObjectNotFound:
        log.warning("photo object missing", extra={"photo_id": photo_id})
        return None
    try:
        thumbnail = make_thumbnail(original)
    except PhotoRejected:
        # The stored bytes were sanitised on upload, so this is permanent: retrying cannot help.
        log.warning("thumbnail failed", extra={"photo_id": photo_id})
        return None
    key = photo.storage_key.rsplit(".", 1)[0] + "-thumb.jpg"
    store.put(key, thumbnail, "image/jpeg")
    photo.thumbnail_key = key
    db.session.commit()
    return key


def _agency_admins(agency_code: str) -> list[str]:
    return list(
        db.session.scalars(
            select(User.id)
            .where(User.role == "agency_admin", User.agency_code == agency_code, User.status == "active")
            .order_by(User.id)
        )
    )


def escalate_sla_breaches(now: datetime | None = None) -> int:
    """Flag open reports past their SLA due time and tell the agency admins (and the assigned officer), once."""
    now = now or utcnow()
    due = db.session.scalars(
        select(Report.id)
        .where(Report.status.in_(wf.OPEN_STATUSES), Report.sla_due_at < now, Report.sla_breached_at.is_(None))
        .order_by(Report.sla_due_at)
        .limit(BATCH)
    ).all()
    flagged = 0
    for report_id in due:
        # Conditional and outside the version: a second sweep (or another worker) flags nothing twice, and an
        # officer's If-Match stays valid.
        result = db.session.execute(
            update(Report.__table__)
            .where(Report.id == report_id, Report.sla_breached_at.is_(None), Report.status.in_(wf.OPEN_STATUSES))
            .values(sla_breached_at=now)
        )
        if result.rowcount != 1:
            db.session.rollback()
            continue
        report = db.session.get(Report, report_id)
        db.session.refresh(report)
        overdue_hours = int((now - report.sla_due_at).total_seconds() // 3600)
        record_history(
            report,
            None,
            "sla_breached",
            report.status,
            report.status,
            details={"sla_due_at": report.sla_due_at.isoformat()},
        )
        recipients = distinct_recipients(_agency_admins(report.agency_code), [report.assigned_officer_id])
        report_event(
            "report.sla_breached",
            report,
            recipients,
            sla_due_at=report.sla_due_at.isoformat(),
            overdue_hours=overdue_hours,
        )
        db.session.commit()
        flagged += 1
    if flagged:
        log.info("sla breaches flagged", extra={"count": flagged})
    return flagged


def auto_close_resolved(now: datetime | None = None) -> int:
    """Close reports resolved more than REPORTS_AUTO_CLOSE_DAYS ago that the reporter did not confirm or reopen."""
    now = now or utcnow()
    cutoff = now - timedelta(days=setting("REPORTS_AUTO_CLOSE_DAYS"))
    rows = db.session.execute(
        select(Report.id, Report.version)
        .where(Report.status == wf.RESOLVED, Report.resolved_at < cutoff)
        .order_by(Report.resolved_at)
        .limit(BATCH)
    ).all()
    closed = 0
    for report_id, version in rows:
        try:
            transitions.transition(None, report_id, wf.CLOSED, expected_version=version)
        except JakiError as exc:
            # Someone acted on it since we looked (reopened, closed): their change stands.
            db.session.rollback()
            log.info("auto-close skipped", extra={"report_id": report_id, "code": exc.code})
            continue
        closed += 1
    return closed
