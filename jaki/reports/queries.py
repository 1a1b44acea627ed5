"""Reading reports: the public feed, map viewport and nearby rings, duplicates, the staff queue, one's own."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, union_all
from sqlalchemy.orm import lazyload, selectinload

from jaki.api import Keyset, Page
from jaki.auth.models import User
from jaki.errors import Forbidden, NotFound, field_error
from jaki.extensions import db
from jaki.geo.cells import ranges_for_bbox, ranges_for_radius
from jaki.geo.spatial import M_PER_DEG, haversine_m
from jaki.reports import workflow as wf
from jaki.reports.checks import check_location
from jaki.reports.models import (
    Category,
    ExternalDelivery,
    Report,
    ReportComment,
    ReportHistory,
    ReportRating,
    ReportSupport,
)
from jaki.reports.scope import area_condition, check_visible, load_report, staff_scope
from jaki.reports.search import queue_conditions
from jaki.settings import setting

_SCAN_CAP = 2000  # rows a spatial scan reads at most before exact filtering


# Cell ranges a map or nearby query covers its area with. Each is one UNION ALL branch, planned and built apart;
# 8 read about 1.5x the area asked for and answered fastest at 10k to 1M reports (bench/scenario_reports.py).
_MAP_RANGES = 8


_NEARBY_FIRST_RING_M = 100.0  # nearby searches rings of 100 m, 400 m, 1.6 km, ... up to the radius asked


# The lists' sort keys (jaki.api.Keyset): the feed newest first, comments in order, the queue by urgency.
FEED_ORDER = Keyset((Report.created_at, Report.id), ("datetime", "str"), descending=True)


COMMENT_ORDER = Keyset((ReportComment.id,), ("int",))


QUEUE_ORDER = Keyset((Report.sla_due_at, Report.id), ("datetime", "str"))


def _cells(ranges: list[tuple[int, int]]):
    """OR of BETWEENs on the indexed cell column: a B-tree range scan per range on SQLite and PostgreSQL."""
    return or_(*[Report.cell.between(lo, hi) for lo, hi in ranges])


def _in_cells(ranges: list[tuple[int, int]]):
    """The map columns of reports in the cell ranges, one index-only range scan of ix_reports_cell per range.

    That index covers these columns, so filtering thousands of candidates by their exact position never visits
    the table (whose rows lie in filing order, one page each); only the rows finally shown are read. UNION ALL
    rather than OR: PostgreSQL answers an OR of ranges with a bitmap scan, which always reads the table.
    MATERIALIZED on SQLite only: pushed down into the branches, the caller's status filter makes SQLite without
    ANALYZE statistics prefer the status index (every public report read); PostgreSQL inlines the CTE and
    filters inside the index scans.
    """
    columns = (Report.id, Report.latitude, Report.longitude, Report.status, Report.category_code, Report.created_at)
    branches = [select(*columns).where(Report.cell.between(lo, hi)) for lo, hi in ranges]
    return union_all(*branches).cte("cells").prefix_with("MATERIALIZED", dialect="sqlite")


def _statuses(statuses: Sequence[str] | None, allowed: Sequence[str]) -> list[str]:
    if not statuses:
        return list(allowed)
    unknown = [s for s in statuses if s not in allowed]
    if unknown:
        raise field_error("status", "validation_error")
    return list(statuses)


def list_reports(
    *,
    categories: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
    area: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    ids: Sequence[str] | None = None,
    reporter_id: str | None = None,
    public: bool = True,
    limit: int = 20,
    cursor: str | None = None,
    offset: int = 0,
) -> Page:
    """Reports newest first, by filters, in keyset pages (cursor = the last item's created_at and id).

    public=True keeps to what anyone may see (no rejected reports); reporter_id lists one person's own reports.
    `offset` (instead of a cursor) starts at that row, for clients that page by number (Open311's page=N).
    """
    query = select(Report)
    query = query.where(Report.status.in_(_statuses(statuses, wf.PUBLIC_STATUSES if public else wf.STATUSES)))
    if categories:
        query = query.where(Report.category_code.in_(list(categories)))
    if area:
        query = query.where(area_condition(area))
    if since is not None:
        query = query.where(Report.created_at >= since)
    if until is not None:
        query = query.where(Report.created_at < until)
    if ids is not None:
        query = query.where(Report.id.in_(list(ids)))
    if reporter_id is not None:
        query = query.where(Report.reporter_id == reporter_id)
    if offset:
        if cursor is not None:
            raise ValueError("list_reports takes a cursor or an offset, not both")
        # The keyset cursor of the row just before: (created_at, id) read from the index alone, then one keyset page.
        before = db.session.execute(
            query.with_only_columns(Report.created_at, Report.id)
            .order_by(*FEED_ORDER.order_by())
            .offset(offset - 1)
            .limit(1)
        ).first()
        if before is None:
            return Page([], None)
        cursor = FEED_ORDER.encode([before.created_at, before.id])
    return FEED_ORDER.page(query.options(_with_reporter_names()), limit=limit, cursor=cursor)


def _with_reporter_names():
    """Lists show the reporter's first name only (schemas._reporter_name): their names in one query, without the
    rest of the account (ciphertexts, hash) or the staff areas a citizen has none of."""
    return selectinload(Report.reporter).load_only(User.full_name).options(lazyload(User.areas))


def get_public_report(report_id: str, viewer: User | None = None) -> Report:
    report = load_report(report_id)
    check_visible(report, viewer)
    return report


def public_comments(report_id: str, *, limit: int = 50, cursor: str | None = None, viewer: User | None = None) -> Page:
    report = get_public_report(report_id, viewer)
    query = select(ReportComment).where(ReportComment.report_id == report.id, ReportComment.internal.is_(False))
    return COMMENT_ORDER.page(query, limit=limit, cursor=cursor)


def duplicates_query(category: Category, latitude: float, longitude: float):
    """Open reports of the category whose cell may lie within its radius (index: category_code + cell)."""
    ranges = ranges_for_radius(latitude, longitude, category.duplicate_radius_m)
    return (
        select(Report)
        .where(Report.category_code == category.code, _cells(ranges), Report.status.in_(wf.OPEN_STATUSES))
        .limit(_SCAN_CAP)
    )


def find_duplicates(
    category: Category, latitude: float, longitude: float, *, exclude_id: str | None = None
) -> list[tuple[Report, float]]:
    """Open reports of the same category within the category's radius, nearest first."""
    radius = category.duplicate_radius_m
    if radius <= 0:
        return []
    found = []
    for report in db.session.scalars(duplicates_query(category, latitude, longitude)):
        if report.id == exclude_id:
            continue
        distance = haversine_m(latitude, longitude, report.latitude, report.longitude)
        if distance <= radius:
            found.append((report, distance))
    found.sort(key=lambda pair: (pair[1], pair[0].id))
    return found[: setting("REPORTS_DUPLICATE_CANDIDATES")]


def check_bbox(min_lat: float, min_lon: float, max_lat: float, max_lon: float) -> None:
    values = (min_lat, min_lon, max_lat, max_lon)
    if (
        not all(math.isfinite(v) for v in values)
        or min_lat > max_lat
        or min_lon > max_lon
        or not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90)
        or not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180)
    ):
        raise field_error("bbox", "bbox_invalid")


