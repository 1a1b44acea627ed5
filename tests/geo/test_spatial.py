"""Point to kelurahan lookup: real landmarks, synthetic edge cases, and agreement with a brute-force scan."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaki.geo.spatial import (
    DEFAULT_MAX_DISTANCE_M,
    JAKARTA_BBOX,
    M_PER_DEG,
    TIE_TOLERANCE_M,
    AreaIndex,
    Location,
    haversine_m,
    in_jakarta_bbox,
)

DATA_DIR = Path(os.environ.get("JAKI_SHARED_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"))
KELURAHAN_FILE = DATA_DIR / "jakarta_kelurahan.geojson"

# Synthetic shapes sit in central Jakarta so distances behave as they do for real reports.
LAT0, LON0 = -6.2, 106.8
M_LAT = 1 / M_PER_DEG  # degrees of latitude per metre
M_LON = 1 / (M_PER_DEG * math.cos(math.radians(LAT0)))  # exact at LAT0 only, so distances below match to 1e-5


def square(east_m: float, north_m: float, size_m: float) -> list[list[float]]:
    """A closed ring: the square whose south-west corner lies east_m, north_m from (LAT0, LON0)."""
    x0, y0 = LON0 + east_m * M_LON, LAT0 + north_m * M_LAT
    x1, y1 = x0 + size_m * M_LON, y0 + size_m * M_LAT
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def at(east_m: float, north_m: float) -> tuple[float, float]:
    return LAT0 + north_m * M_LAT, LON0 + east_m * M_LON


def polygon(*rings: list[list[float]]) -> dict:
    return {"type": "Polygon", "coordinates": list(rings)}


# ---- brute-force reference: every polygon, every edge, no grid -------------------------------------------


def _parts(rows: list[tuple[str, dict]]) -> list[tuple[str, list[list[list[float]]]]]:
    out = []
    for code, geometry in rows:
        polys = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        out += [(code, rings) for rings in polys]
    return out


def reference_locate(parts, lat: float, lon: float, max_distance_m: float = DEFAULT_MAX_DISTANCE_M):
    """What locate must answer, by scanning everything with the same arithmetic."""
    inside = set()
    for code, rings in parts:
        odd = False
        for ring in rings:
            for n in range(1, len(ring)):
                (ax, ay), (bx, by) = ring[n][:2], ring[n - 1][:2]
                if (ay > lat) != (by > lat) and lon < ax + (lat - ay) * (bx - ax) / (by - ay):
                    odd = not odd
        if odd:
            inside.add(code)
    if inside:
        return Location(min(inside), 0.0, True)
    kx, ky = M_PER_DEG * math.cos(math.radians(lat)), M_PER_DEG
    best: dict[str, float] = {}
    for code, rings in parts:
        for ring in rings:
            for n in range(1, len(ring)):
                (ax, ay), (bx, by) = ring[n][:2], ring[n - 1][:2]
                ax, ay = (ax - lon) * kx, (ay - lat) * ky
                dx, dy = (bx - lon) * kx - ax, (by - lat) * ky - ay
                seg2 = dx * dx + dy * dy
                t = 0.0 if seg2 == 0 else min(1.0, max(0.0, -(ax * dx + ay * dy) / seg2))
                d = math.hypot(ax + t * dx, ay + t * dy)
                if d <= max_distance_m and d < best.get(code, math.inf):
                    best[code] = d
    if not best:
        return None
    nearest = min(best.values())
    code = min(c for c, d in best.items() if d <= nearest + TIE_TOLERANCE_M)
    return Location(code, best[code], False)


def assert_same(got: Location | None, want: Location | None) -> None:
    if want is None:
        assert got is None
    else:
        assert got is not None
        assert (got.code, got.exact) == (want.code, want.exact)
        assert got.distance_m == pytest.approx(want.distance_m, abs=1e-9)


# ---- the real data --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def collection() -> dict:
    if not KELURAHAN_FILE.exists():
        pytest.skip(f"no {KELURAHAN_FILE} (set JAKI_SHARED_DATA)")
    return json.loads(KELURAHAN_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def index(collection) -> AreaIndex:
    return AreaIndex.from_geojson(collection)


@pytest.fixture(scope="module")
def props(collection) -> dict[str, dict]:
    return {f["properties"]["kode_kel"]: f["properties"] for f in collection["features"]}


@pytest.mark.parametrize(
    ("place", "lat", "lon", "kelurahan", "kecamatan"),
    [
        ("Monas", -6.1754, 106.8272, "Gambir", "Gambir"),
        ("Masjid Istiqlal", -6.1702, 106.8310, "Pasar Baru", "Sawah Besar"),
        ("Stasiun Jakarta Kota", -6.1376, 106.8146, "Pinangsia", "Taman Sari"),
        ("Dunia Fantasi, Ancol", -6.1256, 106.8330, "Ancol", "Pademangan"),
        ("Stadion Gelora Bung Karno", -6.2186, 106.8020, "Gelora", "Tanah Abang"),
        ("Taman Margasatwa Ragunan", -6.3125, 106.8200, "Ragunan", "Pasar Minggu"),
        ("Bandara Halim Perdanakusuma", -6.2666, 106.8910, "Halim Perdana Kusuma", "Makasar"),
        ("Pulau Tidung", -5.7980, 106.4975, "Pulau Tidung", "Kepulauan Seribu Selatan"),
        ("Pulau Pramuka", -5.7460, 106.6140, "Pulau Panggang", "Kepulauan Seribu Utara"),
    ],
)
def test_landmarks_fall_in_their_kelurahan(index, props, place, lat, lon, kelurahan, kecamatan):
    loc = index.locate(lat, lon)
    assert loc is not None, place
    assert loc.exact and loc.distance_m == 0.0
    assert (props[loc.code]["kelurahan"], props[loc.code]["kecamatan"]) == (kelurahan, kecamatan)
    assert in_jakarta_bbox(lat, lon)


@pytest.mark.parametrize(("lat", "lon"), [(-5.5, 106.7), (-6.0, 106.9), (-5.3, 106.95)])
def test_open_sea_is_nowhere(index, lat, lon):
    assert index.locate(lat, lon) is None
    assert index.locate(lat, lon, max_distance_m=0) is None


def test_every_kelurahan_is_indexed(index, props):
    assert len(index) == 267
    assert index.codes == set(props)


def test_jakarta_bbox_holds_all_the_data_with_room_to_spare(collection):
    def positions(geometry):
        polys = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        return [p for rings in polys for ring in rings for p in ring]

    points = [p for f in collection["features"] for p in positions(f["geometry"])]
    lats, lons = [p[1] for p in points], [p[0] for p in points]
    b = JAKARTA_BBOX
    assert b.min_lat < b.max_lat and b.min_lon < b.max_lon
    assert all(in_jakarta_bbox(lat, lon) for lon, lat in points)
    margin_deg = 2_000 / M_PER_DEG
    assert min(lats) - b.min_lat > margin_deg and b.max_lat - max(lats) > margin_deg
    assert min(lons) - b.min_lon > margin_deg and b.max_lon - max(lons) > margin_deg
    # Kepulauan Seribu stretches the box about 130 km north of the mainland.
    assert max(lats) > -5.25


def test_agrees_with_brute_force_on_real_data(collection, index):
    parts = _parts([(f["properties"]["kode_kel"], f["geometry"]) for f in collection["features"]])
    rnd = random.Random(20240611)
    points = [(rnd.uniform(-6.38, -6.07), rnd.uniform(106.68, 106.98)) for _ in range(250)]
    points += [(rnd.uniform(-5.83, -5.79), rnd.uniform(106.47, 106.56)) for _ in range(50)]  # Pulau Tidung
    points += [(rnd.uniform(-6.11, -6.09), rnd.uniform(106.87, 106.91)) for _ in range(50)]  # Tanjung Priok
    seen = {"exact": 0, "gap": 0, "none": 0}
    for lat, lon in points:
        want = reference_locate(parts, lat, lon)
        assert_same(index.locate(lat, lon), want)
        seen["none" if want is None else "exact" if want.exact else "gap"] += 1
    assert min(seen.values()) > 0, seen


def test_sliver_between_real_neighbours_goes_to_the_nearer(index, props):
    # Jagakarsa and Ciganjur were simplified apart here: the border runs 9 m to one side and 27 m to
    # the other (found by brute force; the BPS 2019 boundaries put the point in Jagakarsa).
    lat, lon = -6.32063, 106.80734
    assert index.locate(lat, lon, max_distance_m=0) is None
    loc = index.locate(lat, lon)
    assert props[loc.code]["kelurahan"] == "Jagakarsa" and not loc.exact
    assert 8 < loc.distance_m < 11


def test_lookup_is_fast(index):
    rnd = random.Random(7)
    b = JAKARTA_BBOX
    points = [(rnd.uniform(b.min_lat, b.max_lat), rnd.uniform(b.min_lon, b.max_lon)) for _ in range(20_000)]
    start = time.perf_counter()
    for lat, lon in points:
        index.locate(lat, lon)
    # About 80,000 a second on a laptop core; scanning all 267 polygons would manage a few hundred.
    assert time.perf_counter() - start < 4.0


# ---- synthetic shapes -----------------------------------------------------------------------------------


def test_inside_one_polygon_is_exact():
    index = AreaIndex.from_features([("31.71.01.1001", polygon(square(0, 0, 500)))])
    assert index.locate(*at(250, 250)) == Location("31.71.01.1001", 0.0, True)


def test_overlap_goes_to_the_smallest_code_whatever_the_order():
    rows = [("31.71.01.1002", polygon(square(0, 0, 500))), ("31.71.01.1001", polygon(square(400, 0, 500)))]
    for ordered in (rows, rows[::-1]):
        index = AreaIndex.from_features(ordered)
        assert index.locate(*at(450, 250)) == Location("31.71.01.1001", 0.0, True)
        assert index.locate(*at(200, 250)).code == "31.71.01.1002"
        assert index.locate(*at(800, 250)).code == "31.71.01.1001"


def test_gap_resolves_to_the_nearest_boundary():
    rows = [("B", polygon(square(0, 0, 500))), ("A", polygon(square(600, 0, 500)))]
    index = AreaIndex.from_features(rows)
    loc = index.locate(*at(530, 250))
    assert loc.code == "B" and not loc.exact
    assert loc.distance_m == pytest.approx(30, rel=1e-5)
    # The equirectangular distance agrees with the great circle at this scale.
    assert loc.distance_m == pytest.approx(haversine_m(*at(530, 250), *at(500, 250)), rel=1e-3)
    assert index.locate(*at(580, 250)).code == "A"


def test_equidistant_gap_goes_to_the_smallest_code():
    rows = [("31.71.01.1002", polygon(square(0, 0, 500))), ("31.71.01.1001", polygon(square(600, 0, 500)))]
    for ordered in (rows, rows[::-1]):
        for cell_size_m in (40, 150, 1000):
            index = AreaIndex.from_features(ordered, cell_size_m=cell_size_m)
            loc = index.locate(*at(550, 250))
            assert loc.code == "31.71.01.1001" and not loc.exact
            assert loc.distance_m == pytest.approx(50, rel=1e-5)


def test_nothing_beyond_max_distance():
    index = AreaIndex.from_features([("A", polygon(square(0, 0, 500)))])
    assert index.locate(*at(500 + DEFAULT_MAX_DISTANCE_M - 1, 250)).code == "A"
    assert index.locate(*at(500 + DEFAULT_MAX_DISTANCE_M + 1, 250)) is None
    assert index.locate(*at(1500, 250), max_distance_m=1001).distance_m == pytest.approx(1000, rel=1e-5)
    assert index.locate(*at(1500, 250), max_distance_m=999) is None
    assert index.locate(*at(501, 250), max_distance_m=0) is None
    assert index.locate(*at(499, 250), max_distance_m=0).exact
    # Far outside the grid, in every direction.
    assert index.locate(LAT0 + 1, LON0) is None
    assert index.locate(LAT0, LON0 - 1, max_distance_m=200_000).distance_m == pytest.approx(110_574, rel=1e-2)


def test_holes():
    ring = square(0, 0, 900)
    hole = square(300, 300, 300)
    index = AreaIndex.from_features([("A", polygon(ring, hole))])
    assert index.locate(*at(100, 100)) == Location("A", 0.0, True)
    in_hole = index.locate(*at(450, 450))
    assert in_hole.code == "A" and not in_hole.exact
    assert in_hole.distance_m == pytest.approx(150, rel=1e-5)
    assert index.locate(*at(450, 450), max_distance_m=100) is None
    # Another area filling the hole owns it, however large its code.
    island = ("Z", polygon(square(300, 300, 300)))
    index = AreaIndex.from_features([("A", polygon(ring, hole)), island])
    assert index.locate(*at(450, 450)) == Location("Z", 0.0, True)
    assert index.locate(*at(100, 100)).code == "A"


def test_multipolygon_with_a_hole():
    geometry = {
        "type": "MultiPolygon",
        "coordinates": [[square(0, 0, 300)], [square(2000, 0, 900), square(2300, 300, 300)]],
    }
    index = AreaIndex.from_features([("M", geometry), ("N", polygon(square(0, 1000, 300)))])
    assert index.locate(*at(150, 150)).code == "M"
    assert index.locate(*at(2100, 100)).code == "M"
    assert not index.locate(*at(2450, 450)).exact
    assert index.locate(*at(1100, 150)) is None
    assert index.locate(*at(150, 1150)).code == "N"
    assert len(index) == 2


def test_constructors_accept_db_rows_and_geojson_shapes():
    geometry = polygon(square(0, 0, 500))
    from_text = AreaIndex.from_features([("A", json.dumps(geometry)), ("31.71", None)])
    assert from_text.codes == {"A"}
    feature = {"type": "Feature", "properties": {"kode_kel": "A", "kelurahan": "x"}, "geometry": geometry}
    point = at(250, 250)
    for index in (
        from_text,
        AreaIndex.from_geojson({"type": "FeatureCollection", "features": [feature]}),
        AreaIndex.from_geojson(feature),
        AreaIndex.from_geojson([feature]),
        AreaIndex.from_geojson([{**feature, "properties": {"code": "A"}}], code_property="code"),
    ):
        assert index.locate(*point) == Location("A", 0.0, True)
    # Open rings are closed, and a third coordinate (altitude) is ignored.
    open_ring = [[x, y, 7.0] for x, y in square(0, 0, 500)[:-1]]
    assert AreaIndex.from_features([("A", polygon(open_ring))]).locate(*point).exact


def test_empty_index_finds_nothing():
    assert AreaIndex.from_features([]).locate(LAT0, LON0, max_distance_m=1e6) is None


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "Point", "coordinates": [106.8, -6.2]},
        {"type": "Polygon", "coordinates": [[[106.8, -6.2], [106.81, -6.2], [106.8, -6.2]]]},
        {"type": "Polygon", "coordinates": [[[106.8, -6.2], [106.81, -6.2], [math.nan, -6.19]]]},
        [1, 2],
    ],
)
def test_bad_geometry_is_refused(bad):
    with pytest.raises(ValueError):
        AreaIndex.from_features([("A", bad)])


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="kode_kel"):
        AreaIndex.from_geojson([{"type": "Feature", "properties": {}, "geometry": polygon(square(0, 0, 9))}])
    with pytest.raises(ValueError, match="FeatureCollection"):
        AreaIndex.from_geojson({"type": "Polygon"})
    with pytest.raises(ValueError, match="too big"):
        AreaIndex.from_features([("A", polygon([[0, -60], [170, -60], [170, 60]]))], cell_size_m=100)
    index = AreaIndex.from_features([("A", polygon(square(0, 0, 500)))])
    with pytest.raises(ValueError, match="finite"):
        index.locate(math.nan, LON0)
    with pytest.raises(ValueError, match="finite"):
        index.locate(LAT0, math.inf)
    with pytest.raises(ValueError, match="max_distance_m"):
        index.locate(LAT0, LON0, max_distance_m=-1)


def test_location_is_frozen():
    loc = Location("A", 0.0, True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        loc.code = "B"  # type: ignore[misc]


# ---- property test: random overlapping star-shaped polygons with holes, against brute force -----------


@st.composite
def star_areas(draw):
    """A few star-shaped polygons within 3 km of (LAT0, LON0); some with a hole, some sharing a code."""
    areas = []
    for _ in range(draw(st.integers(1, 5))):
        cx, cy = draw(st.floats(0, 3000)), draw(st.floats(0, 3000))
        size = draw(st.floats(30, 1500))
        n = draw(st.integers(3, 10))
        angles = sorted(
            draw(st.lists(st.floats(0, 2 * math.pi, exclude_max=True), min_size=n, max_size=n, unique=True))
        )
        radii = draw(st.lists(st.floats(0.6, 1.0), min_size=n, max_size=n))

        def ring(scale, angles=angles, radii=radii, cx=cx, cy=cy, size=size):
            pts = [
                at(cx + scale * r * size * math.cos(a), cy + scale * r * size * math.sin(a))
                for a, r in zip(angles, radii, strict=True)
            ]
            return [[lon, lat] for lat, lon in [*pts, pts[0]]]

        rings = [ring(1.0)]
        # A hole at most half the size fits inside: the outer ring never comes closer than 0.6.
        if draw(st.booleans()):
            rings.append(ring(draw(st.floats(0.1, 0.5))))
        areas.append((draw(st.sampled_from(["31.71.01.1001", "31.71.01.1002", "31.72.01.1001"])), rings))
    return areas


@settings(max_examples=150, deadline=None)
@given(
    areas=star_areas(),
    cell_size_m=st.sampled_from([25.0, 90.0, 150.0, 700.0]),
    max_distance_m=st.sampled_from([0.0, 50.0, 300.0, 2000.0]),
    points=st.lists(st.tuples(st.floats(-800, 3800), st.floats(-800, 3800)), min_size=1, max_size=30),
    vertex_picks=st.lists(st.integers(0, 10_000), max_size=5),
)
def test_grid_agrees_with_brute_force(areas, cell_size_m, max_distance_m, points, vertex_picks):
    rows = [(code, polygon(*rings)) for code, rings in areas]
    parts = _parts(rows)
    index = AreaIndex.from_features(rows, cell_size_m=cell_size_m)
    queries = [at(east, north) for east, north in points]
    vertices = [(lat, lon) for _, rings in areas for ring in rings for lon, lat in ring]
    queries += [vertices[k % len(vertices)] for k in vertex_picks]
    for lat, lon in queries:
        assert_same(index.locate(lat, lon, max_distance_m), reference_locate(parts, lat, lon, max_distance_m))


# ---- helpers --------------------------------------------------------------------------------------------


def test_in_jakarta_bbox():
    assert in_jakarta_bbox(-6.1754, 106.8272)
    assert in_jakarta_bbox(JAKARTA_BBOX.min_lat, JAKARTA_BBOX.max_lon)
    assert not in_jakarta_bbox(-6.9175, 107.6191)  # Bandung
    assert not in_jakarta_bbox(-6.5950, 106.8166)  # Bogor
    assert not in_jakarta_bbox(math.nan, 106.8)


def test_haversine():
    assert haversine_m(-6.2, 106.8, -6.2, 106.8) == 0.0
    assert haversine_m(0, 0, 1, 0) == pytest.approx(111_195, abs=1)
    # Monas to Bundaran HI is a little over 2 km.
    d = haversine_m(-6.1754, 106.8272, -6.1950, 106.8230)
    assert 2_100 < d < 2_300
    assert d == pytest.approx(haversine_m(-6.1950, 106.8230, -6.1754, 106.8272), rel=1e-12)
    assert haversine_m(0, 0, 0, 180) == pytest.approx(math.pi * 6_371_008.8, rel=1e-9)
