"""Imports every model module so that metadata (migrations, tests) sees all tables."""

import importlib

from jaki import audit, events  # noqa: F401
from jaki.agencies import models as agencies  # noqa: F401
from jaki.auth import models as auth  # noqa: F401
from jaki.geo import models as geo  # noqa: F401

for _module in ("jaki.reports.models", "jaki.open311.models", "jaki.services.models", "jaki.notifications.models"):
    try:
        importlib.import_module(_module)
    except ModuleNotFoundError as exc:
        if not _module.startswith(str(exc.name)):  # a missing domain is fine; a broken import is not
            raise