def _in_order(ids: Sequence[str]) -> list[Report]:
    """The reports with these ids, in this order (one primary-key lookup each; a report gone since is skipped)."""
    if not ids:
        return []
    found = {
        r.id: r
        for r in db.session.scalars(select(Report).where(Report.id.in_(list(ids))).options(_with_reporter_names()))
    }
    return [found[i] for i in ids if i in found]


def map_statuses(statuses: Sequence[str] | None) -> list[str]:
    """The statuses a map shows: those asked for (public ones only), else every public one but duplicates."""
    if statuses:
        return _statuses(statuses, wf.PUBLIC_STATUSES)
    return [s for s in wf.PUBLIC_STATUSES if s != wf.DUPLICATE]


def bbox_query(
    min_lat: float,
    min_lon: float,
    max_lat: float,
    max_lon: float,
    *,
    limit: int,
    categories: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
):
    """Ids of the newest `limit` reports in a box: cell ranges (covering index) narrowed by the exact coordinates.

    Only ids: the rows are then read by primary key, so neither planner can trade the cell ranges for a worse
    plan of the whole (SQLite walking the created_at index backwards to satisfy ORDER BY ... LIMIT, which reads
    every report for a small viewport; PostgreSQL hash-joining a table read whole).
    """
    cells = _in_cells(ranges_for_bbox(min_lat, min_lon, max_lat, max_lon, max_ranges=_MAP_RANGES))
    query = select(cells.c.id).where(
        cells.c.latitude.between(min_lat, max_lat),
        cells.c.longitude.between(min_lon, max_lon),
        cells.c.status.in_(map_statuses(statuses)),
    )
    if categories:
        query = query.where(cells.c.category_code.in_(list(categories)))
    return query.order_by(cells.c.created_at.desc(), cells.c.id.desc()).limit(limit)


