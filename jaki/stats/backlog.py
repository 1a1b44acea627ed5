"""The open backlog per unit (open, overdue, red-flagged, oldest) and the command center's headline numbers.

Overdue and red-flagged depend on the clock, not on any change to a report, so no trigger can keep them: they are
counted over the open reports (the status index), whose number is the backlog (thousands), not the table's size.
A report is overdue once past its own deadline (sla_due_at, its category's SLA) and red-flagged once open for
STATS_RED_FLAG_DAYS (Jakarta's rule: unanswered at 6 days turns red, ahead of the 7-day follow-up limit).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import case, func, literal, select

from jaki.db import utcnow
from jaki.extensions import db
from jaki.reports import workflow as wf
from jaki.reports.models import Report
from jaki.stats.query import Names, group_expression, key_value, setting
from jaki.timezone import WIB

GROUPS = ("agency", "kota", "kecamatan", "kelurahan", "category")


def _measures(now: datetime, red_flag_at: datetime):
    r = Report
    return (
        func.count(),
        func.coalesce(func.sum(case((r.sla_due_at < now, 1), else_=0)), 0),
        func.coalesce(func.sum(case((r.created_at <= red_flag_at, 1), else_=0)), 0),
        func.min(r.created_at),
    )


def _open(query, agency: str | None):
    query = query.where(Report.status.in_(wf.OPEN_STATUSES))
    if agency:
        query = query.where(Report.agency_code == agency)
    return query


def _row(key: str, name: str | None, values, now: datetime) -> dict:
    count, overdue, red, oldest = values
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return {
        "key": key,
        "name": name,
        "open": int(count),
        "overdue": int(overdue),
        "red_flagged": int(red),
        "oldest_at": oldest,
        "oldest_hours": round((now - oldest).total_seconds() / 3600, 1) if oldest else None,
    }


def backlog(group: str, *, agency: str | None = None, now: datetime | None = None) -> dict:
    """Open reports per unit (agency by default), most red flags first, and the total."""
    now = now or utcnow()
    days = int(setting("STATS_RED_FLAG_DAYS"))
    red_flag_at = now - timedelta(days=days)
    r = Report
    expression = group_expression(
        group,
        kelurahan=func.coalesce(r.kelurahan_code, literal("")),
        category=r.category_code,
        agency=r.agency_code,
        status=r.status,
        month=None,
    )
    names = Names((group,))
    rows = []
    total = [0, 0, 0, None]
    query = _open(select(expression, *_measures(now, red_flag_at)), agency).group_by(expression)
    for value, *values in db.session.execute(query):  # one scan of the open reports; the total is the rows' sum
        key = key_value(group, value)
        rows.append(_row(key, names.name(group, key), values, now))
        total = [total[0] + values[0], total[1] + values[1], total[2] + values[2], _earliest(total[3], values[3])]
    rows.sort(key=lambda row: (-row["red_flagged"], -row["overdue"], -row["open"], row["key"]))
    return {
        "group_by": group,
        "red_flag_days": days,
        "as_of": now,
        "rows": rows,
        "total": _row("", None, total, now),
    }


def totals(*, agency: str | None = None, now: datetime | None = None) -> dict:
    """The backlog's total alone (the headline numbers): open, overdue, red-flagged, oldest."""
    now = now or utcnow()
    red_flag_at = now - timedelta(days=int(setting("STATS_RED_FLAG_DAYS")))
    values = db.session.execute(_open(select(*_measures(now, red_flag_at)), agency)).one()
    return _row("", None, values, now)


def _earliest(a, b):
    if a is None or b is None:
        return a if b is None else b
    return min(a, b)


def filed_today(*, agency: str | None = None, now: datetime | None = None) -> int:
    """Reports filed since midnight in Jakarta: one day's range of the created_at index."""
    now = now or utcnow()
    midnight = datetime.combine(now.astimezone(WIB).date(), datetime.min.time(), tzinfo=WIB).astimezone(UTC)
    query = select(func.count()).select_from(Report).where(Report.created_at >= midnight)
    if agency:
        query = query.where(Report.agency_code == agency)
    return int(db.session.scalar(query))
