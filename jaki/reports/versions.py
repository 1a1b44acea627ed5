"""A report's version as its ETag, and the If-Match that must name it before any change (optimistic locking)."""

# Every change to a report row needs the version the client read (If-Match); the UPDATE itself is conditional on
# that version (SQLAlchemy version_id_col), so two concurrent writers cannot both win.

from __future__ import annotations

import re

from sqlalchemy.orm.exc import StaleDataError

from jaki.errors import JakiError, PreconditionFailed
from jaki.extensions import db
from jaki.reports.models import Report

# "7", or "7-<digest>" as the public GET tags its representation (jaki.caching): the version is what If-Match checks.
_VERSION_TAG = re.compile(r"([0-9]{1,9})(-[0-9a-f]{16})?")


def etag(report: Report) -> str:
    return f'"{report.version}"'


def parse_if_match(header: str | None) -> int | None:
    """The version an If-Match header names; None when absent, -1 when it names no version of ours."""
    if header is None:
        return None
    tag = header.split(",")[0].strip()
    tag = tag.removeprefix("W/").strip('"')
    match = _VERSION_TAG.fullmatch(tag)
    return int(match.group(1)) if match else -1


def check_version(report: Report, expected_version: int | None) -> None:
    if expected_version is None:
        raise JakiError("precondition_required", status=428)
    if expected_version != report.version:
        raise PreconditionFailed(headers={"ETag": etag(report)})


def commit_versioned() -> None:
    """Commit; a lost race on the version (the conditional UPDATE touched no row) becomes 412."""
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise PreconditionFailed() from None