def reports_in_bbox(
    min_lat: float,
    min_lon: float,
    max_lat: float,
    max_lon: float,
    *,
    categories: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
    limit: int | None = None,
) -> tuple[list[Report], bool]:
    """Reports in a map viewport, newest first, at most `limit` (bounded); True when more were left out."""
    check_bbox(min_lat, min_lon, max_lat, max_lon)
    cap = setting("REPORTS_MAP_MAX_PINS")
    limit = min(limit or cap, cap)
    ids = list(
        db.session.scalars(
            bbox_query(min_lat, min_lon, max_lat, max_lon, limit=limit + 1, categories=categories, statuses=statuses)
        )
    )
    return _in_order(ids[:limit]), len(ids) > limit


def _approx_distance2(lat: float, lon: float, latitude=Report.latitude, longitude=Report.longitude):
    """Squared equirectangular distance in m^2 as SQL: within a few km it orders like the great circle does."""
    kx = M_PER_DEG * math.cos(math.radians(lat))
    dy = (latitude - lat) * M_PER_DEG
    dx = (longitude - lon) * kx
    return dy * dy + dx * dx


def nearby_query(
    lat: float,
    lon: float,
    radius_m: float,
    *,
    limit: int,
    categories: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
):
    """(id, latitude, longitude) of the `limit` reports nearest by approximate distance among those whose cell
    may lie within radius_m, straight from the covering index (the rows shown are read afterwards by primary key,
    as for the viewport)."""
    cells = _in_cells(ranges_for_radius(lat, lon, radius_m, max_ranges=_MAP_RANGES))
    distance2 = _approx_distance2(lat, lon, cells.c.latitude, cells.c.longitude)
    slack = (radius_m * 1.01 + 1) ** 2
    query = select(cells.c.id, cells.c.latitude, cells.c.longitude).where(
        distance2 <= slack, cells.c.status.in_(_statuses(statuses, wf.PUBLIC_STATUSES))
    )
    if categories:
        query = query.where(cells.c.category_code.in_(list(categories)))
    return query.order_by(distance2, cells.c.id).limit(limit)


