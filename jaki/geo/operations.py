"""Importing Jakarta's areas and routing a point to its kelurahan through a per-process spatial index."""

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
from jaki.geo.models import Area
from jaki.geo.spatial import AreaIndex, in_jakarta_bbox, parse_geometry

log = logging.getLogger(__name__)

# How often (seconds) a process re-reads the areas' version to notice an import done by another process.
DEFAULT_INDEX_CHECK_SECONDS = 60
# A point in a sliver between simplified polygons resolves to the nearest kelurahan within this distance.
DEFAULT_MAX_GAP_M = 300.0

PROVINCE_CODE = "31"
_REQUIRED_PROPERTIES = ("kode_kel", "kelurahan", "kode_kec", "kecamatan", "kode_kota", "kota")


@dataclass(frozen=True, slots=True)
class Routing:
    """Where a point belongs. kelurahan_code is None for a point outside every area (the triage queue)."""

    kelurahan_code: str | None
    kecamatan_code: str | None
    kota_code: str | None
    distance_m: float | None = None
    exact: bool = False

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


# ---- routing ------------------------------------------------------------------------------------------


class _IndexCache:
    """The kelurahan index of one app, rebuilt when the areas' version (count, latest update) changes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.index: AreaIndex | None = None
        self.version: tuple | None = None
        self.checked_at = float("-inf")


def _cache() -> _IndexCache:
    return current_app.extensions.setdefault("jaki.area_index", _IndexCache())


def _areas_version() -> tuple:
    count, latest = db.session.execute(
        select(func.count(Area.code), func.max(Area.updated_at)).where(Area.level == "kelurahan")
    ).one()
    return count, latest.isoformat() if hasattr(latest, "isoformat") else latest


def area_index() -> AreaIndex:
    """This process's kelurahan index; the version is re-read at most every AREA_INDEX_CHECK_SECONDS."""
    cache = _cache()
    every = current_app.config.get("AREA_INDEX_CHECK_SECONDS", DEFAULT_INDEX_CHECK_SECONDS)
    now = time.monotonic()
    if cache.index is not None and now - cache.checked_at < every:
        return cache.index
    with cache.lock:
        if cache.index is not None and now - cache.checked_at < every:
            return cache.index
        version = _areas_version()
        if cache.index is None or version != cache.version:
            rows = db.session.execute(select(Area.code, Area.geometry).where(Area.level == "kelurahan")).all()
            started = time.monotonic()
            cache.index = AreaIndex.from_features((code, geometry) for code, geometry in rows)
            cache.version = version
            log.info(
                "area index built",
                extra={"kelurahan": len(cache.index), "seconds": round(time.monotonic() - started, 3)},
            )
        cache.checked_at = time.monotonic()
        return cache.index


def locate(lat: float, lon: float) -> Routing:
    """The kelurahan (and its kecamatan and kota) of a point; UNROUTED outside every area.

    A point in a gap between polygons goes to the nearest kelurahan within AREA_MAX_GAP_M (ties to the
    smallest code, as AreaIndex decides).
    """
    if not in_jakarta_bbox(lat, lon):
        return UNROUTED
    max_gap = current_app.config.get("AREA_MAX_GAP_M", DEFAULT_MAX_GAP_M)
    found = area_index().locate(lat, lon, max_distance_m=max_gap)
    if found is None:
        return UNROUTED
    kecamatan, kota = parent_codes(found.code)
    return Routing(found.code, kecamatan, kota, distance_m=round(found.distance_m, 1), exact=found.exact)


def area_exists(code: str, level: str | None = None) -> bool:
    area = db.session.get(Area, code)
    return area is not None and (level is None or area.level == level)
