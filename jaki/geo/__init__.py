"""Jakarta's areas: import, point routing, the public areas API and the map's boundary layers."""

from __future__ import annotations

from jaki import i18n

MESSAGES: dict[str, tuple[str, str]] = {
    "area_not_found": ("Wilayah dengan kode ini tidak ditemukan.", "No area has this code."),
}

i18n.register(MESSAGES)


def init_app(app) -> None:
    """The areas blueprint and the per-request cache of area names."""
    from jaki.extensions import api
    from jaki.geo import queries, routes

    api.register_blueprint(routes.areas_blp)
    app.teardown_request(queries.forget_area_names)
