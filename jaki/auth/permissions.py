"""Role checks for views: a citizen cannot call officer or admin functions (OWASP API5)."""

from __future__ import annotations

from functools import wraps

from flask import g
from flask_jwt_extended import current_user, verify_jwt_in_request

from jaki.apidoc import mark_operation
from jaki.auth.deferral import DEFER_USER
from jaki.errors import Forbidden

# Each decorator also marks the view (jaki.apidoc.mark_operation): the Blueprint documents the bearer scheme and the
# 401/403 of exactly the views that check a token.


def login_required(fresh: bool = False, refresh: bool = False, load_user: bool = True):
    """load_user=False: current_user is a tokens.DeferredUser (id and role from the token, the record loaded on
    first use), for views that can answer without it; revocation is checked all the same."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            # Said by every view (an app context reused across requests, as the test client does, must not carry
            # one view's choice into the next).
            setattr(g, DEFER_USER, not load_user)
            verify_jwt_in_request(fresh=fresh, refresh=refresh)
            return view(*args, **kwargs)

        return mark_operation(wrapper, auth="required", fresh=fresh, refresh=refresh)

    return decorator


def login_optional():
    """A public view that shows more to a signed-in viewer (their own rejected report): a token is optional, but one
    that is sent must be valid."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            setattr(g, DEFER_USER, False)
            verify_jwt_in_request(optional=True)
            return view(*args, **kwargs)

        return mark_operation(wrapper, auth="optional")

    return decorator


def roles_required(*roles: str, fresh: bool = False):
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            setattr(g, DEFER_USER, False)
            verify_jwt_in_request(fresh=fresh)
            if current_user.role not in roles:
                raise Forbidden()
            return view(*args, **kwargs)

        return mark_operation(wrapper, auth="required", roles=list(roles), fresh=fresh)

    return decorator


def area_covers(staff_area_codes: list[str], area_code: str | None) -> bool:
    """An officer's area (kota 31.74, kecamatan 31.74.05 or kelurahan 31.74.05.1001) covers the codes below it."""
    if not area_code:
        return False
    return any(area_code == a or area_code.startswith(a + ".") for a in staff_area_codes)
