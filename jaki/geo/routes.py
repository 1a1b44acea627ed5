"""Area endpoints (public): the list of areas, one area with its parents, and the map's boundary layers."""

from __future__ import annotations

from flask import Response

from jaki.api import API_PREFIX, Blueprint, ErrorSchema
from jaki.caching import cacheable
from jaki.geo import queries
from jaki.geo import schemas as s

GEOJSON = "application/geo+json"

areas_blp = Blueprint(
    "areas", __name__, url_prefix=API_PREFIX, description="Wilayah: provinsi, kota/kabupaten, kecamatan, kelurahan"
)


@areas_blp.route("/areas", methods=["GET"])
@cacheable()
@areas_blp.arguments(s.AreaListArgsSchema, location="query")
@areas_blp.response(200, s.AreaListSchema)
def list_areas(args):
    """Areas by code, filtered by `level` and/or `parent` (the direct parent's code).

    Not paged: every match comes in one answer, as Jakarta has only 318 areas (1 province, 6 kota/kabupaten,
    44 kecamatan, 267 kelurahan). An unknown `parent` is a 422.
    """
    return {"items": queries.list_areas(level=args["level"], parent=args["parent"])}


@areas_blp.route("/areas.geojson", methods=["GET"])
@cacheable(shared=True)
@areas_blp.arguments(s.AreaMapArgsSchema, location="query")
@areas_blp.response(200, s.AreaFeatureCollectionSchema, content_type=GEOJSON)
def map_layer(args):
    """Boundaries for a map, as a GeoJSON FeatureCollection (`application/geo+json`): `level=kota` (6 features),
    `kecamatan` (44) or `kelurahan` (267), simplified to about 11 m. Kecamatan and kota outlines are the union
    of their kelurahan, computed at import."""
    return Response(queries.map_layer(args["level"]), mimetype=GEOJSON)


@areas_blp.route("/areas/<string:code>", methods=["GET"])
@cacheable()
@areas_blp.response(200, s.AreaDetailSchema)
@areas_blp.alt_response(404, schema=ErrorSchema, description="No area has this code")
def detail(code):
    """One area by its dotted Kemendagri code (31.74.05.1002), with the areas above it, nearest first."""
    return queries.area_detail(code)
