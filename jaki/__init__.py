"""jaki: one NIK account for a Jakarta resident's public services, reports and notifications."""

from __future__ import annotations

from flask import Flask


def create_app(config=None) -> Flask:
    """Build the app. `config` is a settings class, a name ("testing") or a dict of overrides."""
    from config import INSTANCE_DIR, Production, get_config
    from jaki import cli, errors, extensions, health, inputs
    from jaki.logging import configure_logging
    from jaki.proxy import TrustedProxyFix

    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    overrides = {}
    if isinstance(config, dict):
        overrides = config
        config = None
    settings = get_config(config) if config is None or isinstance(config, str) else config
    if settings is Production or (isinstance(settings, type) and issubclass(settings, Production)):
        settings.check()
    app.config.from_object(settings)
    app.config.update(overrides)
    app.config["JAKI_ENV"] = settings.ENV_NAME
    inputs.init_app(app)
    if app.config["JAKI_ENV"] != "production":
        from jaki import devserver

        devserver.install()  # `flask run` (make run); production serves through gunicorn
    app.json.sort_keys = False  # fields keep the order the schemas give them
    configure_logging(app.config["LOG_LEVEL"])
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    proxy_fix = TrustedProxyFix(app.wsgi_app, app.config["TRUSTED_PROXIES"], hops=app.config["PROXY_HOPS"])
    app.wsgi_app = app.extensions["jaki.proxy_fix"] = proxy_fix

    _init_redis(app)
    extensions.db.init_app(app)
    with app.app_context():
        _tune_engine(extensions.db.engine)
    extensions.migrate.init_app(app, extensions.db, directory=str(_migrations_dir()))
    extensions.jwt.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    extensions.limiter.init_app(app)
    extensions.api.init_app(app)
    errors.register_error_handlers(app)
    # smorest registered its own HTTPException handler during init_app; ours (same envelope) is set after.

    from jaki.auth.tokens import register_jwt_callbacks

    register_jwt_callbacks(extensions.jwt)
    _register_blueprints(app)
    app.register_blueprint(health.blp)
    cli.register(app)
    return app


def _tune_engine(engine) -> None:
    if engine.dialect.name != "sqlite":
        return
    from sqlalchemy import event

    # pysqlite's own transaction handling breaks SAVEPOINTs and SELECT ... FOR UPDATE semantics;
    # let SQLAlchemy emit BEGIN itself (the documented recipe), and make SQLite behave like a server.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN")


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
DOMAINS = ("jaki.reports", "jaki.open311", "jaki.services", "jaki.notifications")


def _register_blueprints(app: Flask) -> None:
    import importlib

    from jaki.auth.routes import admin_blp, auth_blp, me_blp
    from jaki.extensions import api

    for blp in (auth_blp, me_blp, admin_blp):
        api.register_blueprint(blp)
    app.extensions.setdefault("jaki.export_sections", {})
    for name in DOMAINS:
        importlib.import_module(name).init_app(app)
