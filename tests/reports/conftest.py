"""Report tests run against Jakarta's real kelurahan polygons, committed once per module and removed after it."""

from tests.support.fixtures import areas, photo_storage  # noqa: F401 - fixtures used by this suite
