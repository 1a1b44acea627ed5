"""The citizen's word on their own report: confirm or dispute a resolution, withdraw it, hide their name."""

from __future__ import annotations

from jaki.auth.models import User
from jaki.errors import Conflict, NotFound
from jaki.extensions import db
from jaki.reports import transitions
from jaki.reports import workflow as wf
from jaki.reports.events import record_history
from jaki.reports.models import Report
from jaki.reports.photos import discard_photos, enqueue_thumbnails, sanitize_uploads, store_photo
from jaki.reports.scope import load_report
from jaki.reports.versions import check_version, commit_versioned


def _own(actor: User, report_id: str) -> Report:
    report = load_report(report_id)
    if report.reporter_id != actor.id:
        raise NotFound()
    return report


def confirm(actor: User, report_id: str, *, expected_version: int | None) -> Report:
    """The reporter agrees it is done (resolved -> closed)."""
    _own(actor, report_id)
    return transitions.transition(actor, report_id, wf.CLOSED, expected_version=expected_version)


def dispute(
    actor: User, report_id: str, reason: str | None, photo: bytes | None = None, *, expected_version: int | None
) -> Report:
    """The reporter says it is not done: with a reason (and a photo if they have one) the report reopens, the
    dispute is counted and the SLA starts again. The photo is checked and stripped like every upload."""
    report = _own(actor, report_id)
    cleaned = sanitize_uploads([photo]) if photo else []
    if report.status not in (wf.RESOLVED, wf.CLOSED):
        raise Conflict("transition_not_allowed", from_status=report.status, to_status=wf.DISPATCHED)
    stored = []
    try:
        for item in cleaned:
            # Stored before the transition: it belongs to the round it disputes.
            stored.append(
                store_photo(
                    report,
                    item,
                    kind="dispute",
                    position=90 + len(report.photos),
                    uploader=actor,
                    round_=report.reopen_count,
                )
            )
        if stored:
            stored[0].phase = "dispute"
            db.session.flush()
        report = transitions.transition(
            actor, report_id, wf.DISPATCHED, expected_version=expected_version, reason=reason
        )
    except BaseException:
        db.session.rollback()
        discard_photos(p.storage_key for p in stored)
        raise
    record_history(
        report,
        actor,
        "dispute",
        report.status,
        report.status,
        reason=reason,
        details={"dispute_count": report.dispute_count, "photo_id": stored[0].id if stored else None},
    )
    db.session.commit()
    enqueue_thumbnails([p.id for p in stored])
    return report


def withdraw(actor: User, report_id: str, *, reason: str | None, expected_version: int | None) -> Report:
    """The reporter takes their report back, before anyone was dispatched to it."""
    report = _own(actor, report_id)
    if report.status not in (wf.SUBMITTED, wf.VERIFIED):
        raise Conflict("withdraw_not_allowed")
    return transitions.transition(actor, report_id, wf.WITHDRAWN, expected_version=expected_version, reason=reason)


def hide_name(actor: User, report_id: str, *, expected_version: int | None) -> Report:
    """From now on the public sees the report without the reporter's name (staff still know who filed it)."""
    report = _own(actor, report_id)
    check_version(report, expected_version)
    if not report.anonymous:
        with db.session.no_autoflush:
            report.anonymous = True
            record_history(report, actor, "name_hidden", report.status, report.status)
        commit_versioned()
    return report
