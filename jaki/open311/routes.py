"""Open311 GeoReport v2 endpoints (every answer and error in Open311's XML/JSON), and admin/staff JSON endpoints."""

# Under OPEN311_BASE_PATH every path ends in .xml or .json; every error there, 404 and 405 of unknown paths and
# methods included, is an Open311 error document in the format the path asks for (XML when it names none).

from __future__ import annotations

import logging

from flask import current_app, request
from flask_jwt_extended import current_user
from werkzeug.exceptions import HTTPException

from jaki.api import API_PREFIX, OPEN311_ERROR, Blueprint
from jaki.auth.permissions import roles_required
from jaki.dependencies import as_unavailable
from jaki.errors import HTTP_CODES, JakiError
from jaki.extensions import client_address, limiter
from jaki.i18n import translate
from jaki.idempotency import idempotent
from jaki.open311 import operations, render
from jaki.open311 import schemas as s
from jaki.settings import setting

log = logging.getLogger(__name__)

open311_blp = Blueprint(
    "open311",
    __name__,
    description="Open311 GeoReport v2 (XML and JSON)",
    error_response=OPEN311_ERROR,
    refuse_unknown_query=False,  # GeoReport v2: vendor extensions are ignored, not refused
)
admin_blp = Blueprint(
    "open311_admin", __name__, url_prefix=f"{API_PREFIX}/admin/open311", description="Open311: API key klien"
)
staff_blp = Blueprint(
    "open311_staff",
    __name__,
    url_prefix=f"{API_PREFIX}/officer/open311",
    description="Open311: kontak pengirim (diaudit)",
)

FMT = "<any(xml,json):fmt>"
# Field names of jaki's reports domain as Open311 clients know them.
_FIELD_NAMES = {"latitude": "lat", "longitude": "long", "category": "service_code", "address": "address_string"}


# ---- errors in Open311's format -----------------------------------------------------------------------


def _format() -> str:
    fmt = (request.view_args or {}).get("fmt")
    return fmt if fmt in render.CONTENT_TYPES else render.format_of_path(request.path)


def _error_response(status: int, descriptions: list[str], headers: dict | None = None):
    headers = dict(headers or {})
    if status == 429 and "Retry-After" not in headers:
        headers["Retry-After"] = "60"
    return render.errors(_format(), status, list(dict.fromkeys(descriptions)), headers)


@open311_blp.errorhandler(JakiError)
def _jaki_error(error: JakiError):
    # Open311 clients know 400, not 422, for a request they must fix.
    status = 400 if error.status == 422 else error.status
    descriptions = [error.message]
    if isinstance(error.errors, dict) and error.errors:
        descriptions = [
            f"{_FIELD_NAMES.get(field, field)}: {message}"
            for field, messages in error.errors.items()
            for message in (messages if isinstance(messages, list) else [messages])
        ]
    return _error_response(status, descriptions, error.headers)


def _http_error(error: HTTPException):
    status = error.code or 500
    code = HTTP_CODES.get(status, "bad_request" if status < 500 else "internal_error")
    headers = {name: value for name, value in error.get_headers() if name.lower() in ("allow", "retry-after")}
    return _error_response(status, [translate(code)], headers)


open311_blp.register_error_handler(HTTPException, _http_error)


@open311_blp.errorhandler(Exception)
def _unexpected(error: Exception):
    unavailable = as_unavailable(error)  # this handler outranks the app's: outages are answered here too
    if unavailable is not None:
        return _jaki_error(unavailable)
    log.exception("unhandled error in open311", exc_info=error)
    return _error_response(500, [translate("internal_error")])


def _under_base(path: str) -> bool:
    base = setting("OPEN311_BASE_PATH")
    return path == base or path.startswith(base + "/")


@open311_blp.before_app_request
def _routing_errors_under_base():
    """404/405 for paths under the base never reach a view (nor its handlers): answer them here, in Open311's format."""
    error = request.routing_exception
    if error is None or not isinstance(error, HTTPException) or (error.code or 0) < 400:
        return None
    if not _under_base(request.path):
        return None
    return _http_error(error)


@open311_blp.before_request
def _jurisdiction():
    operations.check_jurisdiction(request.values.get("jurisdiction_id"))


# ---- rate limits --------------------------------------------------------------------------------------


def _get_rate() -> str:
    return setting("OPEN311_GET_RATE_PER_CLIENT")


def _post_rate_per_key() -> str:
    return setting("OPEN311_POST_RATE_PER_KEY")


def _post_rate_per_client() -> str:
    return setting("OPEN311_POST_RATE_PER_CLIENT")


def _client_key() -> str:
    return "open311-client:" + client_address()


def _api_key_key() -> str:
    return operations.rate_limit_key(request.form.get("api_key"))


# ---- GeoReport v2 -------------------------------------------------------------------------------------


@open311_blp.route(f"/discovery.{FMT}", methods=["GET"])
@limiter.limit(_get_rate, key_func=_client_key)
@open311_blp.doc(**s.georeport(s.DiscoverySchema, many=False))
def discovery(fmt):
    """Service discovery: the endpoint, its formats and how to get an API key."""
    contact = setting("OPEN311_CONTACT")
    base_url = request.host_url.rstrip("/") + setting("OPEN311_BASE_PATH")
    body = render.discovery(
        base_url,
        contact,
        translate("open311_key_service", contact=contact),
        current_app.config.get("JAKI_ENV") == "production",
        operations.CHANGESET,
    )
    return render.document(fmt, "discovery", body)


