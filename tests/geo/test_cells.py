"""Z-order cells: every point of a queried box or circle lands in the returned ranges, which stay few and tight."""

from __future__ import annotations

import bisect
import itertools
import math
import random
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaki.geo.cells import CELL_BITS, MAX_CELL, cell_bounds, cell_of, ranges_for_bbox, ranges_for_radius
from jaki.geo.spatial import EARTH_RADIUS_M, JAKARTA_BBOX, M_PER_DEG, haversine_m

B = JAKARTA_BBOX
N = 1 << CELL_BITS

# Query centres range a little beyond Jakarta so clamping at the grid edge gets exercised.
lats = st.floats(B.min_lat - 0.05, B.max_lat + 0.05)
lons = st.floats(B.min_lon - 0.05, B.max_lon + 0.05)
fractions = st.floats(0, 1)


def covered(ranges: list[tuple[int, int]], cell: int) -> bool:
    n = bisect.bisect_right(ranges, (cell, MAX_CELL)) - 1
    return n >= 0 and ranges[n][0] <= cell <= ranges[n][1]


def check_shape(ranges: list[tuple[int, int]], max_ranges: int) -> None:
    assert 1 <= len(ranges) <= max_ranges
    for lo, hi in ranges:
        assert 0 <= lo <= hi <= MAX_CELL
    for (_, hi), (lo, _) in itertools.pairwise(ranges):
        assert hi + 1 < lo  # sorted, disjoint, and adjacent ones merged


def size(ranges: list[tuple[int, int]]) -> int:
    return sum(hi - lo + 1 for lo, hi in ranges)


def grid_xy(lat: float, lon: float) -> tuple[int, int]:
    """Column and row of a point, read back from its cell."""
    min_lat, min_lon, _, _ = cell_bounds(cell_of(lat, lon))
    return round((min_lon - B.min_lon) / (B.max_lon - B.min_lon) * N), round(
        (min_lat - B.min_lat) / (B.max_lat - B.min_lat) * N
    )


def quadtree_bound(x0: int, y0: int, x1: int, y1: int, max_ranges: int) -> int:
    """Cells covered by the cheapest single-level quadtree cover of a cell rectangle within max_ranges.

    The aligned 2^L-sided nodes meeting the rectangle are each one contiguous cell range, so they are a
    valid answer whenever there are at most max_ranges of them. ranges_for_bbox refines at least that far
    before choosing which gaps to bridge, and bridging the smallest gaps is optimal, so it can never cover
    more than the best such level.
    """
    best = math.inf
    for level in range(CELL_BITS + 1):
        nodes = ((x1 >> level) - (x0 >> level) + 1) * ((y1 >> level) - (y0 >> level) + 1)
        if nodes <= max_ranges:
            best = min(best, nodes << (2 * level))
    return best


# ---- cell_of ---------------------------------------------------------------------------------------------


def test_cell_numbers_span_the_bbox_and_fit_in_int64():
    assert cell_of(B.min_lat, B.min_lon) == 0
    assert cell_of(B.max_lat, B.max_lon) == MAX_CELL
    assert MAX_CELL == 4**CELL_BITS - 1 < 2**63 - 1


def test_cells_are_20_to_40_metres():
    min_lat, min_lon, max_lat, max_lon = cell_bounds(cell_of(-6.2, 106.8))
    north_south = haversine_m(min_lat, min_lon, max_lat, min_lon)
    east_west = haversine_m(min_lat, min_lon, min_lat, max_lon)
    assert 20 <= east_west <= north_south <= 40, (east_west, north_south)


def test_outside_points_clamp_to_the_edge_cells():
    assert cell_of(-90, 0) == 0
    assert cell_of(10, 180) == MAX_CELL
    assert cell_of(-6.2, 100) == cell_of(-6.2, B.min_lon)


@pytest.mark.parametrize("bad", [(math.nan, 106.8), (-6.2, math.inf)])
def test_cell_of_refuses_non_numbers(bad):
    with pytest.raises(ValueError, match="finite"):
        cell_of(*bad)


@given(lat=st.floats(B.min_lat, B.max_lat), lon=st.floats(B.min_lon, B.max_lon))
def test_a_cell_contains_its_points(lat, lon):
    min_lat, min_lon, max_lat, max_lon = cell_bounds(cell_of(lat, lon))
    slack = 1e-9
    assert min_lat - slack <= lat <= max_lat + slack
    assert min_lon - slack <= lon <= max_lon + slack


