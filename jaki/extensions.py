"""Extensions created unbound; create_app binds them. No I/O at import time."""

from __future__ import annotations

from flask import current_app, request
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from jaki.api import Api
from jaki.db import Base


def client_address() -> str:
    # Behind the load balancer ProxyFix (configured in create_app) has already set remote_addr.
    return request.remote_addr or "unknown"


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = Api()
jwt = JWTManager()
limiter = Limiter(key_func=client_address, default_limits=[], headers_enabled=True)


def redis_client():
    """The shared Redis connection (None on the embedded default)."""
    return current_app.extensions.get("jaki.redis")
