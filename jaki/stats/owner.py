"""Time to owner (issue 15): receipt -> dispatch to the unit that resolved it, per agency (Singapore's measure)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from jaki.auth.models import User
from jaki.db import utcnow
from jaki.extensions import db
from jaki.reports.models import Report
from jaki.stats.operations import scope


def _quantiles(values: list[int]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    values = sorted(values)

    def at(q: float) -> float:
        k = (len(values) - 1) * q
        lo, hi = int(k), min(int(k) + 1, len(values) - 1)
        return values[lo] + (values[hi] - values[lo]) * (k - lo)

    return at(0.5), at(0.9)


def time_to_owner(user: User, args: dict) -> dict:
    """Reports filed in the last `days` days whose work was done: how long each took to reach its owner.
    Stored per report (reports.time_to_owner_seconds) when the work is done; read here per agency."""
    agency = scope(user, args.get("agency"))
    days = args.get("days") or 90
    since = utcnow() - timedelta(days=days)
    query = select(Report.agency_code, Report.time_to_owner_seconds).where(
        Report.created_at >= since, Report.time_to_owner_seconds.is_not(None)
    )
    if agency:
        query = query.where(Report.agency_code == agency)
    per_agency: dict[str, list[int]] = {}
    for code, seconds in db.session.execute(query.order_by(Report.agency_code)):
        per_agency.setdefault(code, []).append(seconds)
    everything = [v for values in per_agency.values() for v in values]
    median, p90 = _quantiles(everything)
    rows = []
    for code, values in per_agency.items():
        m, p = _quantiles(values)
        rows.append({"agency_code": code, "count": len(values), "median_hours": _hours(m), "p90_hours": _hours(p)})
    return {
        "days": days,
        "agency": agency,
        "count": len(everything),
        "median_hours": _hours(median),
        "p90_hours": _hours(p90),
        "mean_hours": _hours(sum(everything) / len(everything)) if everything else None,
        "rows": rows,
    }


def _hours(seconds: float | None) -> float | None:
    return round(seconds / 3600, 2) if seconds is not None else None
