"""Cek bansos (rate-limited: a scraping target), the programme list, and officers recording disbursements."""

from __future__ import annotations

from flask_jwt_extended import current_user

from jaki.api import API_PREFIX, Blueprint
from jaki.auth.permissions import login_required, roles_required
from jaki.extensions import client_address, limiter
from jaki.services.limits import account_key
from jaki.services.social_aid import operations
from jaki.services.social_aid.schemas import (
    AidDisbursementCreateSchema,
    AidDisbursementSchema,
    AidProgrammeSchema,
    EligibilityRequestSchema,
    EligibilitySchema,
)
from jaki.settings import setting

blp = Blueprint("social_aid", __name__, url_prefix=API_PREFIX, description="Bantuan sosial (bansos)")


@blp.route("/social-aid/programmes", methods=["GET"])
@blp.response(200, AidProgrammeSchema(many=True))
def programmes():
    """The DKI social aid programmes (public)."""
    return operations.programmes()


@blp.route("/me/social-aid/eligibility", methods=["POST"])
@limiter.limit(
    lambda: setting("SERVICES_ELIGIBILITY_RATE_PER_CLIENT"), key_func=lambda: "cek-bansos:ip:" + client_address()
)
@limiter.limit(lambda: setting("SERVICES_ELIGIBILITY_RATE"), key_func=account_key("cek-bansos"))
@login_required()
@blp.arguments(EligibilityRequestSchema)
@blp.response(200, EligibilitySchema)
def eligibility(data):
    """Cek bansos: my own or my child's eligibility by NIK. Other NIKs are refused; a few checks an hour."""
    return operations.check_eligibility(current_user, data["nik"])


@blp.route("/officer/social-aid/disbursements", methods=["POST"])
@roles_required("officer", "agency_admin")
@blp.arguments(AidDisbursementCreateSchema)
@blp.response(201, AidDisbursementSchema, location=("social_aid.programmes", {}))
def record_disbursement(data):
    """Record a payment of an aid programme run by my agency (the beneficiary is notified)."""
    return operations.record_disbursement(current_user, data)
