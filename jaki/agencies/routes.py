"""/agencies (public list and integration count) and /admin/agencies (integration health, breaker reset)."""

from __future__ import annotations

from jaki.agencies import operations
from jaki.agencies.schemas import AgencyDetailSchema, AgencyEntrySchema, AgencyIntegrationSummarySchema
from jaki.api import API_PREFIX, Blueprint
from jaki.auth.permissions import roles_required

blp = Blueprint("agencies", __name__, url_prefix=f"{API_PREFIX}/agencies", description="Dinas dan badan")
admin_blp = Blueprint(
    "agencies_admin", __name__, url_prefix=f"{API_PREFIX}/admin/agencies", description="Integrasi dinas (admin)"
)


@blp.route("", methods=["GET"])
@blp.response(200, AgencyEntrySchema(many=True))
def list_agencies():
    """The Pemprov's offices, the services they answer for, and whether they are integrated."""
    return operations.public_list()


@blp.route("/integration", methods=["GET"])
@blp.response(200, AgencyIntegrationSummarySchema)
def integration():
    """How many offices are integrated (public)."""
    return operations.integration_summary()


@admin_blp.route("", methods=["GET"])
@roles_required("admin")
@admin_blp.response(200, AgencyDetailSchema(many=True))
def admin_list():
    """Every office with its connector and integration health (breaker state, last success, error rate)."""
    return operations.admin_list()


@admin_blp.route("/<string:code>", methods=["GET"])
@roles_required("admin")
@admin_blp.response(200, AgencyDetailSchema)
def admin_get(code):
    """One office's integration detail."""
    return operations.admin_get(code)


@admin_blp.route("/<string:code>/breaker/reset", methods=["POST"])
@roles_required("admin")
@admin_blp.response(200, AgencyDetailSchema)
def reset_breaker(code):
    """Close the office's circuit breaker now (after a fix), instead of waiting for the probe."""
    return operations.reset_breaker(code)
