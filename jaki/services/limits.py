"""Rate-limit keys per account for the services' expensive or sensitive endpoints."""

from __future__ import annotations

from flask import request
from flask_jwt_extended import get_jwt_identity, verify_jwt_in_request

from jaki.extensions import client_address

TRUE = {"1", "t", "true", "y", "yes", "on"}


def account_key(prefix: str):
    """Key by account; the limit is checked before the view's own login check (an invalid token fails here)."""

    def key() -> str:
        verify_jwt_in_request(optional=True)
        identity = get_jwt_identity()
        return f"{prefix}:user:{identity}" if identity else f"{prefix}:ip:{client_address()}"

    return key


def not_a_refresh() -> bool:
    """Only ?refresh=true calls the agencies on every request; the cached answer costs them nothing."""
    return request.args.get("refresh", "").strip().lower() not in TRUE
