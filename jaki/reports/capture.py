"""Capture tokens: a single-use, short-lived permission to upload one evidence photo for one assignment."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from jaki.auth.models import User
from jaki.db import utcnow
from jaki.extensions import db
from jaki.reports import workflow as wf
from jaki.reports.models import CaptureToken, Report, ReportHistory
from jaki.settings import setting


@dataclass(frozen=True)
class Minted:
    token: str
    expires_at: datetime


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def work_started_at(report: Report) -> datetime | None:
    """When work on this round started: the latest dispatched -> in_progress (the claim of the work)."""
    return db.session.scalar(
        select(func.max(ReportHistory.at)).where(
            ReportHistory.report_id == report.id,
            ReportHistory.from_status == wf.DISPATCHED,
            ReportHistory.to_status == wf.IN_PROGRESS,
        )
    )


def mint(report: Report, officer: User, started_at: datetime) -> Minted:
    """A capture token for this assignment and round (in the caller's transaction); only its hash is stored."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires_at = now + timedelta(seconds=setting("REPORTS_CAPTURE_TOKEN_SECONDS"))
    db.session.add(
        CaptureToken(
            token_hash=digest(token),
            report_id=report.id,
            officer_id=officer.id,
            round=report.reopen_count,
            work_started_at=started_at,
            issued_at=now,
            expires_at=expires_at,
        )
    )
    return Minted(token, expires_at)
