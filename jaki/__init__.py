"""jaki: one NIK account for a Jakarta resident's public services, reports and notifications."""

from __future__ import annotations

from flask import Flask


def create_app(config=None) -> Flask:
    """Build the app. `config` is a settings class, a name ("testing") or a dict of overrides."""
    from config import INSTANCE_DIR, Production, get_config
    from jaki import (
        caching,
        cli,
        cors,
        dependencies,
        docs,
        errors,
        extensions,
        health,
        inputs,
        metrics,
        observability,
        servers,
    )
    from jaki.logging import configure_logging
    from jaki.proxy import TrustedProxyFix

    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    overrides = {}
    if isinstance(config, dict):
        overrides = config
        config = None
    settings = get_config(config) if config is None or isinstance(config, str) else config
    app.config.from_object(settings)
    app.config.update(overrides)
    if isinstance(settings, type) and issubclass(settings, Production):
        settings.check(app.config)  # the settings the app will really run with, overrides included
    app.config["JAKI_ENV"] = settings.ENV_NAME
    inputs.init_app(app)
    servers.install()
    app.json.sort_keys = False  # fields keep the order the schemas give them
    configure_logging(app.config["LOG_LEVEL"])
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    proxy_fix = TrustedProxyFix(app.wsgi_app, app.config["TRUSTED_PROXIES"], hops=app.config["PROXY_HOPS"])
    app.wsgi_app = app.extensions["jaki.proxy_fix"] = proxy_fix

    observability.init_app(app)  # first: its hooks must see every request, the limiter's 429s included
    _init_redis(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # An inline job (run at commit, embedded default) takes a second connection while its request still holds
        # one: with a bounded pool, 15 such requests at once waited on each other for the pool's 30 s and failed.
        # SQLite connections are cheap: keep 5, open more when needed.
        options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "max_overflow": -1}
    extensions.db.init_app(app)
    with app.app_context():
        _tune_engine(extensions.db.engine)
    extensions.migrate.init_app(app, extensions.db, directory=str(_migrations_dir()))
    extensions.jwt.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    extensions.limiter.init_app(app)
    extensions.api.init_app(app)
    errors.register_error_handlers(app)
    dependencies.register(app)  # a database, Redis or storage outage is a 503, not an internal_error
    # smorest registered its own HTTPException handler during init_app; ours (same envelope) is set after.

    from jaki.auth.tokens import register_jwt_callbacks

    register_jwt_callbacks(extensions.jwt)
    _register_blueprints(app)
    app.register_blueprint(health.blp)
    app.register_blueprint(metrics.blp)
    app.register_blueprint(docs.blp)
    caching.init_app(app)
    cors.init_app(app)
    cli.register(app)
    return app


# Statements that only read: run outside a transaction on SQLite (see _tune_engine).
_READ_VERBS = ("SELECT", "WITH", "PRAGMA", "EXPLAIN", "VALUES")


def _plain_read(statement: str, context) -> bool:
    if not statement.lstrip()[:8].upper().startswith(_READ_VERBS):
        return False
    compiled = getattr(context, "compiled", None)
    if compiled is None:
        return True
    if context.isinsert or context.isupdate or context.isdelete:  # WITH ... INSERT
        return False
    # FOR UPDATE has no SQLite syntax (the compiler drops it); the database's write lock is its equivalent.
    return getattr(compiled.statement, "_for_update_arg", None) is None


def _tune_engine(engine) -> None:
    if engine.dialect.name != "sqlite":
        return
    from sqlalchemy import event

    # pysqlite's own transaction handling breaks SAVEPOINTs and SELECT ... FOR UPDATE semantics; SQLAlchemy
    # (and the listener below) begin transactions instead, and SQLite is made to behave like a server.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    # SQLite has one writer at a time. A transaction begun with a plain BEGIN that has read and then writes must
    # upgrade its lock, and in WAL mode that fails at once ("database is locked", whatever busy_timeout says) when
    # another writer committed since its first read: 8 users at once got 500s. So reads run outside any
    # transaction, each statement seeing the latest commit (PostgreSQL's READ COMMITTED, which the code is written
    # for), and the first statement that writes, locks (FOR UPDATE) or opens a savepoint begins the transaction
    # with BEGIN IMMEDIATE: it waits its turn for the write lock (busy_timeout) and is never refused halfway.
    @event.listens_for(engine, "before_cursor_execute")
    def _begin_immediate_before_writing(_conn, cursor, statement, _parameters, context, _executemany):
        if not cursor.connection.in_transaction and not _plain_read(statement, context):
            cursor.execute("BEGIN IMMEDIATE")


def _migrations_dir():
    from config import BASE_DIR

    return BASE_DIR / "migrations"


def _init_redis(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    if url:
        import redis
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry

        # Short, bounded retries: a request must fail fast (and readiness must say so) when Redis is down.
        app.extensions["jaki.redis"] = redis.Redis.from_url(
            url,
            socket_connect_timeout=2,
            socket_timeout=5,
            health_check_interval=30,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
        )
    else:
        app.extensions["jaki.redis"] = None


# Domain packages; each defines init_app(app) that registers its blueprints, CLI commands, demo seeders and
# data-export sections.
DOMAINS = (
    "jaki.geo",
    "jaki.reports",
    "jaki.open311",
    "jaki.services",
    "jaki.agencies",
    "jaki.notifications",
    "jaki.stats",
    "jaki.opendata",
    "jaki.command_center",
    "jaki.pdp",
)


def _register_blueprints(app: Flask) -> None:
    import importlib

    from jaki.auth.routes import admin_blp, auth_blp, me_blp
    from jaki.extensions import api

    for blp in (auth_blp, me_blp, admin_blp):
        api.register_blueprint(blp)
    app.extensions.setdefault("jaki.export_sections", {})
    for name in DOMAINS:
        importlib.import_module(name).init_app(app)
