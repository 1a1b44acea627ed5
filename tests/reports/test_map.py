"""The map's per-tile counts (kept by triggers for every writer) and the clusters a dense viewport gets."""

from collections import Counter, defaultdict

import pytest
from sqlalchemy import delete, event, select

from jaki.extensions import db
from jaki.geo.cells import cell_of, cell_rect
from jaki.reports import map as report_map
from jaki.reports import transitions
from jaki.reports.models import Report, ReportMapTile
from tests.factories import auth_header, make_user
from tests.reports.factories import POINTS, category, kelurahan_officer, make_report, officer, report_row

BBOX = "106.76,-6.28,106.79,-6.26"  # around Pondok Pinang


def _stored_tiles() -> dict:
    rows = db.session.execute(select(ReportMapTile)).scalars()
    return {
        (t.level, t.tile, t.category_code, t.status): (t.count, round(t.sum_latitude, 6), round(t.sum_longitude, 6))
        for t in rows
        if t.count != 0
    }


def _expected_tiles() -> dict:
    """The tile counts recomputed in Python from the reports table as it stands."""
    sums = defaultdict(lambda: [0, 0.0, 0.0])
    for cell, code, status, lat, lon in db.session.execute(
        select(Report.cell, Report.category_code, Report.status, Report.latitude, Report.longitude)
    ):
        for level in report_map.LEVELS:
            entry = sums[(level, cell >> (2 * level), code, status)]
            entry[0] += 1
            entry[1] += lat
            entry[2] += lon
    return {key: (n, round(lat, 6), round(lon, 6)) for key, (n, lat, lon) in sums.items()}


