"""Role checks for views: a citizen cannot call officer or admin functions (OWASP API5)."""

from __future__ import annotations

from functools import wraps

from flask_jwt_extended import current_user, verify_jwt_in_request

from jaki.errors import Forbidden


def login_required(fresh: bool = False):
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request(fresh=fresh)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def roles_required(*roles: str, fresh: bool = False):
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request(fresh=fresh)
            if current_user.role not in roles:
                raise Forbidden()
            return view(*args, **kwargs)

        return wrapper

    return decorator


def area_covers(staff_area_codes: list[str], area_code: str | None) -> bool:
    """An officer's area (kota 31.74, kecamatan 31.74.05 or kelurahan 31.74.05.1001) covers the codes below it."""
    if not area_code:
        return False
    return any(area_code == a or area_code.startswith(a + ".") for a in staff_area_codes)
