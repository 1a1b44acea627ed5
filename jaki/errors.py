"""JakiError hierarchy and the one JSON error envelope: {code, status, message, errors}."""

from __future__ import annotations

import logging

from flask import jsonify
from werkzeug.exceptions import HTTPException

from jaki.i18n import resolve, translate
from jaki.logging import request_id

log = logging.getLogger(__name__)


class JakiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        code: str | None = None,
        *,
        status: int | None = None,
        errors=None,
        headers=None,
        message: str | None = None,
        **params,
    ):
        self.code = code or self.code
        self.status = status or self.status
        self.errors = errors
        self.headers = headers or {}
        self.params = params
        self._message = message
        super().__init__(self.code)

    @property
    def message(self) -> str:
        return self._message or translate(self.code, **self.params)


class ValidationFailed(JakiError):
    status = 422
    code = "validation_error"


class Unauthorized(JakiError):
    status = 401
    code = "unauthorized"


class Forbidden(JakiError):
    status = 403
    code = "forbidden"


class NotFound(JakiError):
    status = 404
    code = "not_found"


class Conflict(JakiError):
    status = 409
    code = "conflict"


class PreconditionFailed(JakiError):
    status = 412
    code = "precondition_failed"


class RateLimited(JakiError):
    status = 429
    code = "rate_limited"


class Unavailable(JakiError):
    status = 503
    code = "service_unavailable"


# HTTP statuses raised by Flask/Werkzeug/smorest themselves, mapped to stable codes.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "validation_error",
    428: "precondition_required",
    429: "rate_limited",
    431: "headers_too_large",
    500: "internal_error",
    503: "service_unavailable",
    505: "http_version_not_supported",
}


def localize_field_errors(errors, language: str | None = None):
    """Field errors in the reader's language: marshmallow's are catalogue messages (jaki.field_messages), resolved
    here; jaki's own were translated when raised."""
    return resolve(errors, language)


def envelope(status: int, code: str, message: str, errors=None, headers=None):
    body = {"code": code, "status": status, "message": message}
    if errors:
        body["errors"] = localize_field_errors(errors)
    if request_id():
        body["request_id"] = request_id()  # what a citizen quotes to the helpdesk; the same id is in the logs
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_jaki_error(error: JakiError):
    return envelope(error.status, error.code, error.message, error.errors, error.headers)


def handle_http_exception(error: HTTPException):
    status = error.code or 500
    code = HTTP_CODES.get(status, "bad_request" if status < 500 else "internal_error")
    errors = None
    data = getattr(error, "data", None) or {}
    # webargs/smorest put field errors in data["messages"]; keep them, keyed by location then field.
    if "messages" in data:
        errors = data["messages"]
        if isinstance(errors, dict) and set(errors) <= {
            "json",
            "query",
            "form",
            "files",
            "headers",
            "view_args",
            "path",
            "json_or_form",
        }:
            flattened = {}
            for fields in errors.values():
                if isinstance(fields, dict):
                    flattened.update(fields)
            errors = flattened or errors
    elif "errors" in data:
        errors = data["errors"]
    headers = {}
    # Keep the headers HTTP semantics need: Allow on 405, Retry-After on 429/503, WWW-Authenticate.
    for name, value in error.get_headers():
        if name.lower() in ("allow", "retry-after", "www-authenticate"):
            headers[name] = value
    if status == 429 and "Retry-After" not in headers:
        headers["Retry-After"] = str(getattr(error, "retry_after", None) or 60)
    message = translate(code)
    return envelope(status, code, message, errors, headers)


def handle_unexpected(error: Exception):
    log.exception("unhandled error", exc_info=error)
    return envelope(500, "internal_error", translate("internal_error"))


def register_error_handlers(app) -> None:
    app.register_error_handler(JakiError, handle_jaki_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
    # create_app then registers jaki.dependencies' handlers: a database, Redis or storage outage is a 503.


def field_error(field: str, code: str, status: int = 422, **params) -> JakiError:
    """A one-field validation error whose top-level code is the specific reason (e.g. nik_province_unknown)."""
    return JakiError(code, status=status, errors={field: [translate(code, **params)]}, **params)
