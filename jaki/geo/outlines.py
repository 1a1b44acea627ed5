"""Map outlines of Jakarta's areas: kelurahan simplified, kecamatan and kota dissolved from their kelurahan."""

from __future__ import annotations

import json
import logging
import math
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from sqlalchemy import select, update

from jaki.extensions import db
from jaki.geo.models import Area
from jaki.geo.operations import parent_codes

log = logging.getLogger(__name__)

# Degrees at Jakarta's latitude: 0.00001 deg is about 1.1 m.
# Douglas-Peucker tolerance per layer, about a pixel at the zoom each is drawn at (kelurahan ~11 m, kecamatan
# ~22 m, kota ~33 m). The imported kelurahan are already about 11 m coarse, so they keep their shape and
# their saving comes from dropping digits (13 decimals in the file, 5 here): 299, 125 and 70 kB per layer.
SIMPLIFY_DEG = {"kelurahan": 0.0001, "kecamatan": 0.0002, "kota": 0.0003}
GRID_DEG = 0.00001
PART_TOLERANCE = 0.02  # of the square root of a part's area
DECIMALS = 5
# The kelurahan were simplified one by one, so neighbours leave slivers between them (DOMAIN data README): a
# union alone gives a kecamatan hundreds of pin-holes. Growing by this much and shrinking back (a
# morphological closing) seals gaps up to about 45 m wide without moving the outer coastline or border.
CLOSE_DEG = 0.0002
# Holes still left after closing are wider gaps, never real: no kecamatan or kota of Jakarta surrounds
# another's land. The smallest kelurahan is far larger than this.
MIN_HOLE_DEG2 = 50_000 / (111_320.0**2)  # about 5 ha


def _polygonal(geometry) -> Polygon | MultiPolygon | None:
    """Only the areal part of a geometry (make_valid and set_precision may leave stray lines or points)."""
    if geometry.is_empty:
        return None
    if isinstance(geometry, Polygon | MultiPolygon):
        return geometry
    polygons = [g for g in getattr(geometry, "geoms", ()) if isinstance(g, Polygon | MultiPolygon)]
    if not polygons:
        return None
    return shapely.union_all(polygons)


def _closed(geometry):
    """The union with slivers between its parts sealed and small holes filled."""
    sealed = geometry.buffer(CLOSE_DEG, join_style="mitre").buffer(-CLOSE_DEG, join_style="mitre")
    parts = sealed.geoms if isinstance(sealed, MultiPolygon) else [sealed]
    kept = [
        Polygon(p.exterior, [ring for ring in p.interiors if Polygon(ring).area >= MIN_HOLE_DEG2])
        for p in parts
        if not p.is_empty
    ]
    return MultiPolygon(kept) if len(kept) > 1 else kept[0]


def _for_map(geometry, tolerance: float) -> dict[str, Any] | None:
    """A GeoJSON Polygon or MultiPolygon: simplified, on a 1 m grid, outer rings counter-clockwise (RFC 7946)."""
    # An islet of Kepulauan Seribu, a few hundred metres across, would become a triangle at the kota
    # tolerance: each part is simplified at most to a fraction of its own size. The union puts back together
    # parts that simplifying made touch.
    parts = geometry.geoms if isinstance(geometry, MultiPolygon) else [geometry]
    simplified = shapely.union_all(
        [p.simplify(min(tolerance, PART_TOLERANCE * math.sqrt(p.area)), preserve_topology=True) for p in parts]
    )
    # set_precision keeps the result valid where plain rounding could make rings cross.
    gridded = _polygonal(shapely.set_precision(simplified, GRID_DEG))
    if gridded is None:
        return None
    gridded = shapely.orient_polygons(gridded, exterior_cw=False)
    polygons = [
        [[[round(x, DECIMALS), round(y, DECIMALS)] for x, y in ring.coords] for ring in (p.exterior, *p.interiors)]
        for p in (gridded.geoms if isinstance(gridded, MultiPolygon) else [gridded])
    ]
    if len(polygons) == 1:
        return {"type": "Polygon", "coordinates": polygons[0]}
    return {"type": "MultiPolygon", "coordinates": polygons}


def derive_outlines(kelurahan: Iterable[tuple[str, Mapping[str, Any] | str]]) -> dict[str, dict[str, Any]]:
    """Map geometries by code for every kelurahan given (code, GeoJSON geometry) and the kecamatan and kota
    above them, each kecamatan the union of its kelurahan and each kota the union of its kecamatan."""
    shapes: dict[str, Any] = {}
    for code, geometry in kelurahan:
        parsed = _polygonal(shapely.make_valid(shape(json.loads(geometry) if isinstance(geometry, str) else geometry)))
        if parsed is not None:
            shapes[code] = parsed
    by_kecamatan: dict[str, list] = defaultdict(list)
    kota_of: dict[str, str] = {}
    for code, geometry in shapes.items():
        kecamatan_code, kota_of[kecamatan_code] = parent_codes(code)
        by_kecamatan[kecamatan_code].append(geometry)
    kecamatan = {code: _closed(shapely.union_all(parts)) for code, parts in by_kecamatan.items()}
    by_kota: dict[str, list] = defaultdict(list)
    for code, geometry in kecamatan.items():
        by_kota[kota_of[code]].append(geometry)
    kota = {code: _closed(shapely.union_all(parts)) for code, parts in by_kota.items()}
    outlines = {}
    for level, group in (("kelurahan", shapes), ("kecamatan", kecamatan), ("kota", kota)):
        for code, geometry in group.items():
            outline = _for_map(geometry, SIMPLIFY_DEG[level])
            if outline is not None:
                outlines[code] = outline
    return outlines


def store_outlines() -> str:
    """Derive every map outline from the stored kelurahan polygons and save those that changed; idempotent.

    `flask areas import` (and the demo import) run this after importing; GET /areas.geojson runs it once when
    outlines are missing (areas imported before outlines existed).
    """
    started = time.monotonic()
    rows = db.session.execute(
        select(Area.code, Area.geometry).where(Area.level == "kelurahan", Area.geometry.is_not(None))
    ).all()
    outlines = {code: json.dumps(outline, separators=(",", ":")) for code, outline in derive_outlines(rows).items()}
    stored = dict(db.session.execute(select(Area.code, Area.outline)).all())
    changed = {code: text for code, text in outlines.items() if code in stored and stored[code] != text}
    # An area whose kelurahan lost their polygons loses its outline rather than keep a stale one.
    cleared = {code: None for code, text in stored.items() if text is not None and code not in outlines}
    table = Area.__table__
    for code, text in sorted({**changed, **cleared}.items()):  # one order for all writers: no deadlock
        # Core UPDATE that keeps updated_at: an outline follows from the geometry, whose own change already
        # moved it, and a first fill must not make every process rebuild its routing index.
        db.session.execute(
            update(table).where(table.c.code == code).values(outline=text, updated_at=table.c.updated_at)
        )
    db.session.commit()
    seconds = round(time.monotonic() - started, 3)
    log.info("area outlines stored", extra={"outlines": len(outlines), "changed": len(changed), "seconds": seconds})
    summary = f"{len(outlines)} outlines: {len(changed)} stored, {len(outlines) - len(changed)} unchanged"
    return summary + (f", {len(cleared)} cleared" if cleared else "")
