"""Imports every model module so that metadata (migrations, tests) sees all tables."""

from jaki import audit, events  # noqa: F401
from jaki.agencies import models as agencies  # noqa: F401
from jaki.auth import models as auth  # noqa: F401
from jaki.geo import models as geo  # noqa: F401
