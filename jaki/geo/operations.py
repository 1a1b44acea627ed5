"""Importing Jakarta's areas and its neighbours' outlines; routing a point to its kelurahan (or saying whose land
it is on) through a per-process spatial index rebuilt when either table changes."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from jaki.db import utcnow
from jaki.extensions import db
from jaki.geo.models import Area, NeighbourRegion
from jaki.geo.spatial import AreaIndex, in_jakarta_bbox, parse_geometry
from jaki.settings import setting

log = logging.getLogger(__name__)

PROVINCE_CODE = "31"
_REQUIRED_PROPERTIES = ("kode_kel", "kelurahan", "kode_kec", "kecamatan", "kode_kota", "kota")


@dataclass(frozen=True, slots=True)
class Routing:
    """Where a point belongs. kelurahan_code is None outside Jakarta; region_* then name the neighbour whose land
    the point is on (None at sea, or further away)."""

    kelurahan_code: str | None
    kecamatan_code: str | None
    kota_code: str | None
    distance_m: float | None = None
    exact: bool = False
    region_code: str | None = None
    region_name: str | None = None

    @property
    def routed(self) -> bool:
        return self.kelurahan_code is not None


UNROUTED = Routing(None, None, None)


def parent_codes(kelurahan_code: str) -> tuple[str, str]:
    """(kecamatan, kota) of a dotted Kemendagri kelurahan code: 31.74.05.1001 -> (31.74.05, 31.74)."""
    parts = kelurahan_code.split(".")
    if len(parts) != 4:
        raise ValueError(f"not a kelurahan code: {kelurahan_code!r}")
    return ".".join(parts[:3]), ".".join(parts[:2])


# ---- import -------------------------------------------------------------------------------------------


class AreaFileInvalid(ValueError):
    """The areas file is not a FeatureCollection of kelurahan with the expected properties."""


def _bbox(geometry: Mapping[str, Any]) -> tuple[float, float, float, float]:
    """The box of a kelurahan's polygons, read as the routing index will read them (so it refuses the same)."""
    try:
        polygons = parse_geometry(geometry)
    except (TypeError, ValueError, IndexError) as exc:
        raise AreaFileInvalid(f"malformed geometry: {exc}") from None
    if not polygons:
        raise AreaFileInvalid("empty geometry")
    lons = [x for polygon in polygons for ring in polygon for x, _y in ring]
    lats = [y for polygon in polygons for ring in polygon for _x, y in ring]
    return min(lats), min(lons), max(lats), max(lons)


