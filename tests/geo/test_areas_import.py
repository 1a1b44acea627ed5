"""`flask areas import`: kota, kecamatan and kelurahan from GeoJSON, idempotently; the routing index follows changes."""

import json
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from jaki.db import utcnow
from jaki.extensions import db
from jaki.geo import operations as geo
from jaki.geo.models import Area
from jaki.geo.operations import forget_kept_areas
from jaki.geo.queries import area_name


@pytest.fixture
def areas_file(app) -> Path:
    return Path(app.config["SHARED_DATA_DIR"]) / "jakarta_kelurahan.geojson"


@pytest.fixture(autouse=True)
def _fresh_index(app):
    """Each test imports inside its own rolled-back transaction: no index may outlive it."""
    forget_kept_areas(app)
    yield
    forget_kept_areas(app)


def levels() -> dict[str, int]:
    return dict(db.session.execute(select(Area.level, func.count()).group_by(Area.level)).all())


def test_import_loads_every_level_with_codes_names_and_polygons(ctx, areas_file):
    summary = geo.import_areas(areas_file)
    assert (
        summary == "1 provinsi, 1 kabupaten, 5 kota, 44 kecamatan, 267 kelurahan: 318 created, 0 updated, 0 unchanged"
    )
    assert levels() == {"provinsi": 1, "kabupaten": 1, "kota": 5, "kecamatan": 44, "kelurahan": 267}
    gambir = db.session.get(Area, "31.71.01.1001")
    # BPS numbers Jakarta Pusat 3173 where Kemendagri says 31.71.
    assert (gambir.name, gambir.parent_code, gambir.bps_code) == ("Gambir", "31.71.01", "3173080003")
    assert json.loads(gambir.geometry)["type"] in ("Polygon", "MultiPolygon")
    assert gambir.min_lat < -6.1754 < gambir.max_lat and gambir.min_lon < 106.8272 < gambir.max_lon
    seribu = db.session.get(Area, "31.01")
    assert (seribu.level, seribu.parent_code) == ("kabupaten", "31")
    selatan = db.session.get(Area, "31.74")
    assert selatan.level == "kota" and selatan.name == "Kota Administrasi Jakarta Selatan"
    kebayoran_lama = db.session.get(Area, "31.74.05")
    assert (kebayoran_lama.name, kebayoran_lama.parent_code, kebayoran_lama.geometry) == (
        "Kebayoran Lama",
        "31.74",
        None,
    )
    assert db.session.get(Area, "31").level == "provinsi"


def test_import_is_idempotent_and_updates_what_changed(ctx, areas_file, tmp_path):
    geo.import_areas(areas_file)
    before = db.session.get(Area, "31.71.01.1001").updated_at
    assert geo.import_areas(areas_file).endswith("0 created, 0 updated, 318 unchanged")
    assert db.session.get(Area, "31.71.01.1001").updated_at == before
    assert db.session.scalar(select(func.count(Area.code))) == 318

    data = json.loads(areas_file.read_text())
    data["features"][0]["properties"]["kelurahan"] = "Pulau Panggang Baru"
    changed = tmp_path / "changed.geojson"
    changed.write_text(json.dumps(data))
    assert geo.import_areas(changed).endswith("0 created, 1 updated, 317 unchanged")
    assert db.session.get(Area, "31.01.01.1001").name == "Pulau Panggang Baru"


def test_cli_import_and_locate(app, ctx, areas_file, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["areas", "import", str(areas_file)])
    assert result.exit_code == 0, result.output
    assert "267 kelurahan: 318 created" in result.output
    located = runner.invoke(args=["areas", "locate", "-6.1754", "106.8272"])
    assert located.exit_code == 0 and located.output.startswith("31.71.01.1001 (31.71.01, 31.71; inside)")
    sea = runner.invoke(args=["areas", "locate", "--", "-6.0", "106.9"])
    assert sea.output.strip() == "outside Jakarta (at sea or further away)"

    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}}]}')
    failed = runner.invoke(args=["areas", "import", str(broken)])
    assert failed.exit_code != 0 and "lacks kode_kel" in failed.output
    missing = runner.invoke(args=["areas", "import", str(tmp_path / "nope.geojson")])
    assert missing.exit_code != 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "cannot read"),
        ('{"type": "Feature"}', "FeatureCollection"),
        ('{"type": "FeatureCollection", "features": []}', "no kelurahan"),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {
                                "kode_kel": "31.71.01.1001",
                                "kelurahan": "Gambir",
                                "kode_kec": "31.71.01",
                                "kecamatan": "Gambir",
                                "kode_kota": "31.71",
                                "kota": "Jakarta Pusat",
                            },
                            "geometry": {"type": "Point", "coordinates": [1, 2]},
                        }
                    ],
                }
            ),
            "unsupported geometry",
        ),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {
                                "kode_kel": "32.71.01.1001",
                                "kelurahan": "Bogor",
                                "kode_kec": "32.71.01",
                                "kecamatan": "Bogor",
                                "kode_kota": "32.71",
                                "kota": "Bogor",
                            },
                            "geometry": {"type": "Polygon", "coordinates": [[[1, 2], [2, 2], [2, 3], [1, 2]]]},
                        }
                    ],
                }
            ),
            "not in DKI Jakarta",
        ),
    ],
    ids=["not-json", "not-a-collection", "empty", "point", "outside-jakarta"],
)
def test_bad_files_are_refused_with_a_reason(ctx, tmp_path, content, message):
    path = tmp_path / "areas.geojson"
    path.write_text(content)
    with pytest.raises(geo.AreaFileInvalid, match=message):
        geo.import_areas(path)
    assert db.session.scalar(select(func.count(Area.code))) == 0


