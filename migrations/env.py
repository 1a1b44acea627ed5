"""Alembic environment: runs against the app's engine; the schema is only ever built by migrations."""

from __future__ import annotations

from alembic import context
from flask import current_app

import jaki.models  # noqa: F401 - registers every table on the metadata
from jaki.extensions import db

config = context.config
target_metadata = db.metadata


def run_migrations_offline() -> None:
    context.configure(url=str(db.engine.url), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    with db.engine.connect() as connection:
        _run(connection)


def _run(connection) -> None:
    # SQLite cannot ALTER most things in place: batch mode rebuilds tables there and is a no-op elsewhere.
    options = {"compare_type": True, "render_as_batch": True, **current_app.extensions["migrate"].configure_args}
    context.configure(connection=connection, target_metadata=target_metadata, **options)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