def test_neighbouring_cells_differ_in_the_low_bits():
    # Z-order: the four cells of any aligned 2 x 2 block are consecutive numbers.
    base = cell_of(-6.2, 106.8) & ~3
    min_lat, min_lon, _, _ = cell_bounds(base)
    d_lat, d_lon = (B.max_lat - B.min_lat) / N, (B.max_lon - B.min_lon) / N
    block = {cell_of(min_lat + (j + 0.5) * d_lat, min_lon + (i + 0.5) * d_lon) for i in (0, 1) for j in (0, 1)}
    assert block == {base, base + 1, base + 2, base + 3}


# ---- ranges_for_bbox -------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    lat=lats,
    lon=lons,
    height_m=st.one_of(st.floats(0, 200), st.floats(0, 30_000)),
    width_m=st.one_of(st.floats(0, 200), st.floats(0, 30_000)),
    max_ranges=st.one_of(st.just(32), st.integers(1, 64)),
    points=st.lists(st.tuples(fractions, fractions), max_size=40),
)
def test_bbox_ranges_cover_every_point_and_stay_few(lat, lon, height_m, width_m, max_ranges, points):
    max_lat = lat + height_m / M_PER_DEG
    max_lon = lon + width_m / (M_PER_DEG * math.cos(math.radians(lat)))
    ranges = ranges_for_bbox(lat, lon, max_lat, max_lon, max_ranges=max_ranges)
    check_shape(ranges, max_ranges)
    corners = [(a, b) for a in (0.0, 1.0) for b in (0.0, 1.0)]
    for f_lat, f_lon in points + corners:
        p_lat = min(max_lat, lat + f_lat * (max_lat - lat))
        p_lon = min(max_lon, lon + f_lon * (max_lon - lon))
        assert covered(ranges, cell_of(p_lat, p_lon))
    x0, y0 = grid_xy(lat, lon)
    x1, y1 = grid_xy(max_lat, max_lon)
    touched = (x1 - x0 + 1) * (y1 - y0 + 1)
    assert touched <= size(ranges) <= quadtree_bound(x0, y0, x1, y1, max_ranges)
    if max_ranges >= 25:
        # At 25 ranges or more a level whose nodes are at most half the longer side qualifies (at most
        # 5 x 5 of them meet the box), so no box ever costs more than 6.25 squares of its longer side.
        assert size(ranges) <= 6.25 * max(x1 - x0 + 1, y1 - y0 + 1) ** 2


def test_bbox_over_coverage_is_small_in_practice():
    # The provable bound above is loose; measured over 200 boxes from 100 m to 10 km wide, 32 ranges
    # cover at most 1.2x the cells the box touches (deterministic sample, so this is not flaky).
    rnd = random.Random(11)
    ratios = []
    for _ in range(200):
        lat, lon = rnd.uniform(-6.35, -6.1), rnd.uniform(106.7, 106.95)
        side_m = 10 ** rnd.uniform(2, 4)
        max_lat = lat + side_m / M_PER_DEG
        max_lon = lon + side_m / (M_PER_DEG * math.cos(math.radians(lat)))
        ranges = ranges_for_bbox(lat, lon, max_lat, max_lon)
        (x0, y0), (x1, y1) = grid_xy(lat, lon), grid_xy(max_lat, max_lon)
        ratios.append(size(ranges) / ((x1 - x0 + 1) * (y1 - y0 + 1)))
    assert max(ratios) < 1.3
    assert sum(ratios) / len(ratios) < 1.15


def test_bbox_special_cases():
    assert ranges_for_bbox(*B) == [(0, MAX_CELL)]
    assert ranges_for_bbox(-10, 100, 0, 110) == [(0, MAX_CELL)]
    cell = cell_of(-6.2, 106.8)
    assert ranges_for_bbox(-6.2, 106.8, -6.2, 106.8) == [(cell, cell)]
    assert len(ranges_for_bbox(-6.3, 106.7, -6.1, 106.9, max_ranges=1)) == 1
    # A box wholly north of Jakarta still finds the points in it, which are clamped to the top row.
    north = ranges_for_bbox(0, 106.5, 1, 106.6)
    assert covered(north, cell_of(0.5, 106.55)) and covered(north, cell_of(B.max_lat, 106.55))
    assert not covered(north, cell_of(-6.2, 106.55))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((-6.1, 106.8, -6.2, 106.9), "empty box"),
        ((-6.2, 106.9, -6.1, 106.8), "empty box"),
        ((math.nan, 106.8, -6.1, 106.9), "finite"),
    ],
)
def test_bbox_refuses_bad_boxes(args, message):
    with pytest.raises(ValueError, match=message):
        ranges_for_bbox(*args)
    with pytest.raises(ValueError, match="max_ranges"):
        ranges_for_bbox(-6.2, 106.8, -6.1, 106.9, max_ranges=0)


# ---- ranges_for_radius -----------------------------------------------------------------------------------


