"""Open311 tests route reports on Jakarta's real kelurahan polygons, committed per module and removed after it."""

from __future__ import annotations

import pytest

from jaki.open311 import operations
from tests.open311.helpers import seed_categories
from tests.support.fixtures import areas, photo_storage  # noqa: F401 - fixtures used by this suite


@pytest.fixture
def api_key(ctx):
    """A fresh client key (plaintext), categories and agencies in place."""
    seed_categories()
    _key, raw = operations.create_key("Aplikasi Uji")
    return raw
