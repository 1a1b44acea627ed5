"""Reading Jakarta's areas: lists, one area with its parents, names beside codes, the map's GeoJSON layers."""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask import g
from sqlalchemy import exists, select
from sqlalchemy.orm import defer

from jaki.errors import NotFound, field_error
from jaki.extensions import db
from jaki.geo.models import Area
from jaki.geo.operations import kept_by_version, table_version

# What `level=` selects. "kota" is the second tier as a whole (5 kota and the kabupaten of Kepulauan Seribu),
# as the map's kota layer shows it; "kabupaten" selects that one alone.
LEVEL_FILTERS: dict[str, tuple[str, ...]] = {
    "provinsi": ("provinsi",),
    "kota": ("kota", "kabupaten"),
    "kabupaten": ("kabupaten",),
    "kecamatan": ("kecamatan",),
    "kelurahan": ("kelurahan",),
}

# The map's layers and the stored levels each one shows (Kepulauan Seribu is a kabupaten among the kota).
MAP_LEVELS: dict[str, tuple[str, ...]] = {
    "kota": ("kota", "kabupaten"),
    "kecamatan": ("kecamatan",),
    "kelurahan": ("kelurahan",),
}

_NAMES = "jaki_area_names"
_NAMES_REFRESHED = "jaki_area_names_refreshed"
_NAMES_CACHE = "jaki.area_names"  # in app.extensions


@dataclass(frozen=True, slots=True)
class AreaDetail:
    """One area and the areas above it, nearest first (kelurahan: its kecamatan, kota and the province)."""

    code: str
    level: str
    name: str
    parent_code: str | None
    bps_code: str | None
    bbox: list[float] | None
    parents: list[Area]


def _no_geometry() -> tuple:
    """Loader options leaving out the polygons: they are kilobytes a row and only the map layer reads them. Built
    per call, not at import: an option on a mapped attribute configures every mapper imported so far, which fails
    while only some of the model modules are (a standalone `import jaki.stats.rollup`)."""
    return (defer(Area.geometry), defer(Area.outline))


def list_areas(level: str | None = None, parent: str | None = None) -> list[Area]:
    """Areas by code, at one level and/or directly under one parent; an unknown parent is a 422."""
    query = select(Area).options(*_no_geometry()).order_by(Area.code)
    if level is not None:
        query = query.where(Area.level.in_(LEVEL_FILTERS[level]))
    if parent is not None:
        if db.session.get(Area, parent, options=_no_geometry()) is None:
            raise field_error("parent", "area_unknown")
        query = query.where(Area.parent_code == parent)
    return list(db.session.scalars(query))


def area_detail(code: str) -> AreaDetail:
    area = db.session.get(Area, code, options=_no_geometry())
    if area is None:
        raise NotFound("area_not_found")
    parents = []
    seen = {area.code}
    parent_code = area.parent_code
    while parent_code and parent_code not in seen:  # at most three steps up; `seen` guards bad data
        parent = db.session.get(Area, parent_code, options=_no_geometry())
        if parent is None:
            break
        parents.append(parent)
        seen.add(parent.code)
        parent_code = parent.parent_code
    return AreaDetail(area.code, area.level, area.name, area.parent_code, area.bps_code, area.bbox, parents)


def _all_names() -> dict[str, str]:
    return dict(db.session.execute(select(Area.code, Area.name)).all())


def _process_names(refresh: bool) -> dict[str, str]:
    """The names as this process keeps them, read again only when the areas table's version changed (checked at
    most every AREA_INDEX_CHECK_SECONDS, as the routing index is)."""
    return kept_by_version(_NAMES_CACHE, lambda: table_version(Area), _all_names, refresh=refresh)


def area_names() -> dict[str, str]:
    """Every area's name by code, one dict for the whole request (all 318 rows cost less than one query per report
    on a page would), kept by the process between requests (_process_names)."""
    names = g.get(_NAMES)
    if names is None:
        names = _process_names(refresh=False)
        setattr(g, _NAMES, names)
    return names


def area_name(code: str) -> str | None:
    """One area's name. A code the kept names lack (an area added since the last check) reads the table's version
    again, once per request."""
    names = area_names()
    if code not in names and not g.get(_NAMES_REFRESHED):
        setattr(g, _NAMES_REFRESHED, True)
        names = _process_names(refresh=True)
        setattr(g, _NAMES, names)
    return names.get(code)


def forget_area_names(_exc=None) -> None:
    """Drop the request's names (teardown): a test client may share one app context across requests."""
    g.pop(_NAMES, None)
    g.pop(_NAMES_REFRESHED, None)


def _outlines_missing() -> bool:
    return bool(
        db.session.scalar(
            select(exists().where(Area.level == "kelurahan", Area.geometry.is_not(None), Area.outline.is_(None)))
        )
    )


def map_layer(level: str) -> str:
    """The level's areas as a GeoJSON FeatureCollection (text), from the outlines stored at import.

    Assembled from the stored geometry text without parsing it: the kelurahan layer is about 300 kB.
    """
    if _outlines_missing():
        # Areas imported before outlines existed: derived once, then read from the table. Imported here, as
        # only an import needs shapely (and numpy) in memory.
        from jaki.geo.outlines import store_outlines  # shapely: about 0.3 s to import, paid only here

        store_outlines()
    rows = db.session.execute(
        select(Area.code, Area.name, Area.level, Area.parent_code, Area.outline)
        .where(Area.level.in_(MAP_LEVELS[level]))
        .order_by(Area.code)
    ).all()
    features = []
    for code, name, area_level, parent_code, outline in rows:
        properties = {"code": code, "name": name, "level": area_level, "parent_code": parent_code}
        features.append(
            '{"type":"Feature","id":'
            + json.dumps(code)
            + ',"properties":'
            + json.dumps(properties, ensure_ascii=False, separators=(",", ":"))
            + ',"geometry":'
            + (outline or "null")
            + "}"
        )
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"
