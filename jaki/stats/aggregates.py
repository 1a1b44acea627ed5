"""Exact report counts from the trigger-kept aggregate (report_stats): per grouping, and rebuilt by a recount.

Definitions (a report counts in the month it was filed, Jakarta time, with its status as it is now):
- count: reports filed; open / resolved: in jaki.reports.workflow's OPEN_STATUSES / RESOLVED_STATUSES;
- within_sla: resolved by the report's own deadline (sla_due_at, from its category's SLA);
- sla_breached: flagged past the deadline while open (the escalation job), or resolved after it;
- reopened: reopened by the reporter at least once.
Migration 0014's triggers compute the same per row; recount() here and the tests hold the two to one definition.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import case, delete, func, insert, literal, literal_column, or_, select, text

from jaki.extensions import db
from jaki.reports import workflow as wf
from jaki.reports.models import Report
from jaki.stats.models import ReportStat, ReportStatCell
from jaki.stats.query import AREA_GROUPS, KEY_SEPARATOR, Question, area_filter, group_expression, month_key

COUNTS = ("count", "open", "resolved", "within_sla", "sla_breached", "reopened")

# The levels migration 0014's triggers keep: (what area_code holds, whether category and agency are split).
CITY, KECAMATAN, KELURAHAN, KELURAHAN_ONLY, KOTA = 0, 1, 2, 3, 4
LEVELS = {
    CITY: ("", True),
    KECAMATAN: ("kecamatan", True),
    KELURAHAN: ("kelurahan", True),
    KELURAHAN_ONLY: ("kelurahan", False),
    KOTA: ("kota", True),
}


def level_for(question: Question) -> int:
    """The coarsest level that answers the question (fewest rows read)."""
    wants = set(question.group_by)
    by_kind = bool(wants & {"category", "agency"}) or bool(question.category or question.agency)
    kelurahan = "kelurahan" in wants or (question.area is not None and len(question.area) >= AREA_GROUPS["kelurahan"])
    if kelurahan:
        return KELURAHAN if by_kind else KELURAHAN_ONLY
    if "kecamatan" in wants or (question.area is not None and len(question.area) > AREA_GROUPS["kota"]):
        return KECAMATAN
    if "kota" in wants or question.area:
        return KOTA
    return CITY


# The levels migration 0014b's triggers keep in report_stat_cells, summed over agencies and statuses: whether
# category is split.
CELL_KELURAHAN_CATEGORY, CELL_KELURAHAN = 2, 3
CELL_LEVELS = {CELL_KELURAHAN_CATEGORY: True, CELL_KELURAHAN: False}


def cell_level_for(question: Question) -> int | None:
    """The report_stat_cells level that answers the question, where it reads fewer rows than report_stats' level:
    a question naming no agency and no status, about areas finer than the city (kota, kecamatan, kelurahan; with a
    category only below the kota, where report_stats splits every kelurahan by agency and status too)."""
    wants = set(question.group_by)
    if question.agency or wants & {"agency", "status"}:
        return None
    level = level_for(question)
    if "category" in wants or question.category:
        return CELL_KELURAHAN_CATEGORY if level in (KECAMATAN, KELURAHAN) else None
    return None if level == CITY else CELL_KELURAHAN


def _measures():
    s = ReportStat
    return (
        func.coalesce(func.sum(s.count), 0),
        func.coalesce(func.sum(case((s.status.in_(wf.OPEN_STATUSES), s.count), else_=0)), 0),
        func.coalesce(func.sum(case((s.status.in_(wf.RESOLVED_STATUSES), s.count), else_=0)), 0),
        func.coalesce(func.sum(s.sla_met), 0),
        func.coalesce(func.sum(s.sla_breached), 0),
        func.coalesce(func.sum(s.reopened), 0),
    )


def _groups(question: Question) -> list:
    s = ReportStat
    return [
        group_expression(
            g, kelurahan=s.area_code, category=s.category_code, agency=s.agency_code, status=s.status, month=s.month
        )
        for g in question.group_by
    ]


def _filtered(query, question: Question, level: int):
    s = ReportStat
    query = query.where(s.level == level, s.month >= question.since, s.month <= question.until)
    if question.category:
        query = query.where(s.category_code == question.category)
    if question.agency:
        query = query.where(s.agency_code == question.agency)
    if question.area:
        # The area itself at its own level (a kota's row at the kota level), or what lies under it at a finer one.
        query = query.where(or_(s.area_code == question.area, area_filter(s.area_code, question.area)))
    return query


def cell_query(question: Question, level: int):
    """The question's groups and counts from report_stat_cells at the level: plain sums, no status to classify."""
    c = ReportStatCell
    groups = [
        group_expression(g, kelurahan=c.area_code, category=c.category_code, agency=None, status=None, month=c.month)
        for g in question.group_by
    ]
    measures = (func.sum(c.count), func.sum(c.open), func.sum(c.resolved), func.sum(c.sla_met),
                func.sum(c.sla_breached), func.sum(c.reopened))  # fmt: skip
    query = select(*groups, *measures).where(c.level == level, c.month >= question.since, c.month <= question.until)
    if question.category:
        query = query.where(c.category_code == question.category)
    if question.area:
        query = query.where(area_filter(c.area_code, question.area))  # area_code is always a kelurahan's
    return query.group_by(*groups)


def _text(value) -> str:
    return "" if value is None else str(value)


