"""Fixtures shared by the report and Open311 suites: real kelurahan polygons and per-test photo storage."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, select

from jaki.extensions import db
from jaki.geo.models import Area, NeighbourRegion
from jaki.geo.operations import forget_kept_areas, import_areas, import_neighbours
from jaki.media.storage import LocalStorage


@pytest.fixture(scope="module", autouse=True)
def areas(app):
    """Routing needs the polygons (and the neighbours' outlines), committed once per module; other suites must not
    find them, so they go after."""
    data = Path(app.config["SHARED_DATA_DIR"])
    with app.app_context():
        before = set(db.session.scalars(select(Area.code)))
        import_areas(data / "jakarta_kelurahan.geojson")
        import_neighbours(data / "jakarta_neighbours.geojson")
        added = set(db.session.scalars(select(Area.code))) - before
        db.session.remove()
    forget_kept_areas(app)  # an index cached from an earlier module may be empty
    yield
    with app.app_context():
        if added:
            db.session.execute(delete(Area).where(Area.code.in_(sorted(added))))
        db.session.execute(delete(NeighbourRegion))
        db.session.commit()
        db.session.remove()
    forget_kept_areas(app)


# Generous limits while a corpus runs: a 429 would hide how an operation treats its input.
UNLIMITED = "1000000 per minute"


@pytest.fixture
def unlimited(app):
    keys = [k for k in app.config if k.endswith("_RATE") or "_RATE_PER_" in k]
    numbers = ("LOGIN_LOCKOUT_THRESHOLD", "REPORTS_DAILY_CAP", "OTP_MAX_ATTEMPTS")
    saved = {k: app.config[k] for k in [*keys, *numbers]}
    app.config.update(dict.fromkeys(keys, UNLIMITED))
    app.config.update(dict.fromkeys(numbers, 1_000_000))
    yield
    app.config.update(saved)


@pytest.fixture(autouse=True)
def photo_storage(app, tmp_path):
    """Photos go to a per-test directory, not the shared instance directory."""
    original = app.extensions.get("jaki.storage")
    store = LocalStorage(tmp_path / "media")
    app.extensions["jaki.storage"] = store
    yield store
    if original is None:
        app.extensions.pop("jaki.storage", None)
    else:
        app.extensions["jaki.storage"] = original
