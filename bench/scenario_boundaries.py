"""Boundaries: how fast locate() answers with the neighbours' outlines, and how its border decisions compare with
the gap-free BPS 2019 boundaries (jakarta_kelurahan_bps2019.geojson) along Jakarta's land border and coast."""

from __future__ import annotations

import json
import math
import random
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
GRID_M = 50.0  # spacing of the sample points along the border
INLAND_BELOW_LAT = -6.13  # south of this the outer border is land (Tangerang, Depok, Bekasi); north, the coast


def _app(tmp: str):
    from flask_migrate import upgrade

    from jaki import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/boundaries.sqlite3", "LOG_LEVEL": "WARNING"})
    with app.app_context():
        upgrade(revision="heads")
    return app


def _timed(fn, points) -> dict:
    samples = []
    for lat, lon in points:
        started = time.perf_counter()
        fn(lat, lon)
        samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()
    return {
        "calls": len(samples),
        "p50_us": round(statistics.median(samples), 1),
        "p99_us": round(samples[int(len(samples) * 0.99)], 1),
        "mean_us": round(statistics.fmean(samples), 1),
    }


def _border_band(kelurahan, max_gap: float):
    """(lat, lon, distance to the nearest kelurahan) of grid points in no polygon but within max_gap of one."""
    from jaki.geo.spatial import M_PER_DEG

    step = GRID_M / M_PER_DEG
    lat = -6.40
    while lat < -6.08:
        lon = 106.66
        while lon < 107.0:
            found = kelurahan.locate(lat, lon, max_distance_m=max_gap)
            if found is not None and not found.exact:
                yield lat, lon, found.distance_m
            lon += step / math.cos(math.radians(lat))
        lat += step


def run() -> dict:
    from jaki.geo import operations as geo
    from jaki.geo.spatial import JAKARTA_BBOX, AreaIndex

    bps = json.loads((DATA / "jakarta_kelurahan_bps2019.geojson").read_text())
    for feature in bps["features"]:  # the 3 placeholder areas (lakes) have no Kemendagri code
        props = feature["properties"]
        props["kode_kel"] = props["kode_kel"] or props["kode_bps_kel"]
    bps_index = AreaIndex.from_geojson(bps)

    with tempfile.TemporaryDirectory() as tmp:
        app = _app(tmp)
        with app.test_request_context():
            geo.import_areas(DATA / "jakarta_kelurahan.geojson")
            geo.import_neighbours(DATA / "jakarta_neighbours.geojson")
            started = time.perf_counter()
            indexes = geo._indexes()
            build_s = time.perf_counter() - started
            max_gap = float(app.config["AREA_MAX_GAP_M"])

            rng = random.Random(11)
            box = JAKARTA_BBOX
            anywhere = [
                (rng.uniform(box.min_lat, box.max_lat), rng.uniform(box.min_lon, box.max_lon)) for _ in range(20_000)
            ]
            mainland = [(rng.uniform(-6.35, -6.10), rng.uniform(106.70, 106.95)) for _ in range(20_000)]
            band = list(_border_band(indexes.index, max_gap))
            timing = {
                "jakarta_bbox_uniform": _timed(geo.locate, anywhere),
                "mainland_uniform": _timed(geo.locate, mainland),
                "border_band": _timed(geo.locate, [(lat, lon) for lat, lon, _ in band]),
                "neighbours_uniform": _timed(
                    geo.locate, [(rng.uniform(-6.8, -5.9), rng.uniform(106.3, 107.3)) for _ in range(20_000)]
                ),
            }

            # Along the border: what the old gap rule and the new one do with points in no kelurahan polygon,
            # against the BPS 2019 set (itself ~90 m off near borders, so a second opinion, not the truth).
            outcome: Counter = Counter()
            in_bps = {(lat, lon): bps_index.locate(lat, lon, max_distance_m=0) is not None for lat, lon, _ in band}
            for lat, lon, _distance in band:
                side = "land_border" if lat < INLAND_BELOW_LAT else "coast"
                routed = geo.locate(lat, lon).routed
                bps_side = "bps_jakarta" if in_bps[(lat, lon)] else "bps_outside"
                outcome[(side, bps_side, "routed" if routed else "refused")] += 1
            # The border tolerance traded off: land-border points BPS puts in Jakarta but we refuse, and points it
            # puts outside that we route in.
            sweep = {}
            configured = app.config["AREA_BORDER_TOLERANCE_M"]
            land = [(lat, lon) for lat, lon, _ in band if lat < INLAND_BELOW_LAT]
            for tolerance in (0, 25, 50, 100):
                app.config["AREA_BORDER_TOLERANCE_M"] = tolerance
                wrong = Counter(in_bps[point] for point in land if geo.locate(*point).routed != in_bps[point])
                sweep[f"{tolerance}_m"] = {
                    "wrongly_refused_km2": round(wrong[True] * (GRID_M / 1000) ** 2, 2),
                    "wrongly_routed_km2": round(wrong[False] * (GRID_M / 1000) ** 2, 2),
                }
            app.config["AREA_BORDER_TOLERANCE_M"] = configured
            # How far short of Jakarta's polygons the coarse outlines stop: land-border points in no polygon
            # and outside every outline, by distance to the nearest outline (what AREA_NEIGHBOUR_MARGIN_M covers).
            short: Counter = Counter()
            for lat, lon in land:
                if indexes.neighbours.locate(lat, lon, max_distance_m=0) is None:
                    near = indexes.neighbours.locate(lat, lon, max_distance_m=2000)
                    metres = near.distance_m if near else math.inf
                    short["0-250 m" if metres <= 250 else "250-500 m" if metres <= 500 else "over 500 m"] += 1
    km2 = (GRID_M / 1000) ** 2

    def share(side: str, bps: str, what: str) -> dict:
        total = sum(n for (s, b, _w), n in outcome.items() if s == side and b == bps)
        n = outcome[(side, bps, what)]
        return {"points": n, "of": total, "share": round(n / total, 3) if total else None, "km2": round(n * km2, 2)}

    return {
        "index_build_seconds": round(build_s, 3),
        "kelurahan": len(indexes.index),
        "neighbours": len(indexes.neighbours),
        "settings": {
            "AREA_MAX_GAP_M": max_gap,
            "AREA_NEIGHBOUR_MARGIN_M": app.config["AREA_NEIGHBOUR_MARGIN_M"],
            "AREA_BORDER_TOLERANCE_M": app.config["AREA_BORDER_TOLERANCE_M"],
        },
        "locate": timing,
        "border_band": {
            "grid_m": GRID_M,
            "what": f"points in no kelurahan polygon within {max_gap:.0f} m of one (the old rule routed all of them)",
            "land_border_bps_outside_refused": share("land_border", "bps_outside", "refused"),
            "land_border_bps_jakarta_routed": share("land_border", "bps_jakarta", "routed"),
            "coast_bps_outside_routed": share("coast", "bps_outside", "routed"),
            "coast_bps_jakarta_routed": share("coast", "bps_jakarta", "routed"),
            "counts": {"/".join(k): v for k, v in sorted(outcome.items())},
            "land_border_tolerance_sweep": sweep,
            "land_border_outside_every_outline_by_distance_to_one": dict(sorted(short.items())),
        },
        "note": (
            "in-process, one thread; the border band is sampled on a 50 m grid between lat -6.40 and -6.08. "
            "land_border: south of -6.13 (Tangerang, Tangerang Selatan, Depok, Bekasi); coast: north of it, "
            "where points in no polygon are mostly the sea, the harbour and reclaimed land."
        ),
    }
