"""The citizen's data rights (/me/access-log, /me/corrections, /me/consents, DELETE /me) and the staff's side."""

from __future__ import annotations

from flask_jwt_extended import current_user, get_jwt

from jaki.api import API_PREFIX, Blueprint, CursorPageArgsSchema
from jaki.auth.permissions import login_required, roles_required
from jaki.errors import NotFound
from jaki.pdp import access, consent, corrections, deletion, objections
from jaki.pdp.schemas import (
    AccessDelaySchema,
    AccessEntrySchema,
    AccessPageSchema,
    AccountCloseSchema,
    BreakGlassEntrySchema,
    BreakGlassPageSchema,
    BreakGlassQueryArgsSchema,
    BreakGlassReviewSchema,
    ConsentsPatchSchema,
    ConsentsSchema,
    CorrectionCreateSchema,
    CorrectionMoveSchema,
    CorrectionPageSchema,
    CorrectionQueueArgsSchema,
    CorrectionSchema,
    DeletionReceiptSchema,
)

blp = Blueprint("pdp", __name__, url_prefix=API_PREFIX, description="Data pribadi saya (UU PDP)")


@blp.route("/me/access-log", methods=["GET"])
@login_required()
@blp.arguments(CursorPageArgsSchema, location="query")
@blp.response(200, AccessPageSchema)
def access_log(args):
    """Who read my data (and my children's), newest first: officials, agency pulls, Open311 contact reads, exports."""
    return access.my_access_log(current_user, limit=args["limit"], cursor=args["cursor"])


@blp.route("/me/corrections", methods=["POST"])
@login_required()
@blp.arguments(CorrectionCreateSchema)
@blp.response(201, CorrectionSchema, location=("pdp.my_correction", {"request_id": "id"}))
def file_correction(data):
    """Ask the agency that holds a field of mine (or my child's) to correct it; acknowledged within 3 x 24 hours."""
    return corrections.file_request(current_user, data)


@blp.route("/me/corrections", methods=["GET"])
@login_required()
@blp.arguments(CursorPageArgsSchema, location="query")
@blp.response(200, CorrectionPageSchema)
def my_corrections(args):
    """My correction requests, newest first, each with its status trail."""
    return corrections.my_requests(current_user, limit=args["limit"], cursor=args["cursor"])


@blp.route("/me/corrections/<string:request_id>", methods=["GET"])
@login_required()
@blp.response(200, CorrectionSchema)
def my_correction(request_id):
    """One of my correction requests."""
    return corrections.my_request(current_user, request_id)


@blp.route("/me/consents", methods=["GET"])
@login_required()
@blp.response(200, ConsentsSchema)
def my_consents():
    """Optional processing and whether I allow it (area alerts by my home area, programme offers)."""
    return consent.choices(current_user)


@blp.route("/me/consents", methods=["PATCH"])
@login_required()
@blp.arguments(ConsentsPatchSchema)
@blp.response(200, ConsentsSchema)
def change_consents(data):
    """Turn optional processing on or off; an objection takes effect at once, within 3 x 24 hours at the latest."""
    return objections.change(current_user, data)


@blp.route("/me/account", methods=["DELETE"])
@login_required(fresh=True)
@blp.arguments(AccountCloseSchema)
@blp.response(200, DeletionReceiptSchema)
def close_account(data):
    """Close my account: personal data erased now; what the law keeps is kept pseudonymised (the receipt says)."""
    receipt = deletion.close_account(current_user, data["password"], get_jwt())
    return deletion.receipt_view(receipt)


@blp.route("/pdp/deletion-receipts/<string:reference>", methods=["GET"])
@blp.response(200, DeletionReceiptSchema)
def deletion_receipt(reference):
    """A deletion receipt by its number (it holds no personal data)."""
    receipt = deletion.find_receipt(reference)
    if receipt is None:
        raise NotFound()
    return deletion.receipt_view(receipt)


# ---- staff -------------------------------------------------------------------------------------------


@blp.route("/officer/corrections", methods=["GET"])
@roles_required("officer", "agency_admin", "admin")
@blp.arguments(CorrectionQueueArgsSchema, location="query")
@blp.response(200, CorrectionPageSchema)
def correction_queue(args):
    """My agency's correction requests, the nearest acknowledgement deadline first."""
    return corrections.agency_queue(current_user, status=args["status"], limit=args["limit"], cursor=args["cursor"])


@blp.route("/officer/corrections/<string:request_id>", methods=["GET"])
@roles_required("officer", "agency_admin", "admin")
@blp.response(200, CorrectionSchema)
def agency_correction(request_id):
    """One correction request of my agency."""
    return corrections.agency_request(current_user, request_id)


@blp.route("/officer/corrections/<string:request_id>/status", methods=["POST"])
@roles_required("officer", "agency_admin", "admin")
@blp.arguments(CorrectionMoveSchema)
@blp.response(200, CorrectionSchema)
def move_correction(data, request_id):
    """Acknowledge, correct or reject a request (the citizen is told)."""
    return corrections.move(current_user, request_id, data["status"], data.get("note"))


@blp.route("/admin/break-glass", methods=["GET"])
@roles_required("agency_admin", "admin")
@blp.arguments(BreakGlassQueryArgsSchema, location="query")
@blp.response(200, BreakGlassPageSchema)
def break_glass_queue(args):
    """Reads outside an official's scope, for a supervisor's review (my agency's; every one for an admin)."""
    return access.break_glass_queue(current_user, status=args["status"], limit=args["limit"], cursor=args["cursor"])


@blp.route("/admin/break-glass/<string:entry_id>/review", methods=["POST"])
@roles_required("agency_admin", "admin")
@blp.arguments(BreakGlassReviewSchema)
@blp.response(200, BreakGlassEntrySchema)
def review_break_glass(data, entry_id):
    """Record whether a break-glass read was justified (never one's own)."""
    return access.review(current_user, access.entry_id(entry_id), data["verdict"], data.get("note"))


@blp.route("/admin/access-log/<string:entry_id>/delay", methods=["POST"])
@roles_required("admin")
@blp.arguments(AccessDelaySchema)
@blp.response(200, AccessEntrySchema)
def delay_access_entry(data, entry_id):
    """Hold an entry back from the citizen for an investigation, for a bounded time; shown flagged after."""
    return access.present(access.delay_entry(current_user, access.entry_id(entry_id), data["until"], data["reason"]))
