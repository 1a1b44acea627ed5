"""Statistics tests run against Jakarta's real kelurahan polygons; the board's use the services' fake agencies."""

from tests.services.conftest import agencies, demo, settings  # noqa: F401 - fixtures used by this suite
from tests.support.fixtures import areas, photo_storage  # noqa: F401 - fixtures used by this suite
