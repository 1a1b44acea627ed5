"""Retention: what is kept how long (README, "Personal data (UU PDP)"), enforced by a periodic job."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, select

from jaki.auth.models import OtpChallenge, RecordedMessage
from jaki.db import utcnow
from jaki.extensions import db
from jaki.pdp.models import AccessLogEntry, BreachReport, CorrectionRequest
from jaki.settings import setting

log = logging.getLogger(__name__)

BATCH = 5000


def _purge(model, column, older_than, extra=()) -> int:
    """Delete in batches of BATCH rows (no long lock on a busy table); returns the rows deleted."""
    total = 0
    while True:
        ids = list(
            db.session.scalars(select(model.id).where(column < older_than, *extra).order_by(model.id).limit(BATCH))
        )
        if not ids:
            return total
        db.session.execute(delete(model).where(model.id.in_(ids)).execution_options(synchronize_session=False))
        db.session.commit()
        total += len(ids)
        if len(ids) < BATCH:
            return total


def enforce(now=None) -> dict[str, int]:
    """Delete what outlived its retention period. Idempotent; safe on many machines (deletes are by id)."""
    now = now or utcnow()
    days = timedelta(days=1)
    done = {
        # OTP codes are stored hashed; the rows themselves go once long expired.
        "otp_challenges": _purge(OtpChallenge, OtpChallenge.expires_at, now - timedelta(hours=24)),
        "recorded_messages": _purge(
            RecordedMessage,
            RecordedMessage.created_at,
            now - timedelta(hours=setting("PDP_RECORDED_MESSAGES_RETENTION_HOURS")),
        ),
        "access_log": _purge(AccessLogEntry, AccessLogEntry.at, now - setting("PDP_ACCESS_LOG_RETENTION_DAYS") * days),
        "correction_requests": _purge(
            CorrectionRequest,
            CorrectionRequest.closed_at,
            now - setting("PDP_CORRECTION_RETENTION_DAYS") * days,
            (CorrectionRequest.closed_at.is_not(None),),
        ),
        "breach_reports": _purge(
            BreachReport, BreachReport.created_at, now - setting("PDP_BREACH_REPORT_RETENTION_DAYS") * days
        ),
    }
    if any(done.values()):
        log.info("retention enforced", extra=done)
    return done
