"""Officers finding reports: by the reference a citizen reads out (LAP-3F2A9C1B) and by the queue's filters."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import and_, func, or_, select

from jaki.db import utcnow
from jaki.errors import Conflict, NotFound, field_error
from jaki.extensions import db
from jaki.i18n import register
from jaki.reports import workflow as wf
from jaki.reports.models import Report
from jaki.reports.scope import area_condition, get_for_staff

register(
    {
        "reference_invalid": (
            "Nomor laporan tidak valid. Contoh: LAP-3F2A9C1B.",
            "Not a report reference. Example: LAP-3F2A9C1B.",
        ),
        "reference_not_found": (
            "Tidak ada laporan dengan nomor ini.",
            "No report has this reference.",
        ),
        "reference_ambiguous": (
            "Nomor ini cocok dengan lebih dari satu laporan; pilih dari daftar.",
            "This reference matches more than one report; pick one from the list.",
        ),
    }
)

REFERENCE_PREFIX = "LAP-"
_REFERENCE_DIGITS = 8  # Report.reference: the first 8 hex digits of the id
# What people read out or type: "LAP-3F2A9C1B", "lap 3f2a 9c1b", "3F2A-9C1B".
_SEPARATORS = re.compile(r"[\s\-./]+")
_HEX = re.compile(r"[0-9a-f]{8}")
_TERM_MAX = 100


def reference_digits(text: str | None) -> str | None:
    """The 8 hex digits a reference names (lower case, as in the id), or None for anything else."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    compact = _SEPARATORS.sub("", text.strip()).lower()
    compact = compact.removeprefix("lap")
    return compact if _HEX.fullmatch(compact) else None


def _id_prefix(digits: str):
    """Ids starting with `digits`, as a range on the primary key (a prefix LIKE may not use the index on PostgreSQL
    under a non-C collation; a range always does)."""
    upper = format(int(digits, 16) + 1, "08x") if digits != "ffffffff" else None
    condition = Report.id >= digits
    return and_(condition, Report.id < upper) if upper else condition


def by_reference(user, reference: str) -> Report:
    """The report a reference names, as the staff member may see it (jaki.reports.scope.get_for_staff)."""
    digits = reference_digits(reference)
    if digits is None:
        raise field_error("reference", "reference_invalid")
    ids = list(db.session.scalars(select(Report.id).where(_id_prefix(digits)).order_by(Report.id).limit(10)))
    if not ids:
        raise NotFound("reference_not_found")
    if len(ids) > 1:  # 32 bits of a random UUID: rare, but a million reports make it possible
        raise Conflict("reference_ambiguous", errors={"reference": ids})
    return get_for_staff(user, ids[0])


def _like_term(q: str) -> str:
    return q.strip()[:_TERM_MAX].lower()


def queue_conditions(
    *,
    overdue: bool = False,
    sla_breached: bool = False,
    area: str | None = None,
    agency: str | None = None,
    q: str | None = None,
    now: datetime | None = None,
) -> list:
    """The queue filters as SQL conditions, each narrowing the staff scope (never widening it)."""
    conditions = []
    if overdue:
        conditions.append(and_(Report.status.in_(wf.OPEN_STATUSES), Report.sla_due_at < (now or utcnow())))
    if sla_breached:
        conditions.append(Report.sla_breached_at.is_not(None))
    if area:
        conditions.append(area_condition(area))
    if agency:
        conditions.append(Report.agency_code == agency)
    if q and q.strip():
        term = _like_term(q)
        text = or_(
            func.lower(Report.description).contains(term, autoescape=True),
            func.lower(func.coalesce(Report.address, "")).contains(term, autoescape=True),
        )
        digits = reference_digits(q)
        conditions.append(or_(text, _id_prefix(digits)) if digits else text)
    return conditions