def test_the_routing_index_is_rebuilt_when_areas_change(app, ctx, areas_file, monkeypatch):
    monkeypatch.setitem(app.config, "AREA_INDEX_CHECK_SECONDS", 0)
    assert geo.locate(-6.1754, 106.8272) == geo.UNROUTED  # no areas yet
    geo.import_areas(areas_file)
    assert geo.locate(-6.1754, 106.8272).kelurahan_code == "31.71.01.1001"
    index = geo.area_index()
    assert geo.area_index() is index  # unchanged areas: the same index, not rebuilt

    # Gambir's polygon replaced by a small square far away: Monas no longer routes to Gambir.
    gambir = db.session.get(Area, "31.71.01.1001")
    gambir.geometry = json.dumps(
        {"type": "Polygon", "coordinates": [[[106.60, -6.10], [106.601, -6.10], [106.601, -6.101], [106.60, -6.10]]]}
    )
    gambir.updated_at = utcnow()
    db.session.commit()
    moved = geo.locate(-6.1754, 106.8272)
    assert moved.kelurahan_code != "31.71.01.1001" and geo.area_index() is not index


def test_the_index_is_checked_at_most_every_interval(app, ctx, areas_file, monkeypatch):
    monkeypatch.setitem(app.config, "AREA_INDEX_CHECK_SECONDS", 3600)
    assert geo.locate(-6.1754, 106.8272) == geo.UNROUTED
    geo.import_areas(areas_file)
    # Within the interval the process keeps the index it has (a cheap version check, not one per report).
    assert geo.locate(-6.1754, 106.8272) == geo.UNROUTED


def _names_read(app, code: str, statements: list) -> tuple[str | None, int]:
    """One request's name for a code, and how many statements it took."""
    before = len(statements)
    with app.test_request_context():
        name = area_name(code)
    return name, len(statements) - before


def test_area_names_are_kept_between_requests_and_follow_changes(app, ctx, areas_file, monkeypatch):
    monkeypatch.setitem(app.config, "AREA_INDEX_CHECK_SECONDS", 3600)
    geo.import_areas(areas_file)
    statements: list[str] = []
    bind = db.session.get_bind()

    def listener(_conn, _cursor, statement, *_rest):
        statements.append(statement)

    event.listen(bind, "before_cursor_execute", listener)
    try:
        assert _names_read(app, "31.71.01.1001", statements)[0] == "Gambir"
        # The next request (a page of reports, a create) reads no names: the process keeps them.
        assert _names_read(app, "31.71.01.1001", statements) == ("Gambir", 0)

        gambir = db.session.get(Area, "31.71.01.1001")
        gambir.name, gambir.updated_at = "Gambir Baru", utcnow()
        db.session.commit()
        # Within the interval a rename is not seen yet (another process's import is noticed at the next check) ...
        assert _names_read(app, "31.71.01.1001", statements) == ("Gambir", 0)
        # ... but a code the kept names lack reads the table's version again at once, and with it the rename.
        db.session.add(Area(code="31.71.01.1999", level="kelurahan", name="Kelurahan Baru", parent_code="31.71.01"))
        db.session.commit()
        assert _names_read(app, "31.71.01.1999", statements)[0] == "Kelurahan Baru"
        assert _names_read(app, "31.71.01.1001", statements) == ("Gambir Baru", 0)
        # A code that is no area at all costs one version check per request, and no more.
        name, cost = _names_read(app, "31.99", statements)
        assert name is None and cost == 1

        monkeypatch.setitem(app.config, "AREA_INDEX_CHECK_SECONDS", 0)
        gambir.name, gambir.updated_at = "Gambir", utcnow()
        db.session.commit()
        assert _names_read(app, "31.71.01.1001", statements)[0] == "Gambir"  # checked at every use
    finally:
        event.remove(bind, "before_cursor_execute", listener)
