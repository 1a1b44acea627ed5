"""Open311 tests route reports on Jakarta's real kelurahan polygons, committed per module and removed after it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, select

from jaki.extensions import db
from jaki.geo.models import Area
from jaki.geo.operations import import_areas
from jaki.media.storage import LocalStorage
from jaki.open311 import operations
from tests.open311.helpers import seed_categories


@pytest.fixture(scope="module", autouse=True)
def areas(app):
    """Routing needs the polygons; other engineers' tests must not find them afterwards, so they are deleted."""
    path = Path(app.config["SHARED_DATA_DIR"]) / "jakarta_kelurahan.geojson"
    with app.app_context():
        before = set(db.session.scalars(select(Area.code)))
        import_areas(path)
        added = set(db.session.scalars(select(Area.code))) - before
        db.session.remove()
    app.extensions.pop("jaki.area_index", None)
    yield
    with app.app_context():
        if added:
            db.session.execute(delete(Area).where(Area.code.in_(sorted(added))))
            db.session.commit()
        db.session.remove()
    app.extensions.pop("jaki.area_index", None)


@pytest.fixture(autouse=True)
def photo_storage(app, tmp_path):
    """Photos go to a per-test directory, not the shared instance directory."""
    original = app.extensions.get("jaki.storage")
    app.extensions["jaki.storage"] = LocalStorage(tmp_path / "media")
    yield
    if original is None:
        app.extensions.pop("jaki.storage", None)
    else:
        app.extensions["jaki.storage"] = original


@pytest.fixture
def api_key(ctx):
    """A fresh client key (plaintext), categories and agencies in place."""
    seed_categories()
    _key, raw = operations.create_key("Aplikasi Uji")
    return raw