@open311_blp.route(f"/services.{FMT}", methods=["GET"])
@limiter.limit(_get_rate, key_func=_client_key)
@open311_blp.doc(**s.georeport(s.ServiceSchema))
def services(fmt):
    """Active report categories as services (group: the responsible agency)."""
    categories, agencies = operations.list_services()
    return render.listing(fmt, "services", "service", [render.service_item(c, agencies) for c in categories])


@open311_blp.route(f"/services/<string:service_code>.{FMT}", methods=["GET"])
@limiter.limit(_get_rate, key_func=_client_key)
@open311_blp.doc(**s.georeport(s.ServiceDefinitionSchema, many=False))
def service_definition(service_code, fmt):
    """A service's attributes (none yet: metadata is false in the list)."""
    category = operations.get_service(service_code)
    return render.document(fmt, "service_definition", render.service_definition(category))


@open311_blp.route(f"/requests.{FMT}", methods=["POST"])
@limiter.limit(_post_rate_per_client, key_func=_client_key)
@limiter.limit(_post_rate_per_key, key_func=_api_key_key)
@idempotent(principal=operations.idempotency_principal)
@open311_blp.doc(
    **s.georeport(
        s.SubmittedRequestSchema,
        requestBody={
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": s.PostRequestFormSchema}},
        },
    )
)
def create_request(fmt):
    """Create a service request (form-encoded; lat and long required; media_url stored, never fetched)."""
    key = operations.authenticate(request.form.get("api_key"))
    data = s.load(s.PostRequestSchema(), request.form.to_dict())
    submitted = operations.submit_request(key, data, s.attributes_of(request.form))
    return render.listing(fmt, "service_requests", "request", [render.submitted_item(submitted)])


@open311_blp.route(f"/requests.{FMT}", methods=["GET"])
@limiter.limit(_get_rate, key_func=_client_key)
@open311_blp.doc(**s.georeport(s.ServiceRequestSchema, parameters=[{"in": "query", "schema": s.RequestsQuerySchema}]))
def list_requests(fmt):
    """Public requests, newest first: by ids, or service_code/status/start_date/end_date (last 90 days); page."""
    args = s.load(s.RequestsQuerySchema(), request.args.to_dict())
    reports = operations.find_requests(args)
    agencies = operations.agency_names()
    submissions = operations.submissions_for([r.id for r in reports])
    return render.listing(
        fmt, "service_requests", "request", [render.request_item(r, agencies, submissions.get(r.id)) for r in reports]
    )


@open311_blp.route(f"/requests/<string:request_id>.{FMT}", methods=["GET"])
@limiter.limit(_get_rate, key_func=_client_key)
@open311_blp.doc(**s.georeport(s.ServiceRequestSchema))
def get_request(request_id, fmt):
    """One public request (as a one-item list, as the spec has it)."""
    report = operations.get_request(request_id)
    submission = operations.submissions_for([report.id]).get(report.id)
    return render.listing(
        fmt, "service_requests", "request", [render.request_item(report, operations.agency_names(), submission)]
    )


@open311_blp.route(f"/tokens/<string:token>.{FMT}", methods=["GET"])
@limiter.limit(_get_rate, key_func=_client_key)
@open311_blp.doc(**s.georeport(s.RequestTokenSchema))
def token(token, fmt):
    """The service_request_id a token became."""
    submission = operations.lookup_token(token)
    return render.listing(fmt, "service_requests", "request", [render.token_item(submission)])


# ---- admins: API keys ---------------------------------------------------------------------------------


def _issued(key, raw: str) -> dict:
    return {
        "id": key.id,
        "name": key.name,
        "key_prefix": key.key_prefix,
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "revoked_at": key.revoked_at,
        "key": raw,
    }


@admin_blp.route("/keys", methods=["POST"])
@roles_required("admin")
@admin_blp.arguments(s.ApiKeyCreateSchema)
@admin_blp.response(201, s.ApiKeyIssuedSchema, location=("open311_admin.list_keys", {}))
def create_key(data):
    """Issue an API key to an Open311 client; the key is shown in this answer only."""
    key, raw = operations.create_key(data["name"], current_user)
    return _issued(key, raw)


@admin_blp.route("/keys", methods=["GET"])
@roles_required("admin")
@admin_blp.response(200, s.ApiKeySchema(many=True))
def list_keys():
    """Issued keys (names, prefixes, last use; never the keys)."""
    return operations.list_keys()


@admin_blp.route("/keys/<string:key_id>", methods=["DELETE"])
@roles_required("admin")
@admin_blp.response(200, s.ApiKeySchema)
def revoke_key(key_id):
    """Revoke a key at once (idempotent)."""
    return operations.revoke_key(key_id)


# ---- staff: the submitter's contact -------------------------------------------------------------------


@staff_blp.route("/requests/<string:report_id>/submitter", methods=["GET"])
@roles_required("officer", "agency_admin", "admin")
@staff_blp.doc(
    parameters=[
        {
            "in": "header",
            "name": "X-Access-Reason",
            "required": True,
            "schema": {"type": "string"},
            "description": "Why you need to contact the submitter",
        }
    ]
)
@staff_blp.response(200, s.SubmitterContactSchema)
def submitter(report_id):
    """The Open311 submitter's contact data for staff in the report's scope (audited: who, whose, when, why)."""
    return operations.submitter_contact(current_user, report_id, request.headers.get("X-Access-Reason"))
