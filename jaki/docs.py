"""Swagger UI's assets for /docs, served by jaki from the pinned swagger-ui-bundle package (no CDN)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory

blp = Blueprint("docs_assets", __name__)

# Only what flask-smorest's page loads: nothing else of the package is reachable through this route.
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"})


def assets_dir() -> Path:
    from swagger_ui_bundle import swagger_ui_path

    return Path(str(swagger_ui_path))


@blp.get("/docs/assets/<string:filename>")
def asset(filename: str):
    if filename not in ASSETS:
        abort(404)
    return send_from_directory(assets_dir(), filename, max_age=24 * 3600)