def nearby(
    lat: float,
    lon: float,
    radius_m: float,
    *,
    categories: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
    limit: int = 20,
) -> list[tuple[Report, float]]:
    """Public reports within radius_m of a point, nearest first, with their distance in metres."""
    check_location(lat, lon)
    radius_m = min(max(radius_m, 1.0), setting("REPORTS_NEARBY_MAX_RADIUS_M"))
    # Rings growing 4x: the nearest `limit` within a small circle are the nearest of all, so a dense area is
    # answered from a few hundred index entries instead of every report within the radius; a sparse one takes
    # a few more small queries. A margin over `limit`: the exact great-circle order may swap near-ties of the
    # SQL approximation. The exact distances come from the index's coordinates, so only the `limit` rows shown
    # are read from the table.
    ring = min(radius_m, _NEARBY_FIRST_RING_M)
    while True:
        query = nearby_query(lat, lon, ring, limit=limit * 2 + 10, categories=categories, statuses=statuses)
        found = sorted(
            (d, report_id)
            for report_id, r_lat, r_lon in db.session.execute(query)
            if (d := haversine_m(lat, lon, r_lat, r_lon)) <= ring
        )
        if len(found) >= limit or ring >= radius_m:
            break
        ring = min(radius_m, ring * 4)
    found = found[:limit]
    distance = {report_id: d for d, report_id in found}
    return [(report, distance[report.id]) for report in _in_order([report_id for _, report_id in found])]


def officer_queue(
    user: User,
    *,
    statuses: Sequence[str] | None = None,
    mine: bool = False,
    unrouted: bool = False,
    categories: Sequence[str] | None = None,
    limit: int = 20,
    cursor: str | None = None,
    **filters,
) -> Page:
    """Open reports the staff member answers for, most urgent (earliest SLA due) first, in keyset pages; `filters`
    (overdue, sla_breached, area, agency, q) narrow it (jaki.reports.search.queue_conditions)."""
    if not user.is_staff:
        raise Forbidden()
    if unrouted and user.role != "admin":
        raise Forbidden()
    query = select(Report).where(Report.status.in_(_statuses(statuses, wf.STATUSES) if statuses else wf.OPEN_STATUSES))
    scope = staff_scope(user)
    if scope is not None:
        query = query.where(scope)
    if mine:
        query = query.where(Report.assigned_officer_id == user.id)
    if unrouted:
        query = query.where(Report.kelurahan_code.is_(None))
    if categories:
        query = query.where(Report.category_code.in_(list(categories)))
    for condition in queue_conditions(**filters):
        query = query.where(condition)
    return QUEUE_ORDER.page(query, limit=limit, cursor=cursor)


def history(report_id: str) -> list[ReportHistory]:
    return list(
        db.session.scalars(select(ReportHistory).where(ReportHistory.report_id == report_id).order_by(ReportHistory.id))
    )


def comments_for_staff(report_id: str) -> list[ReportComment]:
    return list(
        db.session.scalars(select(ReportComment).where(ReportComment.report_id == report_id).order_by(ReportComment.id))
    )


def my_reports(
    user: User, *, statuses: Sequence[str] | None = None, limit: int = 20, cursor: str | None = None
) -> Page:
    return list_reports(statuses=statuses, reporter_id=user.id, public=False, limit=limit, cursor=cursor)


def my_report(user: User, report_id: str) -> Report:
    report = load_report(report_id)
    if report.reporter_id != user.id:
        raise NotFound()
    return report


def supported_by(report_id: str, user: User | None) -> bool:
    if user is None:
        return False
    return db.session.get(ReportSupport, (report_id, user.id)) is not None


def current_rating(report: Report) -> ReportRating | None:
    """The rating of the report's current resolution round (a reopened report is rated again)."""
    return next((r for r in report.ratings if r.round == report.reopen_count), None)


def merged_original(report: Report) -> Report:
    """The report a duplicate was merged into, following merges of merges (a few at most)."""
    current = report
    for _hop in range(5):
        if not current.duplicate_of_id:
            break
        current = db.session.get(Report, current.duplicate_of_id)
    return current


def deliveries(report_id: str) -> list[ExternalDelivery]:
    return list(
        db.session.scalars(
            select(ExternalDelivery)
            .where(ExternalDelivery.report_id == report_id)
            .order_by(ExternalDelivery.created_at)
        )
    )
