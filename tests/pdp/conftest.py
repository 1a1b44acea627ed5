"""Data-rights tests reuse the public-services fixtures (the demo households, fake agencies over HTTP) and areas."""

from tests.services.conftest import agencies, demo, settings  # noqa: F401 - fixtures used by this suite
from tests.support.fixtures import areas  # noqa: F401 - fixtures used by this suite
