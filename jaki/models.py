"""Imports every model module so that metadata (migrations, tests) sees all tables."""

from jaki import audit, events, idempotency  # noqa: F401
from jaki.agencies import models as agencies  # noqa: F401
from jaki.auth import models as auth  # noqa: F401
from jaki.geo import models as geo  # noqa: F401
from jaki.notifications import models as notifications  # noqa: F401
from jaki.open311 import models as open311  # noqa: F401
from jaki.opendata import models as opendata  # noqa: F401
from jaki.pdp import models as pdp  # noqa: F401
from jaki.reports import models as reports  # noqa: F401
from jaki.services import models as services  # noqa: F401
from jaki.stats import models as stats  # noqa: F401
