"""The public areas API: lists by level and parent, one area with its parents, and the map's GeoJSON layers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Point, shape
from sqlalchemy import delete, event, select, update

from jaki.extensions import db
from jaki.geo.models import Area
from jaki.geo.operations import forget_kept_areas, import_areas
from jaki.geo.outlines import store_outlines

MONAS = Point(106.8272, -6.1754)  # Gambir (31.71.01.1001), Jakarta Pusat
LAYERS = {"kota": 6, "kecamatan": 44, "kelurahan": 267}


@pytest.fixture(scope="module", autouse=True)
def imported(app):
    """Jakarta's areas and their outlines, committed once for this module (as `flask areas import` does)."""
    path = Path(app.config["SHARED_DATA_DIR"]) / "jakarta_kelurahan.geojson"
    with app.app_context():
        before = set(db.session.scalars(select(Area.code)))
        import_areas(path)
        summary = store_outlines()
        added = set(db.session.scalars(select(Area.code))) - before
        db.session.remove()
    forget_kept_areas(app)
    yield summary
    with app.app_context():
        db.session.execute(delete(Area).where(Area.code.in_(sorted(added))))
        db.session.commit()
        db.session.remove()
    forget_kept_areas(app)


def codes(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [item["code"] for item in response.json["items"]]


def test_import_stores_an_outline_for_every_kelurahan_kecamatan_and_kota(imported):
    assert imported == "317 outlines: 317 stored, 0 unchanged"


def test_list_filters_by_level_and_parent(client):
    everything = codes(client.get("/api/v1/areas"))
    assert len(everything) == 318 and everything == sorted(everything)
    kota = client.get("/api/v1/areas?level=kota").json["items"]
    assert [(a["code"], a["level"]) for a in kota] == [
        ("31.01", "kabupaten"),
        ("31.71", "kota"),
        ("31.72", "kota"),
        ("31.73", "kota"),
        ("31.74", "kota"),
        ("31.75", "kota"),
    ]
    assert kota[4]["name"] == "Kota Administrasi Jakarta Selatan" and kota[4]["parent_code"] == "31"
    min_lon, min_lat, max_lon, max_lat = kota[4]["bbox"]
    assert min_lon < 106.8 < max_lon and min_lat < -6.27 < max_lat
    assert codes(client.get("/api/v1/areas?level=kabupaten")) == ["31.01"]
    assert codes(client.get("/api/v1/areas?level=provinsi")) == ["31"]
    assert len(codes(client.get("/api/v1/areas?level=kecamatan"))) == 44
    assert len(codes(client.get("/api/v1/areas?level=kelurahan"))) == 267
    selatan = client.get("/api/v1/areas?parent=31.74").json["items"]
    assert len(selatan) == 10 and {(a["level"], a["parent_code"]) for a in selatan} == {("kecamatan", "31.74")}
    assert "Kebayoran Lama" in {a["name"] for a in selatan}
    kebayoran_lama = client.get("/api/v1/areas?level=kelurahan&parent=31.74.05").json["items"]
    assert {a["name"] for a in kebayoran_lama} == {
        "Grogol Utara",
        "Grogol Selatan",
        "Cipulir",
        "Kebayoran Lama Utara",
        "Kebayoran Lama Selatan",
        "Pondok Pinang",
    }
    assert codes(client.get("/api/v1/areas?level=kecamatan&parent=31.74.05")) == []


def test_list_refuses_a_bad_level_or_an_unknown_parent(client):
    bad = client.get("/api/v1/areas?level=rt")
    assert bad.status_code == 422 and bad.json["code"] == "validation_error" and "level" in bad.json["errors"]
    assert bad.json["errors"]["level"][0].startswith("Harus salah satu dari")
    unknown = client.get("/api/v1/areas?parent=31.99", headers={"Accept-Language": "en"})
    assert unknown.status_code == 422
    assert unknown.json["code"] == "area_unknown" and unknown.json["errors"] == {"parent": ["Unknown area."]}


def test_detail_names_the_area_and_its_parents_nearest_first(client):
    pondok_pinang = client.get("/api/v1/areas/31.74.05.1002")
    assert pondok_pinang.status_code == 200
    body = pondok_pinang.json
    assert (body["code"], body["level"], body["name"], body["parent_code"]) == (
        "31.74.05.1002",
        "kelurahan",
        "Pondok Pinang",
        "31.74.05",
    )
    assert body["bps_code"] and len(body["bbox"]) == 4
    assert body["parents"] == [
        {"code": "31.74.05", "level": "kecamatan", "name": "Kebayoran Lama"},
        {"code": "31.74", "level": "kota", "name": "Kota Administrasi Jakarta Selatan"},
        {"code": "31", "level": "provinsi", "name": "Daerah Khusus Ibukota Jakarta"},
    ]
    assert [p["code"] for p in client.get("/api/v1/areas/31.01").json["parents"]] == ["31"]
    assert client.get("/api/v1/areas/31").json["parents"] == []


def test_detail_of_an_unknown_code_is_a_404_in_the_envelope(client):
    for code in ("31.74.05.9999", "LAP-1234", "31.74.05.1002.1"):
        missing = client.get(f"/api/v1/areas/{code}")
        assert missing.status_code == 404, code
        body = missing.json
        assert body.pop("request_id") == missing.headers["X-Request-ID"]
        assert body == {
            "code": "area_not_found",
            "status": 404,
            "message": "Wilayah dengan kode ini tidak ditemukan.",
        }
    english = client.get("/api/v1/areas/31.99", headers={"Accept-Language": "en"})
    assert english.json["message"] == "No area has this code."


def _layer(client, level: str) -> dict:
    response = client.get(f"/api/v1/areas.geojson?level={level}")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    return json.loads(response.get_data(as_text=True))


def _positions(geometry: dict):
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    for polygon in polygons:
        yield from polygon


@pytest.mark.parametrize(("level", "count"), LAYERS.items())
def test_each_layer_is_a_valid_feature_collection_with_codes_and_names(client, level, count):
    layer = _layer(client, level)
    assert layer["type"] == "FeatureCollection" and len(layer["features"]) == count
    names = {a["code"]: a["name"] for a in client.get(f"/api/v1/areas?level={level}").json["items"]}
    for feature in layer["features"]:
        assert feature["type"] == "Feature" and feature["id"] == feature["properties"]["code"]
        properties = feature["properties"]
        assert set(properties) == {"code", "name", "level", "parent_code"}
        assert properties["name"] == names[properties["code"]]
        geometry = feature["geometry"]
        assert geometry["type"] in ("Polygon", "MultiPolygon")
        for ring in _positions(geometry):
            assert len(ring) >= 4 and ring[0] == ring[-1]
            assert all(106.3 < lon < 107.05 and -6.4 < lat < -5.1 for lon, lat in ring)
            assert all(round(v, 5) == v for position in ring for v in position)
        outline = shape(geometry)
        assert outline.is_valid, properties["code"]
        # RFC 7946: outer rings counter-clockwise, holes clockwise.
        assert shapely.orient_polygons(outline, exterior_cw=False).equals_exact(outline, 0)


def test_kecamatan_and_kota_outlines_are_the_union_of_their_kelurahan(client):
    kelurahan = {f["id"]: shape(f["geometry"]) for f in _layer(client, "kelurahan")["features"]}
    for level in ("kecamatan", "kota"):
        for feature in _layer(client, level)["features"]:
            code = feature["id"]
            outline = shape(feature["geometry"])
            parts = shapely.union_all([g for c, g in kelurahan.items() if c.startswith(code + ".")])
            # Sealing the slivers adds a little, simplifying takes a little; Kepulauan Seribu's islets keep shape.
            assert abs(outline.area - parts.area) / parts.area < 0.02, code
            assert outline.intersection(parts).area / parts.area > 0.99, code
            if code != "31.01" and not code.startswith("31.01."):
                # The mainland's slivers are sealed: no pin-holes where two kelurahan did not quite meet.
                holes = sum(len(p.interiors) for p in getattr(outline, "geoms", [outline]))
                assert holes == 0, (code, holes)
    gambir = {f["id"] for f in _layer(client, "kecamatan")["features"] if shape(f["geometry"]).contains(MONAS)}
    assert gambir == {"31.71.01"}
    pusat = {f["id"] for f in _layer(client, "kota")["features"] if shape(f["geometry"]).contains(MONAS)}
    assert pusat == {"31.71"}


def test_layers_are_read_from_stored_outlines_without_geometry_work(client):
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert len(_layer(client, "kelurahan")["features"]) == 267
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert len([s for s in statements if "FROM areas" in s]) == 2  # outlines present? then the layer itself


def test_missing_outlines_are_derived_once_and_then_read(client, ctx):
    db.session.execute(update(Area).values(outline=None))
    first = _layer(client, "kota")
    assert [f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in first["features"]] == [True] * 6
    assert db.session.scalar(select(Area.outline).where(Area.code == "31.74.05.1002")) is not None
    assert _layer(client, "kota") == first


def test_layer_level_is_required_and_checked(client):
    for query in ("", "?level=provinsi", "?level=rw", "?level=KOTA"):
        refused = client.get(f"/api/v1/areas.geojson{query}")
        assert refused.status_code == 422, query
        assert refused.json["code"] == "validation_error" and refused.mimetype == "application/json"


def test_the_spec_declares_every_areas_answer(client):
    spec = client.get("/openapi.json").json
    listing = spec["paths"]["/api/v1/areas"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"level", "parent"}
    assert listing["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AreaList"
    }
    layer = spec["paths"]["/api/v1/areas.geojson"]["get"]
    assert layer["responses"]["200"]["content"]["application/geo+json"]["schema"] == {
        "$ref": "#/components/schemas/AreaFeatureCollection"
    }
    assert "422" in layer["responses"]
    detail = spec["paths"]["/api/v1/areas/{code}"]["get"]
    assert detail["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AreaDetail"
    }
    assert detail["responses"]["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    feature = spec["components"]["schemas"]["AreaFeature"]["properties"]
    assert set(feature) == {"type", "id", "properties", "geometry"}
    for operation in (listing, layer, detail):
        assert "security" not in operation  # public: no login