def destination(lat: float, lon: float, bearing: float, distance_m: float) -> tuple[float, float]:
    a = distance_m / EARTH_RADIUS_M
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(a) + math.cos(p1) * math.sin(a) * math.cos(bearing))
    l2 = l1 + math.atan2(math.sin(bearing) * math.sin(a) * math.cos(p1), math.cos(a) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), math.degrees(l2)


@settings(max_examples=300, deadline=None)
@given(
    lat=lats,
    lon=lons,
    radius_m=st.one_of(st.floats(0, 300), st.floats(0, 30_000), st.floats(40_000, 120_000)),
    max_ranges=st.one_of(st.just(32), st.integers(1, 64)),
    points=st.lists(st.tuples(st.floats(0, 2 * math.pi), st.one_of(fractions, st.just(1.0))), max_size=40),
)
def test_radius_ranges_cover_every_point_within_the_radius(lat, lon, radius_m, max_ranges, points):
    ranges = ranges_for_radius(lat, lon, radius_m, max_ranges=max_ranges)
    check_shape(ranges, max_ranges)
    assert covered(ranges, cell_of(lat, lon))
    # Bearings along the axes reach the circle's extreme latitude and (nearly) longitude.
    axes = [(k * math.pi / 2, 1.0) for k in range(4)]
    for bearing, fraction in points + axes:
        p_lat, p_lon = destination(lat, lon, bearing, fraction * radius_m)
        if haversine_m(lat, lon, p_lat, p_lon) > radius_m:
            continue  # rounding put a point meant for the rim just outside
        assert covered(ranges, cell_of(p_lat, p_lon)), (p_lat, p_lon)


def test_radius_over_coverage_is_small_in_practice():
    # Cells are about 35 x 20 m, so tiny circles are dominated by whole cells; from 500 m up the 32
    # ranges cover well under 1.3x the circle (measured: at most 1.2x over this deterministic sample).
    rnd = random.Random(12)
    for radius_m in (500, 1_000, 5_000, 20_000):
        for _ in range(25):
            lat, lon = rnd.uniform(-6.3, -6.15), rnd.uniform(106.75, 106.9)
            min_lat, min_lon, max_lat, max_lon = cell_bounds(cell_of(lat, lon))
            cell_area = (max_lat - min_lat) * M_PER_DEG * (max_lon - min_lon) * M_PER_DEG * math.cos(math.radians(lat))
            ranges = ranges_for_radius(lat, lon, radius_m)
            assert size(ranges) * cell_area < 1.3 * math.pi * radius_m**2


def test_radius_special_cases():
    cell = cell_of(-6.2, 106.8)
    assert ranges_for_radius(-6.2, 106.8, 0) == [(cell, cell)]
    assert ranges_for_radius(-6.2, 106.8, 1_000_000) == [(0, MAX_CELL)]
    with pytest.raises(ValueError, match="radius_m"):
        ranges_for_radius(-6.2, 106.8, -1)
    with pytest.raises(ValueError, match="finite"):
        ranges_for_radius(-6.2, 106.8, math.inf)
    with pytest.raises(ValueError, match="lat"):
        ranges_for_radius(90, 106.8, 10)


# ---- what it is for: a B-tree range scan in SQL -----------------------------------------------------------


def test_sqlite_finds_the_same_reports_as_a_full_scan():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE reports (id INTEGER PRIMARY KEY, lat REAL, lon REAL, cell INTEGER NOT NULL)")
    db.execute("CREATE INDEX reports_cell ON reports (cell)")
    rnd = random.Random(13)
    rows = []
    for n in range(5_000):
        lat, lon = rnd.uniform(-6.37, -6.08), rnd.uniform(106.69, 106.97)
        rows.append((n, lat, lon, cell_of(lat, lon)))
    db.executemany("INSERT INTO reports VALUES (?, ?, ?, ?)", rows)

    def near(lat: float, lon: float, radius_m: float) -> set[int]:
        ranges = ranges_for_radius(lat, lon, radius_m)
        where = " OR ".join("cell BETWEEN ? AND ?" for _ in ranges)
        sql = f"SELECT id, lat, lon FROM reports WHERE {where}"  # noqa: S608 - only placeholders are joined
        params = [v for r in ranges for v in r]
        plan = " ".join(str(row) for row in db.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert "reports_cell" in plan
        return {i for i, a, o in db.execute(sql, params) if haversine_m(lat, lon, a, o) <= radius_m}

    for lat, lon, radius_m in [(-6.1754, 106.8272, 1_500), (-6.3, 106.85, 800), (-6.2, 106.9, 5_000)]:
        expected = {n for n, a, o, _ in rows if haversine_m(lat, lon, a, o) <= radius_m}
        assert expected
        assert near(lat, lon, radius_m) == expected
