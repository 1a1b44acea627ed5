"""Api and Blueprint subclasses, the arguments parser, the base Schema and keyset pagination helpers."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping

import marshmallow as ma
from flask_smorest import Api as BaseApi
from flask_smorest import Blueprint as BaseBlueprint
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser, is_json_request

from jaki import inputs
from jaki.i18n import translate

API_PREFIX = "/api/v1"

# Limits of string and number fields that name none of their own.
TEXT_MAX_LENGTH = 1000
EMAIL_MAX_LENGTH = 254  # RFC 5321: the longest address a mail server accepts
URL_MAX_LENGTH = 2000
INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # PostgreSQL's integer


class ErrorSchema(ma.Schema):
    """The one error envelope (documentation only; jaki.errors builds it)."""

    code = ma.fields.String(metadata={"description": "Stable machine-readable error code"})
    status = ma.fields.Integer(metadata={"description": "HTTP status"})
    message = ma.fields.String(metadata={"description": "Human message (Indonesian unless Accept-Language: en)"})
    errors = ma.fields.Dict(metadata={"description": "Field errors: field -> list of messages"})


class Api(BaseApi):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        from jaki.errors import handle_http_exception

        return handle_http_exception(error)


class Parser(FlaskParser):
    """webargs parsing JSON under jaki.inputs' limits (webargs' own json.loads would let a 5000-digit number or
    deep nesting through to a 500)."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return webargs_core.missing
        data = req.get_data(cache=True)
        return inputs.loads(data) if data else webargs_core.missing

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        raise inputs.invalid_json()


class Blueprint(BaseBlueprint):
    """Documents 401/403 for views that need a login (pass auth=True to @blp.doc-less views)."""

    ARGUMENTS_PARSER = Parser()

    def login_required_doc(self, func):
        return self.doc(responses={"401": {"description": "Login required"}, "403": {"description": "Not allowed"}})(
            func
        )


def _unstorable(value) -> bool:
    if isinstance(value, str):
        return not inputs.storable(value)
    if isinstance(value, (list, tuple)):
        return any(_unstorable(v) for v in value)
    if isinstance(value, Mapping):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    return False


def apply_input_rules(field: ma.fields.Field) -> None:
    """Every string field gets a maximum length (its own if it names one); integers stay within PostgreSQL's
    integer unless they say otherwise; floats must be finite."""
    if getattr(field, "_jaki_input_rules", False):
        return
    # Schemas get shallow copies of their class's fields: assign new validator lists, never append to the shared.
    field._jaki_input_rules = True
    validators = list(field.validators)
    if isinstance(field, ma.fields.String):
        if not any(isinstance(v, ma.validate.Length) and v.max is not None for v in validators):
            if isinstance(field, ma.fields.Email):
                limit = EMAIL_MAX_LENGTH
            elif isinstance(field, ma.fields.Url):
                limit = URL_MAX_LENGTH
            else:
                limit = TEXT_MAX_LENGTH
            validators.insert(0, ma.validate.Length(max=limit))
        field.validators = validators
    elif isinstance(field, ma.fields.Integer):
        if not any(isinstance(v, ma.validate.Range) and v.max is not None for v in validators):
            field.validators = [*validators, ma.validate.Range(min=INT_MIN, max=INT_MAX)]
    elif isinstance(field, ma.fields.Float):
        field.allow_nan = False
    for inner in (
        getattr(field, "inner", None),  # List
        getattr(field, "key_field", None),  # Dict / Mapping
        getattr(field, "value_field", None),
        *getattr(field, "tuple_fields", ()),
    ):
        if inner is not None:
            apply_input_rules(inner)


class InputRules:
    """Schema mixin: apply_input_rules to every field (nested jaki schemas apply it to theirs), and refuse text
    PostgreSQL cannot store (NUL, lone surrogates) wherever it sits in the input, whatever the field's type."""

    def on_bind_field(self, field_name: str, field_obj: ma.fields.Field) -> None:
        super().on_bind_field(field_name, field_obj)
        apply_input_rules(field_obj)

    @ma.pre_load
    def _refuse_unstorable(self, data, **kwargs):
        if isinstance(data, Mapping):
            bad = {key: [translate("text_unstorable")] for key, value in data.items() if _unstorable([key, value])}
            if bad:
                raise ma.ValidationError(bad)
        return data


class Schema(InputRules, ma.Schema):
    """Base schema: unknown fields are rejected, so clients cannot mass-assign what we never offered; strings,
    integers and floats are bounded (InputRules)."""

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