def _bulk_rows(count: int, *, lat0: float, lon0: float, code: str = "jalan_rusak", status: str = "submitted"):
    return [
        report_row(lat0 + (n % 7) * 0.0004, lon0 + (n // 7) * 0.0004, category_code=code, status=status)
        for n in range(count)
    ]


def test_triggers_keep_tile_counts_exact_for_every_kind_of_write(ctx):
    worker = kelurahan_officer()
    filed = make_report()  # the ORM, through operations.create_report
    transitions.transition(worker, filed.id, "verified", expected_version=filed.version)
    moved = make_report(at="monas", category_code="sampah", status="in_progress")  # ORM status change
    category("banjir")
    bulk = _bulk_rows(30, lat0=-6.2700, lon0=106.7760, code="banjir")
    db.session.execute(Report.__table__.insert(), bulk)  # Core bulk insert, as an import would
    assert _stored_tiles() == _expected_tiles()

    # Raw SQL behind the ORM's back: a new position (another tile), a status, a category, a delete.
    lat, lon = POINTS["monas"][0] + 0.05, POINTS["monas"][1] + 0.05
    db.session.execute(
        Report.__table__.update()
        .where(Report.id == moved.id)
        .values(latitude=lat, longitude=lon, cell=cell_of(lat, lon))
    )
    db.session.execute(
        Report.__table__.update().where(Report.id.in_([r["id"] for r in bulk[:10]])).values(status="closed")
    )
    db.session.execute(Report.__table__.update().where(Report.id == bulk[10]["id"]).values(category_code="sampah"))
    db.session.execute(Report.__table__.delete().where(Report.id.in_([r["id"] for r in bulk[20:]])))
    # An update that touches none of the watched columns changes no count.
    db.session.execute(Report.__table__.update().where(Report.id == bulk[11]["id"]).values(support_count=3))
    assert _stored_tiles() == _expected_tiles()


def test_recount_rebuilds_the_tiles_from_the_reports(ctx):
    category("banjir")
    db.session.execute(Report.__table__.insert(), _bulk_rows(12, lat0=-6.2700, lon0=106.7760, code="banjir"))
    expected = _expected_tiles()
    db.session.execute(delete(ReportMapTile))  # as if the triggers had been bypassed
    assert _stored_tiles() == {}
    assert report_map.recount() == len(expected)
    assert _stored_tiles() == expected


def test_choose_level_keeps_the_clusters_in_view_few():
    lat, lon = POINTS["pondok_pinang"]
    street = cell_rect(lat - 0.007, lon - 0.007, lat + 0.007, lon + 0.007)  # about 1.5 km a side
    district = cell_rect(lat - 0.05, lon - 0.05, lat + 0.05, lon + 0.05)  # about 11 km a side
    city = cell_rect(-6.40, 106.65, -6.05, 107.00)
    assert report_map.choose_level(street) == 4
    assert report_map.choose_level(district) == 6
    assert report_map.choose_level(city) == 8


def test_a_dense_viewport_gets_clusters_with_exact_counts(client, ctx, app, monkeypatch):
    category("banjir")
    rows = _bulk_rows(40, lat0=-6.2750, lon0=106.7650)
    rows += _bulk_rows(9, lat0=-6.2650, lon0=106.7850, code="banjir")
    rows += _bulk_rows(5, lat0=-6.2700, lon0=106.7700, status="duplicate")  # never on the map by default
    rows += _bulk_rows(4, lat0=-6.2700, lon0=106.7710, status="rejected")  # never public
    db.session.execute(Report.__table__.insert(), rows)
    monkeypatch.setitem(app.config, "REPORTS_MAP_MAX_PINS", 20)

    body = client.get(f"/api/v1/reports/map?bbox={BBOX}").json
    assert body["clustered"] is True and body["total"] == 49
    level = report_map.choose_level(cell_rect(-6.28, 106.76, -6.26, 106.79))
    shown = [r for r in rows if r["status"] == "submitted"]
    per_tile = Counter(r["cell"] >> (2 * level) for r in shown)
    assert {f["id"]: f["properties"]["count"] for f in body["features"]} == {
        f"{level}-{tile}": n for tile, n in per_tile.items()
    }
    for feature in body["features"]:
        props = feature["properties"]
        assert props["cluster"] is True and props["public_status_counts"] == {"menunggu": props["count"]}
        assert set(props) == {"cluster", "count", "public_status_counts"}  # no ids, names or descriptions
        members = [r for r in shown if f"{level}-{r['cell'] >> (2 * level)}" == feature["id"]]
        lon, lat = feature["geometry"]["coordinates"]
        assert lat == pytest.approx(sum(r["latitude"] for r in members) / len(members), abs=1e-6)
        assert lon == pytest.approx(sum(r["longitude"] for r in members) / len(members), abs=1e-6)
        min_lon, min_lat, max_lon, max_lat = feature["bbox"]
        assert min_lat <= lat <= max_lat and min_lon <= lon <= max_lon
    counts = [f["properties"]["count"] for f in body["features"]]
    assert counts == sorted(counts, reverse=True)

    # Filters apply to clusters as to pins; few enough matches come back as pins again.
    banjir = client.get(f"/api/v1/reports/map?bbox={BBOX}&category=banjir").json
    assert banjir["clustered"] is False and banjir["total"] == 9 and len(banjir["features"]) == 9
    duplicates = client.get(f"/api/v1/reports/map?bbox={BBOX}&status=duplicate").json
    assert duplicates["clustered"] is False and len(duplicates["features"]) == 5
    assert client.get(f"/api/v1/reports/map?bbox={BBOX}&status=rejected").status_code == 422
    small = client.get(f"/api/v1/reports/map?bbox={BBOX}&limit=5&category=banjir").json
    assert small["clustered"] is True and sum(f["properties"]["count"] for f in small["features"]) == 9


def test_a_viewport_outside_jakarta_is_empty_even_when_clusters_would_be_due(client, ctx, app, monkeypatch):
    """Cells clamp to Jakarta's box, so a box far away must not be answered with the edge tiles' clusters."""
    monkeypatch.setitem(app.config, "REPORTS_MAP_MAX_PINS", 1)
    # At the box's edge, in Tangerang Selatan: no longer accepted, so stored as older reports would be.
    category("jalan_rusak")
    db.session.execute(Report.__table__.insert(), [report_row(-6.39, 106.70), report_row(-6.39, 106.7005)])
    db.session.flush()
    body = client.get("/api/v1/reports/map?bbox=106.60,-7.50,106.80,-7.00").json
    assert body == {"type": "FeatureCollection", "features": [], "clustered": False, "total": 0}
    near = client.get("/api/v1/reports/map?bbox=106.69,-6.45,106.71,-6.38").json
    assert near["clustered"] is True and near["total"] == 2


def test_clusters_follow_the_workflow(client, ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "REPORTS_MAP_MAX_PINS", 1)
    first, second = make_report(), make_report(at=(-6.2712, 106.7772))
    worker = kelurahan_officer()  # the kelurahan unit verifies and rejects
    transitions.transition(worker, first.id, "verified", expected_version=first.version)
    body = client.get(f"/api/v1/reports/map?bbox={BBOX}").json
    statuses = Counter()
    for feature in body["features"]:
        statuses.update(feature["properties"]["public_status_counts"])
    assert body["clustered"] is True and statuses == {"menunggu": 1, "koordinasi": 1}
    transitions.transition(
        worker, second.id, "rejected", expected_version=second.version, reason="Bukan wewenang kelurahan"
    )
    assert client.get(f"/api/v1/reports/map?bbox={BBOX}").json["total"] == 1


def test_public_map_pins_load_reporters_in_one_query(client, ctx):
    for n in range(6):
        make_report(make_user(), at=(-6.2710 + n * 0.0008, 106.7770))
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        feed = client.get("/api/v1/reports?limit=6")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert feed.status_code == 200 and len(feed.json["items"]) == 6
    assert all(item["reporter_name"] for item in feed.json["items"])
    user_reads = [s for s in statements if "FROM users" in s]
    assert len(user_reads) == 1, user_reads


def test_staff_see_the_same_map_as_the_public(client, ctx):
    """The map is public: a token changes nothing about what it shows (no anonymous reporter leaks)."""
    make_report(anonymous=True)
    public = client.get(f"/api/v1/reports/map?bbox={BBOX}").json
    staff = client.get(f"/api/v1/reports/map?bbox={BBOX}", headers=auth_header(officer())).json
    assert public == staff and public["total"] == 1


def test_recount_map_command(app, ctx):
    category("banjir")
    db.session.execute(Report.__table__.insert(), _bulk_rows(3, lat0=-6.2700, lon0=106.7760, code="banjir"))
    expected = _expected_tiles()
    db.session.execute(delete(ReportMapTile))
    result = app.test_cli_runner().invoke(args=["reports", "recount-map"])
    assert result.exit_code == 0 and result.output.strip() == f"{len(expected)} tile rows counted"
    assert _stored_tiles() == expected
