"""Seeding for the statistics tests: known reports in known months, and the figures recomputed from them in Python."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import numpy
from sqlalchemy import select

from jaki.db import new_uuid
from jaki.extensions import db
from jaki.reports import transitions
from jaki.reports import workflow as wf
from jaki.reports.models import Report, ReportRating
from jaki.stats.models import ReportStat, ReportStatCell
from jaki.stats.query import add_months, jakarta_month
from jaki.timezone import WIB
from tests.reports.factories import add_evidence_row, category, citizen, kelurahan_officer, officer, report_row

# Kelurahan with known codes (checked against jakarta_kelurahan.geojson), their points and parents.
PLACES = {
    "31.74.05.1002": (-6.2710, 106.7770),  # Pondok Pinang, Kebayoran Lama, Jakarta Selatan
    "31.74.07.1001": (-6.2440, 106.8000),  # Melawai, Kebayoran Baru, Jakarta Selatan
    "31.71.01.1001": (-6.1754, 106.8272),  # Gambir, Gambir, Jakarta Pusat
}


def month_ago(n: int, day: int = 10, hour: int = 9) -> datetime:
    """A moment n months before the current Jakarta month (its `day`, `hour` WIB), in UTC."""
    month = add_months(jakarta_month(), -n)
    return datetime(month.year, month.month, day, hour, tzinfo=WIB).astimezone(UTC)


def seeded(
    *,
    kelurahan: str = "31.74.05.1002",
    category_code: str = "jalan_rusak",
    status: str = "closed",
    created: datetime,
    verify_h: float | None = None,
    dispatch_h: float | None = None,
    resolve_h: float | None = None,
    sla_h: float = 72,
    breached: bool = False,
    reopened: bool = False,
    score: int | None = None,
    reporter=None,
) -> dict:
    """One report row (bulk insert: the triggers count it) with its timings in hours after filing."""
    cat = category(category_code)
    lat, lon = PLACES[kelurahan]

    def at(hours):
        return created + timedelta(hours=hours) if hours is not None else None

    kecamatan = kelurahan.rsplit(".", 1)[0]
    row = report_row(
        lat,
        lon,
        id=new_uuid(),
        category_code=cat.code,
        agency_code=cat.agency_code,
        status=status,
        kelurahan_code=kelurahan,
        kecamatan_code=kecamatan,
        kota_code=kecamatan.rsplit(".", 1)[0],
        created_at=created,
        updated_at=created,
        sla_due_at=created + timedelta(hours=sla_h),
        verified_at=at(verify_h),
        dispatched_at=at(dispatch_h),
        resolved_at=at(resolve_h),
        sla_breached_at=created + timedelta(hours=sla_h) if breached else None,
        reopen_count=1 if reopened else 0,
    )
    if score is not None:
        row["reporter_id"] = (reporter or citizen()).id
    db.session.execute(Report.__table__.insert(), [row])
    if score is not None:
        db.session.add(ReportRating(report_id=row["id"], user_id=row["reporter_id"], score=score))
        db.session.flush()
    return row


def stored_counts() -> dict:
    """report_stats as stored, every level (rows of zeros left out)."""
    return {
        (r.level, r.month.isoformat()[:7], r.area_code, r.category_code, r.agency_code, r.status): (
            r.count,
            r.sla_met,
            r.sla_breached,
            r.reopened,
        )
        for r in db.session.scalars(select(ReportStat))
        if (r.count, r.sla_met, r.sla_breached, r.reopened) != (0, 0, 0, 0)
    }


def expected_counts() -> dict:
    """The same recomputed in Python from the reports table as it stands, at each of the four levels."""
    out = defaultdict(lambda: [0, 0, 0, 0])
    for r in db.session.scalars(select(Report)):
        month = r.created_at.astimezone(WIB).strftime("%Y-%m")
        kelurahan = r.kelurahan_code or ""
        keys = [
            (0, month, "", r.category_code, r.agency_code, r.status),
            (1, month, kelurahan[:8], r.category_code, r.agency_code, r.status),
            (2, month, kelurahan, r.category_code, r.agency_code, r.status),
            (3, month, kelurahan, "", "", r.status),
            (4, month, kelurahan[:5], r.category_code, r.agency_code, r.status),
        ]
        for key in keys:
            entry = out[key]
            entry[0] += 1
            entry[1] += int(r.resolved_at is not None and r.resolved_at <= r.sla_due_at)
            entry[2] += int(
                r.sla_breached_at is not None or (r.resolved_at is not None and r.resolved_at > r.sla_due_at)
            )
            entry[3] += int(r.reopen_count > 0)
    return {k: tuple(v) for k, v in out.items()}


def stored_cells() -> dict:
    """report_stat_cells as stored, both levels (rows of zeros left out)."""
    return {
        (c.level, c.month.isoformat()[:7], c.area_code, c.category_code): (
            c.count,
            c.open,
            c.resolved,
            c.sla_met,
            c.sla_breached,
            c.reopened,
        )
        for c in db.session.scalars(select(ReportStatCell))
        if (c.count, c.open, c.resolved, c.sla_met, c.sla_breached, c.reopened) != (0,) * 6
    }


def expected_cells() -> dict:
    """The same recomputed in Python from the reports table: per month, kelurahan and category (level 2) and per
    month and kelurahan (level 3), over every agency and status."""
    out = defaultdict(lambda: [0] * 6)
    for r in db.session.scalars(select(Report)):
        month = r.created_at.astimezone(WIB).strftime("%Y-%m")
        kelurahan = r.kelurahan_code or ""
        for key in ((2, month, kelurahan, r.category_code), (3, month, kelurahan, "")):
            entry = out[key]
            entry[0] += 1
            entry[1] += int(r.status in wf.OPEN_STATUSES)
            entry[2] += int(r.status in wf.RESOLVED_STATUSES)
            entry[3] += int(r.resolved_at is not None and r.resolved_at <= r.sla_due_at)
            entry[4] += int(
                r.sla_breached_at is not None or (r.resolved_at is not None and r.resolved_at > r.sla_due_at)
            )
            entry[5] += int(r.reopen_count > 0)
    return {k: tuple(v) for k, v in out.items()}


def python_figures(rows: list[dict], ratings: dict[str, int] | None = None) -> dict:
    """Every figure of /stats/reports for a list of seeded rows, computed independently of jaki.stats."""
    ratings = ratings or {}

    def hours(row, field):
        return (row[field] - row["created_at"]).total_seconds() / 3600 if row.get(field) else None

    resolved = [r for r in rows if r["status"] in wf.RESOLVED_STATUSES]
    verify = sorted(h for r in rows if (h := hours(r, "verified_at")) is not None)
    dispatch = sorted(h for r in rows if (h := hours(r, "dispatched_at")) is not None)
    resolve = sorted(h for r in rows if (h := hours(r, "resolved_at")) is not None)
    scores = [ratings[r["id"]] for r in rows if r["id"] in ratings]

    def rounded(v):
        return None if v is None else round(float(v), 2)

    def percentile(values, p):  # numpy's default is PostgreSQL's percentile_cont (linear)
        return numpy.percentile(values, p * 100) if values else None

    return {
        "count": len(rows),
        "open": sum(1 for r in rows if r["status"] in wf.OPEN_STATUSES),
        "resolved": len(resolved),
        "within_sla": sum(1 for r in rows if r.get("resolved_at") and r["resolved_at"] <= r["sla_due_at"]),
        "sla_breached": sum(
            1 for r in rows if r.get("sla_breached_at") or (r.get("resolved_at") and r["resolved_at"] > r["sla_due_at"])
        ),
        "reopened": sum(1 for r in rows if r["reopen_count"] > 0),
        "median_hours_to_verify": rounded(percentile(verify, 0.5)),
        "median_hours_to_dispatch": rounded(percentile(dispatch, 0.5)),
        "median_hours_to_resolve": rounded(percentile(resolve, 0.5)),
        "p90_hours_to_resolve": rounded(percentile(resolve, 0.9)),
        "rating_avg": rounded(sum(scores) / len(scores)) if scores else None,
    }


def walk_one_report(filed: Report, agrees) -> None:
    """Take a filed report along the whole workflow (verify, dispatch, work with evidence, wait for validation,
    resolve, reopen), calling agrees() after each write the statistics must follow."""
    worker = kelurahan_officer()
    agency_worker = officer()
    transitions.transition(worker, filed.id, "verified", expected_version=filed.version)
    transitions.transition(agency_worker, filed.id, "dispatched", expected_version=filed.version)
    transitions.transition(agency_worker, filed.id, "in_progress", expected_version=filed.version)
    add_evidence_row(filed, by=agency_worker)
    # Issue 15: the officer's done waits for the kelurahan's validation before it is resolved (and counted so).
    transitions.transition(
        agency_worker, filed.id, "awaiting_validation", expected_version=filed.version, note="Sudah ditambal"
    )
    agrees()
    transitions.transition(worker, filed.id, "resolved", expected_version=filed.version)
    agrees()
    transitions.transition(filed.reporter, filed.id, "dispatched", expected_version=filed.version, reason="Belum")
    agrees()
