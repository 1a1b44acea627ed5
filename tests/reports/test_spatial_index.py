"""Viewport, nearby and duplicate queries use the B-tree index on the Morton cell, on SQLite and PostgreSQL alike.

The plans explained are those of the exact SQL the operations run (captured from the cursor), over a few
thousand reports with fresh statistics, so the planner chooses as it would in production.
"""

import json
import random
from datetime import timedelta

import pytest
from sqlalchemy import event, text

from jaki.db import utcnow
from jaki.extensions import db
from jaki.reports import queries as report_queries
from jaki.reports.models import Category, Report
from tests.reports.factories import POINTS, category, report_row

ROWS = 4000
SPATIAL_INDEXES = {"ix_reports_cell", "ix_reports_category_code_cell"}


@pytest.fixture
def many_reports(ctx):
    category("jalan_rusak")
    rng = random.Random(31)
    now = utcnow()
    codes = ["jalan_rusak", "sampah", "banjir", "pohon_tumbang", "parkir_liar"]
    statuses = ["submitted", "verified", "dispatched", "in_progress", "resolved", "closed"]
    rows = []
    for n in range(ROWS):
        lat, lon = rng.uniform(-6.36, -6.10), rng.uniform(106.69, 106.97)
        rows.append(
            report_row(
                lat,
                lon,
                category_code=codes[n % len(codes)],
                status=statuses[n % len(statuses)],
                sla_due_at=now + timedelta(hours=n % 50),
                created_at=now - timedelta(minutes=n),
                updated_at=now,
            )
        )
    db.session.execute(Report.__table__.insert(), rows)
    db.session.execute(text("ANALYZE"))
    return rows


def _capture(run):
    """(statement, parameters) of the first SELECT on reports that run() executes."""
    seen = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if "FROM reports" in statement and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert seen, "the operation ran no query on reports"
    return seen[0]


def _plan(statement, parameters) -> tuple[set[str], list[str]]:
    """(indexes used on reports, full scans of reports) according to the database's planner."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        details = [row[-1] for row in rows]
        used = {name for d in details if " reports " in f" {d} " for name in SPATIAL_INDEXES if f"INDEX {name} " in d}
        scans = [d for d in details if d.startswith("SCAN reports")]
        return used, scans
    raw = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()
    plan = raw if isinstance(raw, list) else json.loads(raw)
    used, scans = set(), []

    def walk(node):
        if node.get("Relation Name") == "reports" and node["Node Type"] == "Seq Scan":
            scans.append(node["Node Type"])
        if node.get("Index Name") in SPATIAL_INDEXES:
            used.add(node["Index Name"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return used, scans


def test_viewport_query_uses_the_cell_index(many_reports):
    lat, lon = POINTS["pondok_pinang"]
    statement, parameters = _capture(
        lambda: report_queries.reports_in_bbox(lat - 0.01, lon - 0.01, lat + 0.01, lon + 0.01)
    )
    used, scans = _plan(statement, parameters)
    assert used & SPATIAL_INDEXES and not scans, (used, scans)


def test_nearby_query_uses_the_cell_index(many_reports):
    lat, lon = POINTS["pondok_pinang"]
    statement, parameters = _capture(lambda: report_queries.nearby(lat, lon, 800))
    used, scans = _plan(statement, parameters)
    assert used & SPATIAL_INDEXES and not scans, (used, scans)


def test_duplicate_query_uses_the_category_cell_index(many_reports):
    lat, lon = POINTS["pondok_pinang"]
    road = db.session.get(Category, "jalan_rusak")
    statement, parameters = _capture(lambda: report_queries.find_duplicates(road, lat, lon))
    used, scans = _plan(statement, parameters)
    assert used & SPATIAL_INDEXES and not scans, (used, scans)


def test_index_answers_match_a_brute_force_scan(many_reports):
    from jaki.geo.spatial import haversine_m

    lat, lon = POINTS["pondok_pinang"]
    box = (lat - 0.02, lon - 0.03, lat + 0.02, lon + 0.03)
    public = {"submitted", "verified", "dispatched", "in_progress", "resolved", "closed"}
    expected = {
        r["id"]
        for r in many_reports
        if box[0] <= r["latitude"] <= box[2] and box[1] <= r["longitude"] <= box[3] and r["status"] in public
    }
    found, truncated = report_queries.reports_in_bbox(*box)
    assert {r.id for r in found} == expected and not truncated and expected
    near = {r["id"]: haversine_m(lat, lon, r["latitude"], r["longitude"]) for r in many_reports}
    within = sorted((d, i) for i, d in near.items() if d <= 1500)
    got = report_queries.nearby(lat, lon, 1500, limit=100)
    assert [r.id for r, _d in got] == [i for _d, i in within][:100] and within


def test_nearby_rings_match_a_brute_force_scan_where_reports_are_dense(ctx):
    """Dense: the first 100 m ring already holds the nearest (one query); sparse edges widen the ring. Either
    way the answer is the brute-force one."""
    from jaki.geo.spatial import haversine_m

    category("jalan_rusak")
    rng = random.Random(7)
    lat0, lon0 = POINTS["pondok_pinang"]
    rows = []
    for n in range(800):
        spread = 0.003 if n < 700 else 0.02  # 700 within about 330 m, 100 scattered over about 2 km
        rows.append(report_row(lat0 + rng.uniform(-spread, spread), lon0 + rng.uniform(-spread, spread)))
    db.session.execute(Report.__table__.insert(), rows)
    queries = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("WITH"):
            queries.append(statement)

    for n in range(12):
        lat, lon = lat0 + rng.uniform(-0.015, 0.015), lon0 + rng.uniform(-0.015, 0.015)
        limit, radius = (1, 5, 20, 50)[n % 4], (300, 1000, 2500)[n % 3]
        within = sorted(
            (d, r["id"]) for r in rows if (d := haversine_m(lat, lon, r["latitude"], r["longitude"])) <= radius
        )
        got = report_queries.nearby(lat, lon, radius, limit=limit)
        assert [r.id for r, _d in got] == [i for _d, i in within][:limit], (lat, lon, limit, radius)
    queries.clear()
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        got = report_queries.nearby(lat0, lon0, 1000, limit=20)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(got) == 20 and all(d <= 100 for _r, d in got) and len(queries) == 1
