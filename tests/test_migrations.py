"""Migrations build the whole schema, match the models exactly, and go down to nothing and up again."""

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

import jaki.models  # noqa: F401 - every table on the metadata
from jaki.extensions import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@pytest.fixture
def scratch_engine(app, tmp_path):
    """An empty database of the same kind as the suite's, separate from it."""
    with app.app_context():
        url = db.engine.url
    if url.get_backend_name() == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'migrations.sqlite3'}")
        yield engine
        engine.dispose()
        return
    name = f"{url.database}_migrations"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(url.set(database=name))
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def _run(app, engine, fn, *args):
    cfg = Config(str(MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with app.app_context(), engine.begin() as connection:
        cfg.attributes["connection"] = connection
        fn(cfg, *args)


def _diff(engine):
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), db.metadata)


def test_upgrade_matches_models_then_downgrade_to_nothing_and_up_again(app, scratch_engine):
    _run(app, scratch_engine, command.upgrade, "heads")
    tables = set(inspect(scratch_engine).get_table_names())
    assert set(db.metadata.tables) <= tables
    assert _diff(scratch_engine) == []

    _run(app, scratch_engine, command.downgrade, "base")
    left = set(inspect(scratch_engine).get_table_names()) - {"alembic_version"}
    assert left == set()

    _run(app, scratch_engine, command.upgrade, "heads")
    assert _diff(scratch_engine) == []
