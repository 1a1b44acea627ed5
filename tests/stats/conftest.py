"""Statistics tests run against Jakarta's real kelurahan polygons (names, parents, area filters)."""

from tests.support.fixtures import areas, photo_storage  # noqa: F401 - fixtures used by this suite
