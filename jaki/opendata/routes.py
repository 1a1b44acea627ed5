"""/open-data (public, no login): reports per kelurahan x category x month as CSV, JSON and GeoJSON; the catalog."""

from __future__ import annotations

import hashlib
import json

from flask import Response, request

from jaki.api import API_PREFIX, Blueprint
from jaki.opendata import operations
from jaki.opendata import schemas as s

blp = Blueprint("open_data", __name__, url_prefix=f"{API_PREFIX}/open-data", description="Data terbuka (Satu Data)")

# Rebuilt daily: an hour's cache is fresh enough and spares the server; ETag makes a revalidation cheap.
_CACHE = "public, max-age=3600"


def _serve(body: str, media_type: str, etag: str, generated_at, filename: str | None = None) -> Response:
    response = Response(body, mimetype=media_type.split(";")[0], content_type=media_type)
    response.set_etag(etag)
    response.last_modified = generated_at
    response.headers["Cache-Control"] = _CACHE
    if filename:
        response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response.make_conditional(request)


def _file(name: str) -> Response:
    row = operations.stored(name)
    return _serve(row.body, row.media_type, row.etag, row.generated_at, filename=name)


@blp.route("/reports.csv", methods=["GET"])
@blp.response(200, s.CsvFileSchema, content_type="text/csv", description="RFC 4180, UTF-8, one header row")
def reports_csv():
    """Reports per kelurahan x category x month (sensitive categories per kecamatan): counts by public status,
    median hours to resolve, share within SLA. Counts from 1 to 4 are empty, flagged in `suppressed`."""
    return _file("reports.csv")


@blp.route("/reports.json", methods=["GET"])
@blp.response(200, s.ReportsDocumentSchema)
def reports_json():
    """The same rows as reports.csv, with the dataset's metadata and its standing note."""
    return _file("reports.json")


@blp.route("/reports.geojson", methods=["GET"])
@blp.response(200, s.ReportsFeatureCollectionSchema, content_type="application/geo+json")
def reports_geojson():
    """The last published month joined to the 267 kelurahan outlines, for a choropleth: per kelurahan, each
    category's figures as `<category>__<field>` properties (sensitive categories are not in it)."""
    return _file("reports.geojson")


@blp.route("/catalog.json", methods=["GET"])
@blp.response(200, s.CatalogSchema)
def catalog():
    """A DCAT (JSON-LD) catalog of the datasets: licence, publisher, update frequency, period, Kemendagri codes."""
    document, meta = operations.catalog_document()
    body = json.dumps(document, ensure_ascii=False)
    etag = hashlib.sha256(body.encode()).hexdigest()[:32]  # the URLs in it depend on the host asked
    return _serve(body, "application/json", etag, meta.generated_at)
