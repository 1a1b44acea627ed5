"""Test fixtures: one schema built by migrations per run; each test rolled back inside a savepoint."""

from __future__ import annotations

import os

import pytest
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.orm import Session as SASession

from config import Testing
from jaki import create_app
from jaki.extensions import db, limiter


def _reset_database(app) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            db.engine.dispose()
            path = engine.url.database
            for suffix in ("", "-wal", "-shm"):
                if path and os.path.exists(path + suffix):
                    os.remove(path + suffix)
        else:
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade(revision="heads")


@pytest.fixture(scope="session")
def app():
    app = create_app(Testing)
    app.config["JOBS_INLINE_RAISE"] = True
    _reset_database(app)
    return app


@pytest.fixture(autouse=True)
def _clean_services(app):
    limiter.reset()
    redis = app.extensions.get("jaki.redis")
    if redis is not None:
        redis.flushdb()
    yield


class _BoundSession(SASession):
    def __init__(self, db=None, **options):  # Flask-SQLAlchemy passes db=; a plain Session takes no such option
        super().__init__(**options)


@pytest.fixture
def session(app):
    """db.session bound to one connection whose outer transaction is rolled back after the test."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        if connection.dialect.name == "postgresql":
            # This transaction never commits: deferred triggers (the map's tile counts) fire at each statement.
            connection.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE")
        # Plain Session: Flask-SQLAlchemy's own Session.get_bind ignores `bind` and would use a fresh connection.
        scoped = db._make_scoped_session(
            {"class_": _BoundSession, "bind": connection, "join_transaction_mode": "create_savepoint"}
        )
        original = db.session
        db.session = scoped
        try:
            yield scoped
        finally:
            scoped.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def client(app, session):
    return app.test_client()


@pytest.fixture
def ctx(app, session):
    """An app context for calling operations directly."""
    with app.test_request_context():
        yield


def pytest_addoption(parser):
    parser.addoption(
        "--require-services",
        action="store_true",
        help="Fail (never skip) when PostgreSQL or Redis is not what the run was promised.",
    )


def pytest_configure(config):
    if config.getoption("--require-services"):
        if not (os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")):
            raise pytest.UsageError("--require-services needs TEST_DATABASE_URL=postgresql+psycopg://...")
        if not os.environ.get("TEST_REDIS_URL"):
            raise pytest.UsageError("--require-services needs TEST_REDIS_URL")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("TEST_REDIS_URL"):
        return
    skip = pytest.mark.skip(reason="needs Redis: runs in the PostgreSQL+Redis pass (TEST_REDIS_URL)")
    for item in items:
        if "redis" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter, config):
    if config.getoption("--require-services") and terminalreporter.stats.get("skipped"):
        terminalreporter.write_line("ERROR: tests were skipped in the services pass", red=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if session.config.getoption("--require-services") and reporter and reporter.stats.get("skipped"):
        session.exitstatus = 1
