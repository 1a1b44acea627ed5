"""`flask areas import-neighbours`: the outlines around Jakarta, in the database for every process, idempotently."""

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jaki.extensions import db
from jaki.geo import operations as geo
from jaki.geo.models import NeighbourRegion
from jaki.geo.operations import forget_kept_areas

KOTA_TANGERANG = (-6.1783, 106.6319)


@pytest.fixture
def data_dir(app) -> Path:
    return Path(app.config["SHARED_DATA_DIR"])


@pytest.fixture(autouse=True)
def _fresh_index(app):
    forget_kept_areas(app)
    yield
    forget_kept_areas(app)


def test_import_is_idempotent_and_keeps_the_file_as_the_whole_set(ctx, data_dir, tmp_path):
    path = data_dir / "jakarta_neighbours.geojson"
    assert geo.import_neighbours(path) == "neighbour regions: 8 created, 0 updated, 0 unchanged, 0 removed"
    depok = db.session.get(NeighbourRegion, "32.76")
    assert (depok.name, depok.province_code) == ("Kota Depok", "32")
    assert depok.min_lat < -6.40 < depok.max_lat and json.loads(depok.geometry)["type"] == "Polygon"
    assert geo.import_neighbours(path) == "neighbour regions: 0 created, 0 updated, 8 unchanged, 0 removed"

    data = json.loads(path.read_text())
    data["features"] = [f for f in data["features"] if f["properties"]["kode"] != "32.01"]
    data["features"][0]["properties"]["nama"] = "Kabupaten Bekasi (baru)"
    smaller = tmp_path / "smaller.geojson"
    smaller.write_text(json.dumps(data))
    assert geo.import_neighbours(smaller) == "neighbour regions: 0 created, 1 updated, 6 unchanged, 1 removed"
    assert db.session.get(NeighbourRegion, "32.01") is None


@pytest.mark.parametrize(
    ("feature", "message"),
    [
        ({"type": "Feature", "properties": {"kode": "36.71"}}, "lacks one of"),
        (
            {"type": "Feature", "properties": {"kode": "31.71", "nama": "Jakarta Pusat", "kode_prov": "31"}},
            "is in DKI Jakarta",
        ),
        (
            {"type": "Feature", "properties": {"kode": "36.71", "nama": "Kota Tangerang", "kode_prov": "36"}},
            "no geometry",
        ),
    ],
    ids=["no-name", "jakarta", "no-geometry"],
)
def test_bad_files_are_refused_with_a_reason(ctx, tmp_path, feature, message):
    path = tmp_path / "neighbours.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with pytest.raises(geo.AreaFileInvalid, match=message):
        geo.import_neighbours(path)
    assert db.session.scalar(select(func.count()).select_from(NeighbourRegion)) == 0


def test_cli_import_and_locate_names_the_region(app, ctx, data_dir):
    runner = app.test_cli_runner()
    imported = runner.invoke(args=["areas", "import-neighbours", str(data_dir / "jakarta_neighbours.geojson")])
    assert imported.exit_code == 0 and "8 created" in imported.output, imported.output
    located = runner.invoke(args=["areas", "locate", "--", *map(str, KOTA_TANGERANG)])
    assert located.output.strip() == "outside Jakarta (36.71 Kota Tangerang)"
    broken = runner.invoke(args=["areas", "import-neighbours", str(data_dir / "jakarta_areas.csv")])
    assert broken.exit_code != 0 and "cannot read" in broken.output


def test_every_process_sees_an_import_through_the_database(app, ctx, data_dir, monkeypatch):
    """The outlines live in the database; a process's index follows a re-import like the areas' index does."""
    monkeypatch.setitem(app.config, "AREA_INDEX_CHECK_SECONDS", 0)
    geo.import_areas(data_dir / "jakarta_kelurahan.geojson")
    before = geo.locate(*KOTA_TANGERANG)
    assert not before.routed and before.region_name is None  # nothing imported: outside, nobody named
    geo.import_neighbours(data_dir / "jakarta_neighbours.geojson")  # as another process's CLI would
    assert geo.locate(*KOTA_TANGERANG).region_name == "Kota Tangerang"
    region = db.session.get(NeighbourRegion, "36.71")
    region.name = "Kota Tangerang (uji)"
    region.updated_at = region.updated_at.replace(year=region.updated_at.year + 1)
    db.session.commit()
    assert geo.locate(*KOTA_TANGERANG).region_name == "Kota Tangerang (uji)"
