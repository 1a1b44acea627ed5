"""Map outlines: kecamatan and kota dissolved from kelurahan, slivers sealed, stored once per import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shapely.geometry import Polygon, shape
from sqlalchemy import select, update

from jaki.extensions import db
from jaki.geo import operations as geo
from jaki.geo.models import Area
from jaki.geo.operations import forget_kept_areas
from jaki.geo.outlines import derive_outlines, store_outlines


def square(lon: float, lat: float, size: float, hole: float = 0.0) -> dict:
    """A GeoJSON Polygon, size degrees a side, with an optional square hole `hole` degrees a side in its middle."""
    rings = [[[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]]
    if hole:
        a, b = lon + (size - hole) / 2, lat + (size - hole) / 2
        rings.append([[a, b], [a, b + hole], [a + hole, b + hole], [a + hole, b], [a, b]])
    return {"type": "Polygon", "coordinates": rings}


def holes(geometry: dict) -> int:
    outline = shape(geometry)
    return sum(len(p.interiors) for p in getattr(outline, "geoms", [outline]))


def test_kecamatan_is_one_outline_across_the_sliver_between_its_kelurahan():
    # Two kelurahan 1 km wide with an 11 m sliver between them, as separately simplified neighbours leave.
    outlines = derive_outlines(
        [
            ("31.74.05.1001", square(106.770, -6.270, 0.009)),
            ("31.74.05.1002", square(106.7791, -6.270, 0.009)),
            ("31.74.06.1001", square(106.820, -6.270, 0.009)),
        ]
    )
    assert set(outlines) == {"31.74.05.1001", "31.74.05.1002", "31.74.06.1001", "31.74.05", "31.74.06", "31.74"}
    kecamatan = outlines["31.74.05"]
    assert kecamatan["type"] == "Polygon" and holes(kecamatan) == 0
    assert shape(kecamatan).area == pytest.approx(0.009 * 0.0181, rel=0.01)
    kota = outlines["31.74"]
    assert kota["type"] == "MultiPolygon" and len(kota["coordinates"]) == 2  # two kecamatan 4 km apart


def test_small_gaps_are_filled_and_real_holes_kept():
    outlines = derive_outlines(
        [
            ("31.74.05.1001", square(106.770, -6.270, 0.009, hole=0.0006)),  # a 67 m hole: a gap, 0.4 ha
            ("31.74.06.1001", square(106.790, -6.270, 0.018, hole=0.005)),  # a 550 m hole: real, 30 ha
        ]
    )
    # A kelurahan is shown as imported; the dissolved layers drop the gap and keep the real hole.
    assert holes(outlines["31.74.05.1001"]) == 1 and holes(outlines["31.74.05"]) == 0
    assert holes(outlines["31.74.06.1001"]) == 1 and holes(outlines["31.74.06"]) == 1


def test_outlines_follow_rfc_7946_and_round_to_a_metre():
    clockwise = square(106.770123456789, -6.270987654321, 0.009)
    clockwise["coordinates"][0].reverse()
    outline = derive_outlines([("31.74.05.1001", clockwise)])["31.74.05.1001"]
    ring = outline["coordinates"][0]
    assert ring[0] == ring[-1] and all(round(v, 5) == v for position in ring for v in position)
    assert Polygon(ring).exterior.is_ccw
    assert [106.77012, -6.27099] in ring


def test_an_invalid_kelurahan_polygon_is_repaired_not_fatal():
    bowtie = {"type": "Polygon", "coordinates": [[[106.77, -6.27], [106.78, -6.26], [106.78, -6.27], [106.77, -6.26]]]}
    outlines = derive_outlines([("31.74.05.1001", bowtie)])
    assert shape(outlines["31.74.05"]).is_valid and shape(outlines["31.74.05"]).area > 0


@pytest.fixture
def imported(ctx, app):
    forget_kept_areas(app)
    geo.import_areas(Path(app.config["SHARED_DATA_DIR"]) / "jakarta_kelurahan.geojson")
    yield
    forget_kept_areas(app)


def test_store_is_idempotent_and_leaves_the_routing_index_alone(imported):
    version = db.session.execute(select(Area.code, Area.updated_at).order_by(Area.code)).all()
    assert store_outlines() == "317 outlines: 317 stored, 0 unchanged"
    assert store_outlines() == "317 outlines: 0 stored, 317 unchanged"
    # updated_at (and so the routing index's version) stays: outlines only follow the polygons.
    assert db.session.execute(select(Area.code, Area.updated_at).order_by(Area.code)).all() == version
    stored = db.session.get(Area, "31.74.05")
    assert json.loads(stored.outline)["type"] in ("Polygon", "MultiPolygon") and stored.geometry is None
    assert db.session.get(Area, "31").outline is None  # no province layer


def test_an_area_without_polygons_loses_its_outline(imported):
    store_outlines()
    db.session.execute(update(Area).where(Area.code == "31.74.05.1002").values(geometry=None))
    assert store_outlines() == "316 outlines: 2 stored, 314 unchanged, 1 cleared"  # its kecamatan and kota
    assert db.session.get(Area, "31.74.05.1002").outline is None


def test_cli_import_stores_outlines(app, imported, tmp_path):
    path = Path(app.config["SHARED_DATA_DIR"]) / "jakarta_kelurahan.geojson"
    first = app.test_cli_runner().invoke(args=["areas", "import", str(path)])
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[-1] == "317 outlines: 317 stored, 0 unchanged"
    again = app.test_cli_runner().invoke(args=["areas", "import", str(path)])
    assert again.output.splitlines() == [
        "1 provinsi, 1 kabupaten, 5 kota, 44 kecamatan, 267 kelurahan: 0 created, 0 updated, 318 unchanged",
        "317 outlines: 0 stored, 317 unchanged",
    ]
