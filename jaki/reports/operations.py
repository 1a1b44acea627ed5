"""The reports write side: filing a report (quota, duplicates, photos) and citizens' actions (evidence: evidence.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from jaki.auth.models import User
from jaki.db import commit_keeping_loaded, utcnow
from jaki.errors import Conflict, Forbidden, RateLimited
from jaki.extensions import db
from jaki.geo.cells import cell_of
from jaki.geo.operations import Routing
from jaki.reports import workflow as wf
from jaki.reports.categories import active_category
from jaki.reports.checks import clean_text, require_text, route_location
from jaki.reports.events import distinct_recipients, record_history, report_event, supporter_ids
from jaki.reports.models import (
    Category,
    Report,
    ReportComment,
    ReportPhoto,
    ReportQuota,
    ReportRating,
    ReportSupport,
)
from jaki.reports.photos import discard_photos, enqueue_thumbnails, sanitize_uploads, store_photo
from jaki.reports.queries import find_duplicates
from jaki.reports.scope import check_visible, load_report, may_see_as_staff
from jaki.settings import setting
from jaki.timezone import WIB


@dataclass(frozen=True)
class Created:
    report: Report
    created: bool
    duplicates: int = 0  # open reports of the category nearby, counted when asked (count_duplicates)


def _take_quota(user_id: str, now: datetime) -> None:
    """Count one report against the reporter's daily cap with a conditional UPDATE (atomic across processes)."""
    cap = setting("REPORTS_DAILY_CAP")
    day = now.astimezone(WIB).date()
    for _attempt in range(3):
        result = db.session.execute(
            update(ReportQuota.__table__)
            .where(ReportQuota.user_id == user_id, ReportQuota.day == day, ReportQuota.count < cap)
            .values(count=ReportQuota.count + 1)
        )
        if result.rowcount == 1:
            return
        row_exists = db.session.scalar(
            select(ReportQuota.count).where(ReportQuota.user_id == user_id, ReportQuota.day == day)
        )
        if row_exists is not None:
            midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), WIB)
            raise RateLimited(
                "report_daily_cap", cap=cap, headers={"Retry-After": str(max(int((midnight - now).total_seconds()), 1))}
            )
        try:
            with db.session.begin_nested():
                db.session.execute(ReportQuota.__table__.insert().values(user_id=user_id, day=day, count=1))
            return
        except IntegrityError:
            continue  # another request made today's row first: go round and increment it
    raise RateLimited("report_daily_cap", cap=cap)


def _duplicate_conflict(candidates: list[tuple[Report, float]], reporter: User | None) -> Conflict:
    listed = [
        {
            "id": r.id,
            "distance_m": round(d, 1),
            "status": r.status,
            "public_status": wf.PUBLIC_LABELS[r.status],
            "support_count": r.support_count,
            "created_at": r.created_at.isoformat(),
            "mine": reporter is not None and r.reporter_id == reporter.id,
        }
        for r, d in candidates
    ]
    return Conflict("duplicate_nearby", errors={"duplicates": listed})


def create_report(
    reporter: User | None,
    *,
    category_code: str | None = None,
    description: str,
    latitude: float,
    longitude: float,
    address: str | None = None,
    anonymous: bool = False,
    photos: Sequence[bytes] = (),
    idempotency_key: str | None = None,
    force: bool = False,
    source: str = "app",
    enforce_quota: bool = True,
    category: Category | None = None,
    routing: Routing | None = None,
    count_duplicates: bool = False,
    in_transaction: Callable[[Report], None] | None = None,
) -> Created:
    """File a report: validate, offer duplicates (unless force), route, store photos, record the event.

    Retries over HTTP are answered by jaki.idempotency before this runs; `idempotency_key` only labels the row (the
    demo seeder finds its own reports by it). Photos are the raw uploaded bytes; thumbnails are made afterwards by
    a MEDIA job.

    A caller that answers in its own vocabulary (Open311) checks the category (active_category) and the point
    (route_location) itself and hands over the results as `category` and `routing`: they are not checked again.
    `count_duplicates` counts the nearby open reports into Created.duplicates even when `force` files anyway.
    `in_transaction(report)` runs after the report row is flushed and before the one commit, so rows it adds
    (Open311's submission) commit with the report or not at all.
    """
    routing = routing or route_location(latitude, longitude)
    category = category or active_category(category_code)
    description = clean_text(description, "description")
    address = clean_text(address, "address") if address else None
    cleaned = sanitize_uploads(photos)
    candidates = find_duplicates(category, latitude, longitude) if not force or count_duplicates else []
    if candidates and not force:
        raise _duplicate_conflict(candidates, reporter)
    now = utcnow()
    if reporter is not None and enforce_quota:
        _take_quota(reporter.id, now)
    report = Report(
        reporter_id=reporter.id if reporter else None,
        source=source,
        category=category,
        description=description,
        address=(address or "").strip() or None,
        latitude=latitude,
        longitude=longitude,
        cell=cell_of(latitude, longitude),
        anonymous=bool(anonymous),
        status=wf.SUBMITTED,
        kelurahan_code=routing.kelurahan_code,
        kecamatan_code=routing.kecamatan_code,
        kota_code=routing.kota_code,
        routing_distance_m=routing.distance_m,
        agency_code=category.agency_code,
        sla_due_at=now + timedelta(hours=category.sla_hours),
        idempotency_key=idempotency_key,
        created_at=now,
        updated_at=now,
    )
    db.session.add(report)
    db.session.flush()
    stored: list[ReportPhoto] = []
    try:
        for position, photo in enumerate(cleaned):
            stored.append(store_photo(report, photo, kind="report", position=position, uploader=reporter))
        record_history(
            report,
            reporter,
            "create",
            None,
            wf.SUBMITTED,
            details={
                "kelurahan_code": routing.kelurahan_code,
                "agency_code": category.agency_code,
                "routed": routing.routed,
                "exact": routing.exact,
            },
        )
        if reporter is not None:
            report_event("report.created", report, [reporter.id], routed=routing.routed)
        if in_transaction is not None:
            in_transaction(report)
        photo_ids = [p.id for p in stored]
        # The answer is this report as written: its collections are known, none needs reading back.
        set_committed_value(report, "photos", stored)
        set_committed_value(report, "sla_pauses", [])
        set_committed_value(report, "ratings", [])
        commit_keeping_loaded()
    except BaseException:
        db.session.rollback()
        discard_photos(p.storage_key for p in stored)
        raise
    enqueue_thumbnails(photo_ids)
    return Created(report, True, duplicates=len(candidates))


