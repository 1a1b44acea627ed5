"""Extensions created unbound; create_app binds them. No I/O at import time."""

from __future__ import annotations

from flask import current_app, request
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_migrate import Migrate

from jaki.api import Api
from jaki.apidoc import mark_operation
from jaki.db import db

__all__ = ["api", "client_address", "db", "jwt", "limiter", "migrate", "redis_client"]


def client_address() -> str:
    # Behind the load balancer ProxyFix (configured in create_app) has already set remote_addr.
    return request.remote_addr or "unknown"


class JakiLimiter(Limiter):
    """Flask-Limiter whose decorators also mark the view as rate limited, so the spec documents its 429."""

    def limit(self, *args, **kwargs):
        return _marking(super().limit(*args, **kwargs))

    def shared_limit(self, *args, **kwargs):
        return _marking(super().shared_limit(*args, **kwargs))


def _marking(limit_decorator):
    def apply(view):
        return mark_operation(limit_decorator(view), rate_limited=True)

    return apply


migrate = Migrate()
api = Api()
jwt = JWTManager()
limiter = JakiLimiter(key_func=client_address, default_limits=[], headers_enabled=True)


def redis_client():
    """The shared Redis connection (None on the embedded default)."""
    return current_app.extensions.get("jaki.redis")
