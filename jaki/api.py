"""Api and Blueprint subclasses, the base Schema and keyset pagination helpers."""

from __future__ import annotations

import base64
import binascii
import json

import marshmallow as ma
from flask_smorest import Api as BaseApi
from flask_smorest import Blueprint as BaseBlueprint

API_PREFIX = "/api/v1"


class ErrorSchema(ma.Schema):
    """The one error envelope (documentation only; jaki.errors builds it)."""

    code = ma.fields.String(metadata={"description": "Stable machine-readable error code"})
    status = ma.fields.Integer(metadata={"description": "HTTP status"})
    message = ma.fields.String(metadata={"description": "Human message (Indonesian unless Accept-Language: en)"})
    errors = ma.fields.Dict(metadata={"description": "Field errors: field -> list of messages"})
    request_id = ma.fields.String(metadata={"description": "This request's id (the X-Request-ID header); quote it"})


class Api(BaseApi):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        from jaki.errors import handle_http_exception

        return handle_http_exception(error)


class Blueprint(BaseBlueprint):
    """Documents 401/403 for views that need a login (pass auth=True to @blp.doc-less views)."""

    def login_required_doc(self, func):
        return self.doc(responses={"401": {"description": "Login required"}, "403": {"description": "Not allowed"}})(
            func
        )


class Schema(ma.Schema):
    """Base schema: unknown fields are rejected, so clients cannot mass-assign what we never offered."""

    class Meta:
        unknown = ma.RAISE
        ordered = True


class CursorPageArgsSchema(Schema):
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))
    cursor = ma.fields.String(load_default=None)


def encode_cursor(values: list) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list | None:
    from jaki.errors import ValidationFailed

    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValidationFailed(errors={"cursor": ["Cursor tidak valid."]}) from None
    if not isinstance(values, list):
        raise ValidationFailed(errors={"cursor": ["Cursor tidak valid."]})
    return values
