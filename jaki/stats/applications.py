"""Permits and letters per type: applications, decisions within their service-level deadline, median working days.

An application counts in the WIB month it was submitted. Decided means issued or rejected (a withdrawal decides
nothing); within SLA means decided by sla_due_at, which already moved for the pauses while the applicant owed a
revision. The office's working days run from submission to decision, Jakarta's working calendar (weekends, national
holidays, cuti bersama and the admins' dated days skipped), less the working days a revision pause took.
"""

from __future__ import annotations

import statistics
from bisect import bisect_right
from datetime import date, timedelta

from sqlalchemy import or_, select

from jaki.extensions import db
from jaki.services.permits.models import Application, ApplicationEvent, ApplicationType
from jaki.services.permits.sla import calendar_overrides, is_working_day, working_days_paused
from jaki.stats.query import Question, month_start_utc
from jaki.timezone import WIB

DECIDED = ("issued", "rejected")
_PAUSED = "revision_requested"
_CHUNK = 500


class WorkingDays:
    """Working days between two dates in O(log n): a sorted list of the working days of the span."""

    def __init__(self, first: date, last: date, overrides: dict):
        days, day = [], first
        while day <= last:
            if is_working_day(day, overrides):
                days.append(day)
            day += timedelta(days=1)
        self._days = days

    def between(self, start: date, end: date) -> int:
        """Working days d with start < d <= end (the submission day itself is not counted, as deadlines count)."""
        return max(0, bisect_right(self._days, end) - bisect_right(self._days, start))


def _pauses(ids: list[str]) -> dict[str, list]:
    """Each application's revision pauses: (paused_at, resumed_at) from its timeline."""
    out: dict[str, list] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        events = db.session.execute(
            select(ApplicationEvent.application_id, ApplicationEvent.at, ApplicationEvent.from_status,
                   ApplicationEvent.to_status)
            .where(
                ApplicationEvent.application_id.in_(chunk),
                or_(ApplicationEvent.to_status == _PAUSED, ApplicationEvent.from_status == _PAUSED),
            )
            .order_by(ApplicationEvent.application_id, ApplicationEvent.id)
        )  # fmt: skip
        opened: dict[str, object] = {}
        for application_id, at, from_status, to_status in events:
            if to_status == _PAUSED:
                opened[application_id] = at
            elif from_status == _PAUSED and application_id in opened:
                out.setdefault(application_id, []).append((opened.pop(application_id), at))
    return out


def per_type(question: Question, *, kind: str | None = None, agency: str | None = None) -> dict:
    """Rows per application type (every active type of the scope, also those without applications) and totals."""
    types_query = select(ApplicationType).order_by(ApplicationType.kind, ApplicationType.code)
    if kind:
        types_query = types_query.where(ApplicationType.kind == kind)
    if agency:
        types_query = types_query.where(ApplicationType.agency_code == agency)
    types = list(db.session.scalars(types_query))
    start, end = month_start_utc(question.since), month_start_utc(question.end)
    apps = db.session.execute(
        select(Application.id, Application.type_code, Application.status, Application.submitted_at,
               Application.decided_at, Application.sla_due_at)
        .where(
            Application.type_code.in_([t.code for t in types]),
            Application.submitted_at >= start,
            Application.submitted_at < end,
        )
    ).all()  # fmt: skip
    decided = [a for a in apps if a.status in DECIDED and a.decided_at is not None]
    pauses = _pauses([a.id for a in decided])
    days, overrides = None, {}
    if decided:
        first = min(a.submitted_at for a in decided).astimezone(WIB).date()
        last = max(a.decided_at for a in decided).astimezone(WIB).date()
        overrides = calendar_overrides(db.session, first)
        days = WorkingDays(first, last, overrides)
    taken: dict[str, list[int]] = {}
    for a in decided:
        elapsed = days.between(a.submitted_at.astimezone(WIB).date(), a.decided_at.astimezone(WIB).date())
        paused = sum(working_days_paused(p, r, overrides) for p, r in pauses.get(a.id, []))
        taken.setdefault(a.type_code, []).append(max(0, elapsed - paused))

    rows = []
    for t in types:
        mine = [a for a in apps if a.type_code == t.code]
        done = [a for a in mine if a.status in DECIDED and a.decided_at is not None]
        on_time = sum(1 for a in done if a.sla_due_at is not None and a.decided_at <= a.sla_due_at)
        days_taken = taken.get(t.code, [])
        rows.append(
            {
                "type_code": t.code,
                "name": t.name,
                "kind": t.kind,
                "agency_code": t.agency_code,
                "sla_days": t.sla_days,
                "applications": len(mine),
                "decided": len(done),
                "decided_within_sla": on_time,
                "within_sla_share": round(on_time / len(done), 4) if done else None,
                "median_working_days": statistics.median(days_taken) if days_taken else None,
                "pending": sum(1 for a in mine if a.status not in (*DECIDED, "withdrawn")),
                "withdrawn": sum(1 for a in mine if a.status == "withdrawn"),
            }
        )
    all_days = [d for values in taken.values() for d in values]
    total_decided = sum(r["decided"] for r in rows)
    total_on_time = sum(r["decided_within_sla"] for r in rows)
    total = {
        "applications": sum(r["applications"] for r in rows),
        "decided": total_decided,
        "decided_within_sla": total_on_time,
        "within_sla_share": round(total_on_time / total_decided, 4) if total_decided else None,
        "median_working_days": statistics.median(all_days) if all_days else None,
        "pending": sum(r["pending"] for r in rows),
        "withdrawn": sum(r["withdrawn"] for r in rows),
    }
    return {"rows": rows, "total": total}
