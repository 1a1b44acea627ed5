"""The citizen's one door: /me/overview, /me/household, /me/{health,education,social-aid,tax}; officers' lookups."""

from __future__ import annotations

from flask_jwt_extended import current_user

from jaki.api import API_PREFIX, Blueprint
from jaki.auth.permissions import login_required, roles_required
from jaki.auth.tokens import user_record
from jaki.caching import cached_answer
from jaki.extensions import limiter
from jaki.services import operations
from jaki.services.household import household_for
from jaki.services.limits import account_key, not_a_refresh
from jaki.services.schemas import (
    HouseholdSchema,
    ServiceLookupResultSchema,
    ServiceLookupSchema,
    ServiceSectionSchema,
    ServicesOverviewSchema,
    ServicesRefreshArgsSchema,
)
from jaki.settings import setting

blp = Blueprint("services", __name__, url_prefix=API_PREFIX, description="Layanan publik: satu pintu")

# URL segment -> domain
SECTION_PATHS = {"health": "health", "education": "education", "social-aid": "social_aid", "tax": "tax"}


def _refresh_rate() -> str:
    return setting("SERVICES_REFRESH_RATE")


@blp.route("/me/overview", methods=["GET"])
@limiter.shared_limit(
    _refresh_rate, scope="services-refresh", key_func=account_key("services-refresh"), exempt_when=not_a_refresh
)
@login_required(load_user=False)
@cached_answer("overview", "SERVICES_OVERVIEW_ANSWER_SECONDS", bypass="refresh")
@blp.arguments(ServicesRefreshArgsSchema, location="query")
@blp.response(200, ServicesOverviewSchema)
def overview(args):
    """Every service at once: health, education, social aid, tax, permits, letters (each ok, stale or
    unavailable, with as_of)."""
    return operations.overview(user_record(current_user), refresh=args["refresh"])


@blp.route("/me/household", methods=["GET"])
@login_required()
@blp.response(200, HouseholdSchema)
def household():
    """Me and, if I head my Kartu Keluarga, my children under 18 (whose records I see)."""
    return operations.household_view(household_for(current_user))


def _section_view(path: str, domain: str):
    def view(args):
        return operations.section(current_user, domain, refresh=args["refresh"])

    # Named before decorating: the rate limiter and the API docs register views by name.
    view.__name__ = view.__qualname__ = f"section_{domain}"
    view.__doc__ = f"My {domain.replace('_', ' ')} records (and my children's where they apply)."
    decorated = blp.response(200, ServiceSectionSchema)(view)
    decorated = blp.arguments(ServicesRefreshArgsSchema, location="query")(decorated)
    decorated = login_required()(decorated)
    decorated = limiter.shared_limit(
        _refresh_rate, scope="services-refresh", key_func=account_key("services-refresh"), exempt_when=not_a_refresh
    )(decorated)
    blp.route(f"/me/{path}", methods=["GET"], endpoint=f"section_{domain}")(decorated)


for _path, _domain in SECTION_PATHS.items():
    _section_view(_path, _domain)


@blp.route("/officer/services/<string:domain>/lookup", methods=["POST"])
@roles_required("officer", "agency_admin")
@blp.arguments(ServiceLookupSchema)
@blp.response(200, ServiceLookupResultSchema)
def officer_lookup(data, domain):
    """One resident's records in my agency's domain, by NIK (audited, with a reason)."""
    return operations.officer_lookup(current_user, SECTION_PATHS.get(domain, domain), data["nik"], data["reason"])