def support(actor: User, report_id: str) -> Report:
    """+1: the citizen has the same problem and follows the report. Idempotent."""
    report = load_report(report_id)
    check_visible(report, actor)
    if actor.id == report.reporter_id:
        raise Conflict("cannot_support_own")
    if report.status not in wf.OPEN_STATUSES:
        raise Conflict("report_not_open")
    try:
        with db.session.begin_nested():
            db.session.add(ReportSupport(report_id=report.id, user_id=actor.id))
    except IntegrityError:
        return report  # already supported (or a double tap racing itself)
    # A plain UPDATE: supporting is not an edit, so it must not change the version officers hold.
    db.session.execute(
        update(Report.__table__).where(Report.id == report.id).values(support_count=Report.support_count + 1)
    )
    if report.reporter_id:
        report_event("report.supported", report, [report.reporter_id], support_count=report.support_count + 1)
    db.session.commit()
    db.session.refresh(report)
    return report


def add_comment(actor: User, report_id: str, body: str, *, internal: bool = False) -> ReportComment:
    """A public comment (any logged-in person on a visible report) or a staff-only internal note."""
    report = load_report(report_id)
    if internal:
        if not may_see_as_staff(actor, report):
            raise Forbidden()
    else:
        check_visible(report, actor)
    body = require_text(body, "body", "validation_error")
    comment = ReportComment(
        report_id=report.id, author_id=actor.id, author_role=actor.role, internal=internal, body=body
    )
    db.session.add(comment)
    db.session.flush()
    if internal:  # the history holds every step; the reporter's view leaves internal notes out
        record_history(report, actor, "note", report.status, report.status, details={"comment_id": comment.id})
    if internal:
        recipients = distinct_recipients([report.assigned_officer_id], exclude=actor.id)
    else:
        recipients = distinct_recipients(
            [report.reporter_id], supporter_ids(report.id), [report.assigned_officer_id], exclude=actor.id
        )
    if recipients:
        report_event(
            "report.comment_added", report, recipients, comment_id=comment.id, internal=internal, author_role=actor.role
        )
    db.session.commit()
    return comment


def rate(actor: User, report_id: str, score: int, comment: str | None = None) -> ReportRating:
    """The reporter rates the outcome of this resolution round: once per round, so a report reopened and fixed
    properly is rated again and the first fix keeps its own rating."""
    report = load_report(report_id)
    if actor.id != report.reporter_id:
        check_visible(report, actor)
        raise Forbidden("rating_not_allowed")
    if report.status not in (wf.RESOLVED, wf.CLOSED):
        raise Conflict("rating_not_allowed")
    round_ = report.reopen_count
    if db.session.get(ReportRating, (report.id, round_)) is not None:
        raise Conflict("already_rated")
    rating = ReportRating(
        report_id=report.id,
        round=round_,
        user_id=actor.id,
        score=score,
        comment=clean_text(comment or "", "comment") or None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(rating)
    except IntegrityError:
        raise Conflict("already_rated") from None
    record_history(report, actor, "rating", report.status, report.status, details={"round": round_, "score": score})
    db.session.commit()
    return rating
