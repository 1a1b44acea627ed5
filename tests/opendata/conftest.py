"""Open-data tests run against Jakarta's real kelurahan polygons (the GeoJSON's 267 outlines, names, parents)."""

from tests.support.fixtures import areas, photo_storage  # noqa: F401 - fixtures used by this suite