def _union(boxes: Iterable[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    boxes = list(boxes)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _kota_level(code: str, name: str) -> str:
    return "kabupaten" if name.lower().startswith("kabupaten") else "kota"


def _rows_from_features(features: list) -> list[dict]:
    """Area rows (province, kota, kecamatan, kelurahan) derived from kelurahan features."""
    kelurahan: dict[str, dict] = {}
    kecamatan: dict[str, dict] = {}
    kota: dict[str, dict] = {}
    province_name = None
    for n, feature in enumerate(features):
        if not isinstance(feature, Mapping):
            raise AreaFileInvalid(f"feature {n} is not an object")
        props = feature.get("properties") or {}
        missing = [p for p in _REQUIRED_PROPERTIES if not props.get(p)]
        if missing:
            raise AreaFileInvalid(f"feature {n} lacks {', '.join(missing)}")
        geometry = feature.get("geometry")
        if not isinstance(geometry, Mapping):
            raise AreaFileInvalid(f"feature {n} has no geometry")
        code = str(props["kode_kel"])
        try:
            kec_code, kota_code = parent_codes(code)
        except ValueError:
            raise AreaFileInvalid(f"feature {n}: {code!r} is not a dotted kelurahan code") from None
        if kec_code != props["kode_kec"] or kota_code != props["kode_kota"]:
            raise AreaFileInvalid(f"feature {n}: {code} does not lie under {props['kode_kec']}/{props['kode_kota']}")
        if not code.startswith(PROVINCE_CODE + "."):
            raise AreaFileInvalid(f"feature {n}: {code} is not in DKI Jakarta ({PROVINCE_CODE})")
        province_name = province_name or props.get("provinsi")
        box = _bbox(geometry)
        kelurahan[code] = {
            "code": code,
            "level": "kelurahan",
            "name": str(props["kelurahan"]),
            "parent_code": kec_code,
            "bps_code": props.get("kode_bps_kel"),
            "geometry": json.dumps(geometry, separators=(",", ":")),
            "box": box,
        }
        kec = kecamatan.setdefault(
            kec_code,
            {
                "code": kec_code,
                "level": "kecamatan",
                "name": str(props["kecamatan"]),
                "parent_code": kota_code,
                "bps_code": props.get("kode_bps_kec"),
                "geometry": None,
                "boxes": [],
            },
        )
        kec["boxes"].append(box)
        kt = kota.setdefault(
            kota_code,
            {
                "code": kota_code,
                "level": _kota_level(kota_code, str(props["kota"])),
                "name": str(props["kota"]),
                "parent_code": PROVINCE_CODE,
                "bps_code": props.get("kode_bps_kota"),
                "geometry": None,
                "boxes": [],
            },
        )
        kt["boxes"].append(box)
    if not kelurahan:
        raise AreaFileInvalid("no kelurahan features")
    for group in (kecamatan, kota):
        for row in group.values():
            row["box"] = _union(row.pop("boxes"))
    province = {
        "code": PROVINCE_CODE,
        "level": "provinsi",
        "name": province_name or "DKI Jakarta",
        "parent_code": None,
        "bps_code": PROVINCE_CODE,
        "geometry": None,
        "box": _union(r["box"] for r in kota.values()),
    }
    return [province, *kota.values(), *kecamatan.values(), *kelurahan.values()]


def import_areas(path: str | Path) -> str:
    """Load province, kota, kecamatan and kelurahan from a kelurahan GeoJSON file; idempotent.

    Unchanged rows are left alone (so their updated_at, and the routing index's version, stay as they are).
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AreaFileInvalid(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, Mapping) or data.get("type") != "FeatureCollection":
        raise AreaFileInvalid("expected a GeoJSON FeatureCollection")
    rows = _rows_from_features(list(data.get("features") or []))
    existing = {a.code: a for a in db.session.scalars(select(Area).where(Area.code.in_([r["code"] for r in rows])))}
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    levels: dict[str, int] = {}
    for row in rows:
        levels[row["level"]] = levels.get(row["level"], 0) + 1
        min_lat, min_lon, max_lat, max_lon = row["box"]
        values = {
            "level": row["level"],
            "name": row["name"],
            "parent_code": row["parent_code"],
            "bps_code": row["bps_code"],
            "geometry": row["geometry"],
            "min_lat": min_lat,
            "min_lon": min_lon,
            "max_lat": max_lat,
            "max_lon": max_lon,
        }
        area = existing.get(row["code"])
        if area is None:
            db.session.add(Area(code=row["code"], **values))
            counts["created"] += 1
        elif any(getattr(area, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(area, k, v)
            area.updated_at = utcnow()
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    db.session.commit()
    order = ("provinsi", "kabupaten", "kota", "kecamatan", "kelurahan")
    per_level = ", ".join(f"{levels[lv]} {lv}" for lv in order if lv in levels)
    return f"{per_level}: {counts['created']} created, {counts['updated']} updated, {counts['unchanged']} unchanged"


# ---- neighbours ---------------------------------------------------------------------------------------

_NEIGHBOUR_PROPERTIES = ("kode", "nama", "kode_prov")


def import_neighbours(path: str | Path) -> str:
    """Load the outlines of the kota/kabupaten around Jakarta (properties kode, nama, kode_prov); idempotent.

    The file is the whole set: a region it no longer holds is removed. Unchanged rows are left alone.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AreaFileInvalid(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, Mapping) or data.get("type") != "FeatureCollection":
        raise AreaFileInvalid("expected a GeoJSON FeatureCollection")
    rows: dict[str, dict] = {}
    for n, feature in enumerate(data.get("features") or []):
        props = feature.get("properties") if isinstance(feature, Mapping) else None
        if not isinstance(props, Mapping) or any(not props.get(p) for p in _NEIGHBOUR_PROPERTIES):
            raise AreaFileInvalid(f"feature {n} lacks one of {', '.join(_NEIGHBOUR_PROPERTIES)}")
        code = str(props["kode"])
        if code.split(".")[0] == PROVINCE_CODE:
            raise AreaFileInvalid(f"feature {n}: {code} is in DKI Jakarta, not a neighbour")
        geometry = feature.get("geometry")
        if not isinstance(geometry, Mapping):
            raise AreaFileInvalid(f"feature {n} has no geometry")
        min_lat, min_lon, max_lat, max_lon = _bbox(geometry)
        rows[code] = {
            "name": str(props["nama"]),
            "province_code": str(props["kode_prov"]),
            "geometry": json.dumps(geometry, separators=(",", ":")),
            "min_lat": min_lat,
            "min_lon": min_lon,
            "max_lat": max_lat,
            "max_lon": max_lon,
        }
    if not rows:
        raise AreaFileInvalid("no neighbour features")
    counts = {"created": 0, "updated": 0, "unchanged": 0, "removed": 0}
    for region in db.session.scalars(select(NeighbourRegion)):
        values = rows.pop(region.code, None)
        if values is None:
            db.session.delete(region)
            counts["removed"] += 1
        elif any(getattr(region, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(region, k, v)
            region.updated_at = utcnow()
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    for code, values in rows.items():
        db.session.add(NeighbourRegion(code=code, **values))
        counts["created"] += 1
    db.session.commit()
    return "neighbour regions: " + ", ".join(f"{n} {what}" for what, n in counts.items())


# ---- routing ------------------------------------------------------------------------------------------


class _Kept:
    """One value a process keeps between requests, the version of the tables it was built from, and when that
    version was last read."""

    __slots__ = ("checked_at", "lock", "value", "version")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.value: Any = None
        self.version: tuple | None = None
        self.checked_at = float("-inf")


def kept_by_version(key: str, version_of, build, *, refresh: bool = False):
    """What `build()` made from the areas tables, kept by this process under app.extensions[key].

    `version_of()` (a few table_version() reads) is read again at most every AREA_INDEX_CHECK_SECONDS, or at once
    with `refresh` (a caller that met a code the value lacks); `build()` runs again only when the version changed.
    Every process notices an import by itself within that interval: nothing is shared in memory between them."""
    extensions = current_app.extensions
    holder = extensions.get(key)
    if holder is None:
        holder = extensions.setdefault(key, _Kept())
    every = setting("AREA_INDEX_CHECK_SECONDS")
    if holder.value is not None and not refresh and time.monotonic() - holder.checked_at < every:
        return holder.value
    with holder.lock:
        if holder.value is not None and not refresh and time.monotonic() - holder.checked_at < every:
            return holder.value  # another thread read it while this one waited
        version = version_of()
        if holder.value is None or version != holder.version:
            holder.value = build()
            holder.version = version
        holder.checked_at = time.monotonic()
        return holder.value


def forget_kept_areas(app=None) -> None:
    """Drop what this process keeps of the areas (every kept_by_version value: the routing indexes, the names): the
    next use reads them again.
    Processes notice an import by themselves, within AREA_INDEX_CHECK_SECONDS; tests that change the areas say so."""
    extensions = (app or current_app).extensions
    for key in [key for key, value in extensions.items() if isinstance(value, _Kept)]:
        del extensions[key]


def table_version(model, *where) -> tuple:
    """A table's rows as (count, latest updated_at): it changes with any import, insert, update or delete."""
    count, latest = db.session.execute(
        select(func.count(), func.max(model.updated_at)).select_from(model).where(*where)
    ).one()
    return count, latest.isoformat() if hasattr(latest, "isoformat") else latest


# The neighbours' outlines reach 60 km from Jakarta (Kabupaten Bogor): a coarser grid is plenty for them.
_NEIGHBOUR_CELL_M = 250.0


@dataclass(frozen=True, slots=True)
class Indexes:
    """The kelurahan index, the neighbours' index and the neighbours' names, built together."""

    index: AreaIndex
    neighbours: AreaIndex
    neighbour_names: dict[str, str]


def _indexes_version() -> tuple:
    return table_version(Area, Area.level == "kelurahan"), table_version(NeighbourRegion)


def _build_indexes() -> Indexes:
    started = time.monotonic()
    rows = db.session.execute(select(Area.code, Area.geometry).where(Area.level == "kelurahan")).all()
    index = AreaIndex.from_features((code, geometry) for code, geometry in rows)
    regions = db.session.execute(select(NeighbourRegion.code, NeighbourRegion.name, NeighbourRegion.geometry)).all()
    neighbours = AreaIndex.from_features(
        ((code, geometry) for code, _name, geometry in regions), cell_size_m=_NEIGHBOUR_CELL_M
    )
    log.info(
        "area index built",
        extra={"kelurahan": len(index), "neighbours": len(neighbours), "seconds": round(time.monotonic() - started, 3)},
    )
    return Indexes(index, neighbours, {code: name for code, name, _geometry in regions})


_INDEXES = "jaki.area_index"  # in app.extensions


def _indexes() -> Indexes:
    """This process's indexes (kept_by_version)."""
    return kept_by_version(_INDEXES, _indexes_version, _build_indexes)


def area_index() -> AreaIndex:
    """This process's kelurahan index."""
    return _indexes().index


def locate(lat: float, lon: float) -> Routing:
    """The kelurahan (and its kecamatan and kota) of a point; outside Jakarta, the neighbour whose land it is on.

    Inside a kelurahan polygon: that kelurahan (where a neighbour's coarse outline overlaps, the polygon wins).
    In no polygon, on or within AREA_NEIGHBOUR_MARGIN_M of a neighbour's outline (Jakarta's land border): that
    neighbour, unless a kelurahan lies within AREA_BORDER_TOLERANCE_M. In no polygon away from the neighbours
    (the coast, the Tanjung Priok piers, the islands' shores, slivers between kelurahan): the nearest kelurahan
    within AREA_MAX_GAP_M (ties to the smallest code, as AreaIndex decides). Beyond that: outside (at sea).
    """
    indexes = _indexes()
    max_gap = float(setting("AREA_MAX_GAP_M"))
    found = indexes.index.locate(lat, lon, max_distance_m=max_gap) if in_jakarta_bbox(lat, lon) else None
    if found is not None and found.exact:
        return _routed(found)
    margin = float(setting("AREA_NEIGHBOUR_MARGIN_M"))
    # Containing it, else the nearest within the margin (AreaIndex answers both in one call).
    region = indexes.neighbours.locate(lat, lon, max_distance_m=margin)
    if found is not None and (region is None or found.distance_m <= float(setting("AREA_BORDER_TOLERANCE_M"))):
        return _routed(found)
    if region is None:
        return UNROUTED
    return Routing(None, None, None, region_code=region.code, region_name=indexes.neighbour_names[region.code])


def _routed(found) -> Routing:
    kecamatan, kota = parent_codes(found.code)
    return Routing(found.code, kecamatan, kota, distance_m=round(found.distance_m, 1), exact=found.exact)


def area_exists(code: str, level: str | None = None) -> bool:
    area = db.session.get(Area, code)
    return area is not None and (level is None or area.level == level)