def _grouped(question: Question, query) -> dict[str, tuple[int, ...]]:
    """Group key -> its counts in COUNTS' order, from a query selecting the groups then the counts. A kelurahan x
    category answer is thousands of rows: each key is made by one call per part, the counts are the row's tail."""
    n = len(question.group_by)  # one or two (query.MAX_GROUPS)
    first, *second = (month_key if g == "month" else _text for g in question.group_by)
    rows: dict[str, tuple[int, ...]] = {}
    for row in db.session.execute(query):
        if not row[n]:  # a group whose reports all moved elsewhere keeps rows of zeros
            continue
        key = first(row[0]) if n == 1 else f"{first(row[0])}{KEY_SEPARATOR}{second[0](row[1])}"
        rows[key] = tuple(row[n:])
    return rows


def counts_from_report_stats(question: Question) -> dict[str, tuple[int, ...]]:
    """Group key -> counts from report_stats at the question's level, whatever report_stat_cells could answer."""
    groups = _groups(question)
    return _grouped(question, _filtered(select(*groups, *_measures()), question, level_for(question)).group_by(*groups))


def counts(question: Question) -> tuple[dict[str, tuple[int, ...]], dict]:
    """(group key -> its counts in COUNTS' order, the total's counts by name) for the question, from
    report_stat_cells where a level of it answers (cell_level_for), else from report_stats; the total from
    report_stats' coarsest level."""
    rows: dict[str, tuple[int, ...]] = {}
    if question.group_by:
        cell_level = cell_level_for(question)
        if cell_level is None:
            rows = counts_from_report_stats(question)
        else:
            rows = _grouped(question, cell_query(question, cell_level))
    return rows, total(question)


def total(question: Question) -> dict:
    """The question's total counts by name, from the coarsest level its filters allow (the city's, a thousand rows
    a year, unless an area narrows it): every level adds up to the same."""
    total_level = level_for(replace(question, group_by=()))
    summed = db.session.execute(_filtered(select(*_measures()), question, total_level)).one()
    return dict(zip(COUNTS, (int(v) for v in summed), strict=True))


# ---- rebuilding -----------------------------------------------------------------------------------------


def month_of_created(dialect: str):
    """The WIB month of reports.created_at, as migration 0014's triggers compute it."""
    if dialect == "postgresql":
        return literal_column("date_trunc('month', (reports.created_at AT TIME ZONE 'UTC') + interval '7 hours')::date")
    return func.strftime("%Y-%m-01", Report.created_at, "+7 hours")


def row_measures():
    """Per report: (met, breached, reopened), the definitions the triggers apply."""
    r = Report
    met = case((r.resolved_at.is_not(None) & (r.resolved_at <= r.sla_due_at), 1), else_=0)
    breached = case((r.sla_breached_at.is_not(None) | (r.resolved_at > r.sla_due_at), 1), else_=0)
    reopened = case((r.reopen_count > 0, 1), else_=0)
    return met, breached, reopened


def recount() -> int:
    """Rebuild report_stats and report_stat_cells from the reports table (repair after triggers were bypassed);
    returns the rows written to both."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        db.session.execute(text("LOCK TABLE reports IN SHARE MODE"))  # writers wait; readers carry on
    db.session.execute(delete(ReportStat))
    month = month_of_created(dialect)
    kelurahan = func.coalesce(Report.kelurahan_code, literal(""))
    met, breached, reopened = row_measures()
    for level, (area, by_kind) in LEVELS.items():
        area_code = {
            "": literal(""),
            "kota": func.substr(kelurahan, 1, 5),
            "kecamatan": func.substr(kelurahan, 1, 8),
            "kelurahan": kelurahan,
        }[area]
        category = Report.category_code if by_kind else literal("")
        agency = Report.agency_code if by_kind else literal("")
        keys = (literal(level), month, area_code, category, agency, Report.status)
        grouped = (
            [month, Report.status]
            + ([area_code] if area else [])
            + ([Report.category_code, Report.agency_code] if by_kind else [])
        )
        counted = select(*keys, func.count(), func.sum(met), func.sum(breached), func.sum(reopened)).group_by(*grouped)
        db.session.execute(
            insert(ReportStat).from_select(
                ["level", "month", "area_code", "category_code", "agency_code", "status", "count", "sla_met",
                 "sla_breached", "reopened"],
                counted,
            )
        )  # fmt: skip
    db.session.execute(delete(ReportStatCell))
    opened = case((Report.status.in_(wf.OPEN_STATUSES), 1), else_=0)
    resolved = case((Report.status.in_(wf.RESOLVED_STATUSES), 1), else_=0)
    for level, by_category in CELL_LEVELS.items():
        category = Report.category_code if by_category else literal("")
        keys = (literal(level), month, kelurahan, category)
        grouped = [month, kelurahan] + ([Report.category_code] if by_category else [])
        counted = select(
            *keys, func.count(), *(func.sum(m) for m in (opened, resolved, met, breached, reopened))
        ).group_by(*grouped)
        db.session.execute(
            insert(ReportStatCell).from_select(
                ["level", "month", "area_code", "category_code", "count", "open", "resolved", "sla_met",
                 "sla_breached", "reopened"],
                counted,
            )
        )  # fmt: skip
    written = db.session.scalar(select(func.count()).select_from(ReportStat))
    written += db.session.scalar(select(func.count()).select_from(ReportStatCell))
    db.session.commit()
    return written
