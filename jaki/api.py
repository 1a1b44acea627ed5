"""Api and Blueprint subclasses, the arguments parser, the base Schema and the one keyset pagination helper."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import marshmallow as ma
from flask_smorest import Api as BaseApi
from flask_smorest import Blueprint as BaseBlueprint
from sqlalchemy import and_, or_
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser, is_json_request

from jaki import inputs
from jaki.i18n import register, translate

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
    request_id = ma.fields.String(metadata={"description": "This request's id (the X-Request-ID header); quote it"})


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


# ---- keyset pagination ----------------------------------------------------------------------------------
# Every list pages the same way: the cursor is the base64url JSON list of the last item's sort key, checked
# against the list's key kinds before it reaches SQL. A cursor that is not one of ours is 422 cursor_invalid.

register(
    {
        "cursor_invalid": (
            "Cursor halaman tidak valid. Muat ulang daftar dari halaman pertama.",
            "The page cursor is not valid. Reload the list from the first page.",
        ),
    }
)

KEY_KINDS = ("datetime", "str", "int")
_MAX_KEY_STR = 64  # ids are UUIDs (36) or short codes; anything longer was never handed out
_MAX_KEY_INT = 2**63 - 1
_MAX_CURSOR_CHARS = 512


def cursor_invalid():
    from jaki.errors import JakiError

    return JakiError("cursor_invalid", status=422, errors={"cursor": [translate("cursor_invalid")]})


def _key_value(value):
    if isinstance(value, datetime):
        # Some drivers hand a UNION's timestamps back naive; every stored time is UTC.
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.isoformat()
    return value


def encode_cursor(values: Sequence) -> str:
    raw = json.dumps([_key_value(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _parse_key(value, kind: str):
    if kind == "datetime":
        if not isinstance(value, str) or len(value) > 40:
            raise ValueError
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError  # a naive time compares against UTC columns in an undefined way
        return parsed.astimezone(UTC)
    if kind == "str":
        if not isinstance(value, str) or not 0 < len(value) <= _MAX_KEY_STR or "\x00" in value:
            raise ValueError
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_KEY_INT:
            raise ValueError
        return value
    raise TypeError(f"unknown key kind {kind!r}")


def decode_cursor(cursor: str | None, kinds: Sequence[str]) -> tuple | None:
    """The sort key a cursor holds, typed by `kinds`; None for no cursor; 422 cursor_invalid for anything else."""
    if cursor is None or cursor == "":
        return None
    try:
        if not isinstance(cursor, str) or len(cursor) > _MAX_CURSOR_CHARS:
            raise ValueError
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError
        return tuple(_parse_key(value, kind) for value, kind in zip(values, kinds, strict=True))
    except (binascii.Error, ValueError, UnicodeError, RecursionError):
        raise cursor_invalid() from None


@dataclass
class Page:
    items: list
    next_cursor: str | None


@dataclass(frozen=True)
class Keyset:
    """A list's sort key: columns (the last one unique) with their kinds, all ascending or all descending.

    page() adds the "after the cursor" condition, the order and the limit to a query and answers one Page;
    lists whose query page() cannot run (a UNION of two tables) use decode() and encode() directly.
    """

    columns: tuple
    kinds: tuple[str, ...]
    descending: bool = False

    def __post_init__(self):
        if len(self.columns) != len(self.kinds) or not set(self.kinds) <= set(KEY_KINDS):
            raise ValueError("one known kind per column")

    def decode(self, cursor: str | None) -> tuple | None:
        return decode_cursor(cursor, self.kinds)

    def encode(self, values: Sequence) -> str:
        return encode_cursor(values)

    def after(self, values: Sequence, columns: Sequence | None = None):
        """Rows strictly after `values` in this order (written out, not a row comparison: SQLite plans it)."""
        columns = list(columns if columns is not None else self.columns)
        beyond = (lambda c, v: c < v) if self.descending else (lambda c, v: c > v)
        condition = beyond(columns[-1], values[-1])
        for column, value in zip(reversed(columns[:-1]), reversed(values[:-1]), strict=True):
            condition = or_(beyond(column, value), and_(column == value, condition))
        return condition

    def order_by(self, columns: Sequence | None = None) -> list:
        columns = list(columns if columns is not None else self.columns)
        return [c.desc() if self.descending else c.asc() for c in columns]

    def key_of(self, item) -> list:
        return [getattr(item, column.key) for column in self.columns]

    def page(self, query, *, limit: int, cursor: str | None) -> Page:
        from jaki.extensions import db

        values = self.decode(cursor)
        if values is not None:
            query = query.where(self.after(values))
        rows = list(db.session.scalars(query.order_by(*self.order_by()).limit(limit + 1)))
        items = rows[:limit]
        return Page(items, self.encode(self.key_of(items[-1])) if len(rows) > limit else None)
