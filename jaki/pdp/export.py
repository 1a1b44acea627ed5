"""The data-rights section of the citizen's data export: their access log, corrections and consent choices."""

from __future__ import annotations

from sqlalchemy import select

from jaki.db import utcnow
from jaki.extensions import db
from jaki.pdp.access import present, subject_indexes_of_user, visible_condition
from jaki.pdp.consent import choices
from jaki.pdp.corrections import trail
from jaki.pdp.models import AccessLogEntry, CorrectionRequest


def export_section(user) -> dict:
    entries = db.session.scalars(
        select(AccessLogEntry)
        .where(*visible_condition(subject_indexes_of_user(user), utcnow()))
        .order_by(AccessLogEntry.id.desc())
        .limit(10_000)
    ).all()
    requests = db.session.scalars(
        select(CorrectionRequest).where(CorrectionRequest.user_id == user.id).order_by(CorrectionRequest.created_at)
    ).all()
    return {
        "access_log": [_jsonable(present(e)) for e in entries],
        "corrections": [
            {
                "reference": r.reference,
                "domain": r.domain,
                "field": r.field,
                "status": r.status,
                "created_at": r.created_at.isoformat(),
                "trail": [{"at": t.at.isoformat(), "status": t.status, "note": t.note} for t in trail(r)],
            }
            for r in requests
        ],
        "consents": {
            k: {**v, "changed_at": _iso(v["changed_at"]), "effective_by": _iso(v["effective_by"])}
            for k, v in choices(user).items()
        },
    }


def _iso(value):
    return value.isoformat() if value is not None else None


def _jsonable(entry: dict) -> dict:
    return {k: (_iso(v) if hasattr(v, "isoformat") else v) for k, v in entry.items()}
