"""The public map: pins while a viewport holds few reports, clusters counted per tile once it holds many.

A viewport's pins cost time in proportion to the reports in it, and a street-level box in a city of a million
reports holds thousands. So the map first sums the per-tile counts the database keeps (ReportMapTile, exact,
maintained by triggers): when the viewport holds at most `limit` matching reports it answers every one of them
as a pin; above that it answers one cluster per tile (count, centroid, counts by public status), chosen at the
finest level whose tiles in view number at most MAX_TILES. Either way the work is bounded by the tiles in view
and the pin limit, not by the size of the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, literal, literal_column, select, text

from jaki.extensions import db
from jaki.geo.cells import cell_rect, tile_bounds, tiles_in_rect
from jaki.geo.spatial import JAKARTA_BBOX
from jaki.reports import queries
from jaki.reports import workflow as wf
from jaki.reports.models import Report, ReportMapTile
from jaki.settings import setting

# Tile levels the triggers count (migration 0008 must match): tiles of 16, 64 and 256 cells a side, that is
# about 565 m x 325 m, 2.3 km x 1.3 km and 9 km x 5.2 km.
LEVELS = (4, 6, 8)
# A viewport is clustered at the finest level where it touches at most this many tiles (a phone screen's worth
# of markers); one wider than the coarsest level allows gets that level's tiles, at most 16 x 16 for all Jakarta.
MAX_TILES = 64


@dataclass
class Cluster:
    id: str
    count: int
    latitude: float
    longitude: float
    bounds: tuple[float, float, float, float]  # min_lat, min_lon, max_lat, max_lon of the tile
    by_status: dict[str, int]  # counts by JAKI public status code


@dataclass
class MapView:
    pins: list[Report]
    clusters: list[Cluster]
    total: int  # pins: exact; clusters: the reports in the tiles touched, which may reach past the viewport
    level: int | None  # the tile level of the clusters; None for pins

    @property
    def clustered(self) -> bool:
        return self.level is not None


def choose_level(rect: tuple[int, int, int, int]) -> int:
    x0, y0, x1, y1 = rect
    for level in LEVELS:
        if ((x1 >> level) - (x0 >> level) + 1) * ((y1 >> level) - (y0 >> level) + 1) <= MAX_TILES:
            return level
    return LEVELS[-1]


def tile_rows(level: int, tiles: Sequence[int], *, statuses: Sequence[str], categories: Sequence[str] | None = None):
    """(tile, status, count, sum_latitude, sum_longitude) per tile and status: categories summed together."""
    query = (
        select(
            ReportMapTile.tile,
            ReportMapTile.status,
            func.sum(ReportMapTile.count),
            func.sum(ReportMapTile.sum_latitude),
            func.sum(ReportMapTile.sum_longitude),
        )
        .where(
            ReportMapTile.level == level, ReportMapTile.tile.in_(list(tiles)), ReportMapTile.status.in_(list(statuses))
        )
        .group_by(ReportMapTile.tile, ReportMapTile.status)
    )
    if categories:
        query = query.where(ReportMapTile.category_code.in_(list(categories)))
    return db.session.execute(query).all()


def map_view(
    min_lat: float,
    min_lon: float,
    max_lat: float,
    max_lon: float,
    *,
    categories: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
    limit: int | None = None,
) -> MapView:
    """Pins for every matching report in the box when there are at most `limit`, else clusters per tile."""
    queries.check_bbox(min_lat, min_lon, max_lat, max_lon)
    cap = setting("REPORTS_MAP_MAX_PINS")
    limit = min(limit or cap, cap)
    shown = queries.map_statuses(statuses)
    b = JAKARTA_BBOX
    if max_lat < b.min_lat or min_lat > b.max_lat or max_lon < b.min_lon or min_lon > b.max_lon:
        return MapView(pins=[], clusters=[], total=0, level=None)  # edge tiles clamp: never answer for elsewhere
    rect = cell_rect(min_lat, min_lon, max_lat, max_lon)
    level = choose_level(rect)
    tiles = {tile: (tx, ty) for tile, tx, ty in tiles_in_rect(rect, level)}
    rows = tile_rows(level, list(tiles), statuses=shown, categories=categories)
    total = sum(row[2] for row in rows)
    if total <= limit:
        pins, _ = queries.reports_in_bbox(
            min_lat, min_lon, max_lat, max_lon, categories=categories, statuses=shown, limit=limit
        )
        return MapView(pins=pins, clusters=[], total=len(pins), level=None)

    per_tile: dict[int, list] = {}  # tile -> [count, sum of latitudes, sum of longitudes, counts by label]
    for tile, status, count, sum_lat, sum_lon in rows:
        if count <= 0:
            continue
        acc = per_tile.setdefault(tile, [0, 0.0, 0.0, {}])
        acc[0] += count
        acc[1] += sum_lat
        acc[2] += sum_lon
        code = wf.PUBLIC_LABELS[status]
        acc[3][code] = acc[3].get(code, 0) + count
    clusters = sorted(
        (
            Cluster(
                id=f"{level}-{tile}",
                count=n,
                latitude=round(sum_lat / n, 6),
                longitude=round(sum_lon / n, 6),
                bounds=tile_bounds(*tiles[tile], level),
                by_status=by_status,
            )
            for tile, (n, sum_lat, sum_lon, by_status) in per_tile.items()
        ),
        key=lambda c: (-c.count, c.id),
    )
    return MapView(pins=[], clusters=clusters, total=sum(c.count for c in clusters), level=level)


def recount() -> int:
    """Rebuild every tile count from the reports table (repair after triggers were bypassed); returns rows."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE reports IN SHARE MODE"))  # writers wait; readers carry on
    db.session.execute(delete(ReportMapTile))
    for level in LEVELS:
        tile = Report.cell.op(">>")(literal_column(str(2 * level)))
        counted = select(
            literal(level),
            tile,
            Report.category_code,
            Report.status,
            func.count(),
            func.sum(Report.latitude),
            func.sum(Report.longitude),
        ).group_by(tile, Report.category_code, Report.status)
        db.session.execute(
            insert(ReportMapTile).from_select(
                ["level", "tile", "category_code", "status", "count", "sum_latitude", "sum_longitude"], counted
            )
        )
    written = db.session.scalar(select(func.count()).select_from(ReportMapTile))
    db.session.commit()
    return written
