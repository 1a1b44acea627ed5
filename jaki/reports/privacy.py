"""Personal data of reporters: the audited contact for officers, and the UU PDP data export."""

from __future__ import annotations

from sqlalchemy import select

from jaki import audit
from jaki.auth.models import User
from jaki.errors import NotFound
from jaki.extensions import db
from jaki.reports.models import Report, ReportComment, ReportRating, ReportSupport
from jaki.reports.scope import get_for_staff


def reporter_contact(user: User, report_id: str, reason: str | None) -> dict:
    """The reporter's name and phone for an officer who must call them: needs a reason, always audited."""
    report = get_for_staff(user, report_id)
    reason = audit.access_reason(reason)
    if report.reporter_id is None:
        raise NotFound()
    person = db.session.get(User, report.reporter_id)
    audit.record(
        db.session,
        actor=user,
        subject_id=person.id,
        action="report.reporter.read",
        fields=("full_name", "phone", "nik_masked"),
        reason=f"report {report.id}: {reason}",
    )
    db.session.commit()
    return {
        "report_id": report.id,
        "user_id": person.id,
        "full_name": person.full_name,
        "phone": person.phone,
        "nik_masked": person.nik_masked,
    }


def export_section(user: User) -> dict:
    """UU PDP data export: the person's reports (anonymous ones too), comments, supports and ratings."""
    reports = db.session.scalars(select(Report).where(Report.reporter_id == user.id).order_by(Report.created_at)).all()
    comments = db.session.scalars(
        select(ReportComment).where(ReportComment.author_id == user.id).order_by(ReportComment.id)
    ).all()
    supports = db.session.scalars(
        select(ReportSupport).where(ReportSupport.user_id == user.id).order_by(ReportSupport.created_at)
    ).all()
    ratings = db.session.scalars(select(ReportRating).where(ReportRating.user_id == user.id)).all()
    return {
        "reports": [
            {
                "id": r.id,
                "created_at": r.created_at.isoformat(),
                "category_code": r.category_code,
                "description": r.description,
                "address": r.address,
                "latitude": r.latitude,
                "longitude": r.longitude,
                "anonymous": r.anonymous,
                "status": r.status,
                "kelurahan_code": r.kelurahan_code,
                "agency_code": r.agency_code,
                "photos": [p.id for p in r.photos],
                "idempotency_key": r.idempotency_key,
            }
            for r in reports
        ],
        "comments": [
            {
                "id": c.id,
                "report_id": c.report_id,
                "created_at": c.created_at.isoformat(),
                "body": c.body,
                "internal": c.internal,
            }
            for c in comments
        ],
        "supports": [{"report_id": s.report_id, "created_at": s.created_at.isoformat()} for s in supports],
        "ratings": [
            {"report_id": r.report_id, "score": r.score, "comment": r.comment, "created_at": r.created_at.isoformat()}
            for r in ratings
        ],
    }
