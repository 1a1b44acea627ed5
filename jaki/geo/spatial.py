"""Point to kelurahan lookup over simplified boundary polygons, with a bounded nearest-boundary fallback."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean radius
M_PER_DEG = math.pi * EARTH_RADIUS_M / 180.0

# The polygons were simplified one by one and leave slivers between neighbours. Checked against the
# gap-free BPS 2019 boundaries, 95% of land points in no polygon lie within 250 m of one (median 31 m);
# 300 m catches those without reaching far into Tangerang, Depok or Bekasi.
DEFAULT_MAX_DISTANCE_M = 300.0
TIE_TOLERANCE_M = 1e-6
DEFAULT_CELL_SIZE_M = 150.0

# Slack when deciding which grid cells an edge touches, so rounding never drops an edge from a cell.
_CELL_EPS_DEG = 1e-9
# All of Jakarta at 150 m cells takes 0.4 million; this stops a world map at 150 m taking gigabytes.
_MAX_GRID_CELLS = 5_000_000


class BBox(NamedTuple):
    min_lat: float
    min_lon: float
    max_lat: float
    max_lon: float


# The data spans lat -6.373..-5.202, lon 106.390..106.973 (Kepulauan Seribu reaches furthest north and
# west); this keeps at least 2.7 km to spare on every side. jaki.geo.cells quantises over this box, so
# changing it changes every stored cell value.
JAKARTA_BBOX = BBox(-6.40, 106.30, -5.10, 107.05)


def in_jakarta_bbox(lat: float, lon: float) -> bool:
    b = JAKARTA_BBOX
    return b.min_lat <= lat <= b.max_lat and b.min_lon <= lon <= b.max_lon


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True, slots=True)
class Location:
    code: str
    distance_m: float
    exact: bool


_Ring = list[tuple[float, float]]  # (lon, lat), not repeating the first position at the end


def _parse_ring(raw: Any) -> _Ring:
    ring = [(float(p[0]), float(p[1])) for p in raw]
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring.pop()
    if len(ring) < 3:
        raise ValueError("a polygon ring needs at least 3 distinct positions")
    if not all(math.isfinite(x) and math.isfinite(y) for x, y in ring):
        raise ValueError("polygon coordinates must be finite numbers")
    return ring


def parse_geometry(geometry: Mapping[str, Any] | str) -> list[list[_Ring]]:
    """Polygons (each a list of rings, outer first) of a GeoJSON Polygon or MultiPolygon."""
    if isinstance(geometry, str):
        geometry = json.loads(geometry)
    if not isinstance(geometry, Mapping):
        raise ValueError("geometry must be a GeoJSON object")
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [coords]
    elif kind == "MultiPolygon":
        polygons = coords
    else:
        raise ValueError(f"unsupported geometry type {kind!r}: need Polygon or MultiPolygon")
    parsed = [[_parse_ring(ring) for ring in polygon] for polygon in polygons or ()]
    return [p for p in parsed if p]


class AreaIndex:
    """Which area contains a point, answered from a uniform grid built once per process.

    Each grid cell remembers the polygons fully covering it (answered without any geometry), the polygons
    whose edges cross it (tested with even-odd ray casting on only the edges in that grid row), and the
    edges themselves for the nearest-boundary search. The index is immutable, so threads may share it.
    """

    def __init__(self, areas: Iterable[tuple[str, list[list[_Ring]]]], cell_size_m: float = DEFAULT_CELL_SIZE_M):
        if not cell_size_m > 0:
            raise ValueError("cell_size_m must be positive")
        parts: list[tuple[str, list[_Ring]]] = [(code, rings) for code, polygons in areas for rings in polygons]
        self._codes = frozenset(code for code, _ in parts)
        lons = [x for _, rings in parts for ring in rings for x, _ in ring]
        lats = [y for _, rings in parts for ring in rings for _, y in ring]
        if not parts:
            lons, lats = [0.0], [0.0]
        mid_lat = (min(lats) + max(lats)) / 2
        self._ch = ch = cell_size_m / M_PER_DEG
        self._cw = cw = cell_size_m / (M_PER_DEG * math.cos(math.radians(mid_lat)))
        # A one-cell margin keeps every vertex strictly inside the grid.
        self._x0 = x0 = min(lons) - cw
        self._y0 = y0 = min(lats) - ch
        self._nx = nx = math.floor((max(lons) - x0) / cw) + 2
        self._ny = ny = math.floor((max(lats) - y0) / ch) + 2
        if nx * ny > _MAX_GRID_CELLS:
            raise ValueError(f"a {nx} x {ny} grid is too big: use a larger cell_size_m")

        edge_cells: dict[int, list[tuple[float, float, float, float, str]]] = {}
        crossing_parts: dict[int, set[int]] = {}
        # Per part and grid row, the non-horizontal edges whose latitude range meets that row: the only
        # edges a horizontal ray from a point in that row can cross.
        self._rows: list[dict[int, tuple[tuple[float, float, float, float], ...]]] = []
        for pid, (code, rings) in enumerate(parts):
            rows: dict[int, list[tuple[float, float, float, float]]] = {}
            for ring in rings:
                for n, (ax, ay) in enumerate(ring):
                    bx, by = ring[n - 1]
                    for k in self._cells_of_segment(ax, ay, bx, by):
                        edge_cells.setdefault(k, []).append((ax, ay, bx, by, code))
                        crossing_parts.setdefault(k, set()).add(pid)
                    if ay != by:
                        r0 = math.floor((min(ay, by) - y0) / ch)
                        r1 = math.floor((max(ay, by) - y0) / ch)
                        for r in range(r0, r1 + 1):
                            rows.setdefault(r, []).append((ax, ay, bx, by))
            self._rows.append({r: tuple(edges) for r, edges in rows.items()})

        # A cell no edge of a part crosses is wholly inside or wholly outside it, so testing the cell
        # centre decides; a scanline through each row's centres does that for a whole row at once.
        covering: dict[int, set[str]] = {}
        for pid, (code, _) in enumerate(parts):
            for r, edges in self._rows[pid].items():
                yc = y0 + (r + 0.5) * ch
                xs = sorted(
                    ax + (yc - ay) * (bx - ax) / (by - ay) for ax, ay, bx, by in edges if (ay > yc) != (by > yc)
                )
                for xa, xb in zip(xs[::2], xs[1::2], strict=True):
                    for i in range(max(0, math.floor((xa - x0) / cw)), min(nx, math.floor((xb - x0) / cw) + 1)):
                        if xa <= x0 + (i + 0.5) * cw < xb:
                            k = r * nx + i
                            if pid not in crossing_parts.get(k, ()):
                                covering.setdefault(k, set()).add(code)

        # Per cell: None (no polygon), a ready Location (the smallest code covers the whole cell), or
        # (Location, part ids to test) pairs in code order, ending at the first code covering the cell.
        self._cand: list[Any] = [None] * (nx * ny)
        exact = {code: Location(code, 0.0, True) for code in self._codes}
        for k in set(covering) | set(crossing_parts):
            by_code: dict[str, list[int]] = {code: [] for code in covering.get(k, ())}
            for pid in sorted(crossing_parts.get(k, ())):
                code = parts[pid][0]
                if code not in by_code or by_code[code]:
                    by_code.setdefault(code, []).append(pid)
            entries = []
            for code in sorted(by_code):
                entries.append((exact[code], tuple(by_code[code])))
                if not by_code[code]:
                    break
            self._cand[k] = entries[0][0] if not entries[0][1] else tuple(entries)
        self._edges: list[tuple[tuple[float, float, float, float, str], ...] | None] = [None] * (nx * ny)
        for k, edges in edge_cells.items():
            self._edges[k] = tuple(edges)

    @classmethod
    def from_features(
        cls,
        rows: Iterable[tuple[str, Mapping[str, Any] | str | None]],
        cell_size_m: float = DEFAULT_CELL_SIZE_M,
    ) -> AreaIndex:
        """From (code, GeoJSON geometry as dict or JSON text) pairs; rows without geometry are skipped."""
        return cls(
            ((str(code), parse_geometry(geometry)) for code, geometry in rows if geometry is not None),
            cell_size_m=cell_size_m,
        )

    @classmethod
    def from_geojson(
        cls,
        obj_or_features: Mapping[str, Any] | Iterable[Mapping[str, Any]],
        code_property: str = "kode_kel",
        cell_size_m: float = DEFAULT_CELL_SIZE_M,
    ) -> AreaIndex:
        """From a FeatureCollection, a single Feature or an iterable of Features."""
        if isinstance(obj_or_features, Mapping):
            if obj_or_features.get("type") == "FeatureCollection":
                features: Iterable[Mapping[str, Any]] = obj_or_features["features"]
            elif obj_or_features.get("type") == "Feature":
                features = [obj_or_features]
            else:
                raise ValueError("expected a GeoJSON FeatureCollection or Feature")
        else:
            features = obj_or_features
        rows = []
        for feature in features:
            code = (feature.get("properties") or {}).get(code_property)
            if code is None:
                raise ValueError(f"feature without the {code_property!r} property")
            rows.append((code, feature.get("geometry")))
        return cls.from_features(rows, cell_size_m=cell_size_m)

    @property
    def codes(self) -> frozenset[str]:
        return self._codes

    def __len__(self) -> int:
        return len(self._codes)

    def _cells_of_segment(self, ax: float, ay: float, bx: float, by: float) -> list[int]:
        x0, y0, cw, ch, nx = self._x0, self._y0, self._cw, self._ch, self._nx
        e = _CELL_EPS_DEG
        i0 = math.floor((min(ax, bx) - e - x0) / cw)
        i1 = math.floor((max(ax, bx) + e - x0) / cw)
        j0 = math.floor((min(ay, by) - e - y0) / ch)
        j1 = math.floor((max(ay, by) + e - y0) / ch)
        if i0 == i1 and j0 == j1:
            return [j0 * nx + i0]
        dx, dy = bx - ax, by - ay
        found = []
        for j in range(j0, j1 + 1):
            ya, yb = y0 + j * ch - e, y0 + (j + 1) * ch + e
            for i in range(i0, i1 + 1):
                xa, xb = x0 + i * cw - e, x0 + (i + 1) * cw + e
                # The segment's bbox meets the cell, so it misses the cell only if all four corners lie
                # strictly on one side of its line.
                sides = [dx * (cy - ay) - dy * (cx - ax) for cx in (xa, xb) for cy in (ya, yb)]
                if not (min(sides) > 0 or max(sides) < 0):
                    found.append(j * nx + i)
        return found

    def locate(self, lat: float, lon: float, max_distance_m: float = DEFAULT_MAX_DISTANCE_M) -> Location | None:
        """The area containing the point (smallest code if several), else the one whose boundary is nearest
        within max_distance_m (ties within TIE_TOLERANCE_M go to the smallest code), else None."""
        if not (math.isfinite(lat) and math.isfinite(lon)):
            raise ValueError("lat and lon must be finite numbers")
        if not max_distance_m >= 0:
            raise ValueError("max_distance_m must be >= 0")
        fx = (lon - self._x0) / self._cw
        fy = (lat - self._y0) / self._ch
        ix = math.floor(fx)
        iy = math.floor(fy)
        if 0 <= ix < self._nx and 0 <= iy < self._ny:
            cand = self._cand[iy * self._nx + ix]
            if cand.__class__ is Location:
                return cand
            if cand is not None:
                for loc, pids in cand:
                    if not pids:
                        return loc
                    for pid in pids:
                        inside = False
                        for ax, ay, bx, by in self._rows[pid].get(iy, ()):
                            if (ay > lat) != (by > lat) and lon < ax + (lat - ay) * (bx - ax) / (by - ay):
                                inside = not inside
                        if inside:
                            return loc
        return self._nearest(lat, lon, fx - ix, fy - iy, ix, iy, max_distance_m)

    def _nearest(self, lat: float, lon: float, ox: float, oy: float, ix: int, iy: int, max_d: float) -> Location | None:
        kx = M_PER_DEG * math.cos(math.radians(lat))
        ky = M_PER_DEG
        nx, ny = self._nx, self._ny
        cwm = self._cw * kx
        chm = self._ch * ky
        edx = min(ox, 1.0 - ox) * cwm
        edy = min(oy, 1.0 - oy) * chm
        # Beyond this ring every cell lies outside the grid.
        last_ring = max(ix, nx - 1 - ix, iy, ny - 1 - iy)
        cells = self._edges
        best: dict[str, float] = {}
        limit = max_d
        k = 0
        while k <= last_ring:
            if k and min((k - 1) * cwm + edx, (k - 1) * chm + edy) > limit:
                break
            # The ring of cells k steps away, clipped to the grid.
            i0, i1 = max(ix - k, 0), min(ix + k, nx - 1)
            j0, j1 = max(iy - k + 1, 0), min(iy + k - 1, ny - 1)
            ring = [j * nx + i for j in {iy - k, iy + k} if 0 <= j < ny for i in range(i0, i1 + 1)]
            ring += [j * nx + i for i in {ix - k, ix + k} if 0 <= i < nx for j in range(j0, j1 + 1)]
            for cell in ring:
                edges = cells[cell]
                if edges is None:
                    continue
                for ax, ay, bx, by, code in edges:
                    ax = (ax - lon) * kx
                    ay = (ay - lat) * ky
                    dx = (bx - lon) * kx - ax
                    dy = (by - lat) * ky - ay
                    seg2 = dx * dx + dy * dy
                    t = 0.0 if seg2 == 0 else min(1.0, max(0.0, -(ax * dx + ay * dy) / seg2))
                    d = math.hypot(ax + t * dx, ay + t * dy)
                    if d <= max_d and d < best.get(code, math.inf):
                        best[code] = d
                        if d + TIE_TOLERANCE_M < limit:
                            limit = d + TIE_TOLERANCE_M
            k += 1
        if not best:
            return None
        nearest = min(best.values())
        code = min(c for c, d in best.items() if d <= nearest + TIE_TOLERANCE_M)
        return Location(code, best[code], False)
