"""Api and Blueprint subclasses, the arguments parser, the base Schema and the one keyset pagination helper."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, wraps

import marshmallow as ma
from flask import request, url_for
from flask_smorest import Api as BaseApi
from flask_smorest import Blueprint as BaseBlueprint
from sqlalchemy import and_, or_
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser, is_json_request

from jaki import field_messages, inputs
from jaki.apidoc import mark_operation, operation_facts
from jaki.db import db
from jaki.errors import JakiError, ValidationFailed, handle_http_exception
from jaki.i18n import register, translate
from jaki.idempotency import idempotent

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


SECURITY_SCHEME = "bearerAuth"
# A component response besides flask-smorest's (one per HTTP status, DEFAULT_ERROR): Open311's error document,
# registered by jaki.open311's init_app (the core does not import a domain).
OPEN311_ERROR = "OPEN311_ERROR"


class Api(BaseApi):
    ERROR_SCHEMA = ErrorSchema

    def init_app(self, app, *, spec_kwargs=None):
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.spec.components.security_scheme(
            SECURITY_SCHEME,
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "The access token from POST /auth/login (the refresh token for POST /auth/refresh)",
            },
        )

    def handle_http_exception(self, error):
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


register(
    {
        "query_parameter_unknown": ("Parameter tidak dikenal.", "Unknown query parameter."),
    }
)

_WRITES = ("post", "put", "patch", "delete")
_FILE_PART_TYPES = "application/octet-stream"


class Blueprint(BaseBlueprint):
    """The API contract every jaki blueprint shares, applied to every operation it registers:

    - a stable operationId (`<blueprint>_<view>`);
    - signed-in operations (jaki.auth.permissions) carry the bearer security scheme and their 401/403, optional
      sign-in both alternatives; rate-limited ones their 429; an If-Match header its 412/428; writes their 409;
    - every error status in the error envelope's schema (Open311's blueprint: GeoReport's error document);
    - form fields and files of one operation documented as one multipart (or urlencoded) request body;
    - query parameters the operation does not document are refused with 422 naming them (Open311 opts out:
      GeoReport v2 lets clients add vendor extensions, which its endpoints ignore);
    - a 201 must say where the new resource is (response(201, ..., location=...) sets the Location header);
    - creates that answer 201/202 to a signed-in caller honour Idempotency-Key (jaki.idempotency).
    """

    ARGUMENTS_PARSER = Parser()

    def __init__(self, *args, error_response: str = "DEFAULT_ERROR", refuse_unknown_query: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.error_response = error_response
        self._prepare_doc_cbks.append(self._prepare_contract_doc)
        self._query_names: dict[tuple[str, str], frozenset[str]] = {}
        if refuse_unknown_query:
            self.before_request(self._refuse_unknown_query)

    # ---- registration ----

    def add_url_rule(self, rule, endpoint=None, view_func=None, provide_automatic_options=None, **options):
        if view_func is not None and not isinstance(view_func, type):
            facts = operation_facts(view_func)
            methods = options.get("methods", ("GET",))
            created = {201, 202} & set(getattr(view_func, "_apidoc", {}).get("success_status_codes", []))
            if "POST" in methods and created and facts.get("auth") and not facts.get("idempotent"):
                view_func = idempotent()(view_func)
        return super().add_url_rule(rule, endpoint, view_func, provide_automatic_options, **options)

    def _store_endpoint_docs(self, endpoint, obj, parameters, tags, **options):
        super()._store_endpoint_docs(endpoint, obj, parameters, tags, **options)
        methods = [m for m in self._docs[endpoint] if m != "parameters"]
        for method in methods:
            suffix = f"_{method}" if len(methods) > 1 else ""
            self._docs[endpoint][method]["operation_id"] = f"{self.name}_{endpoint}{suffix}"

    def response(self, status_code, schema=None, *, location=None, headers=None, **kwargs):
        """flask-smorest's response, and for a 201 the Location of what was made: `location` is (endpoint,
        {url parameter: key}), each key read from the answer's JSON object, else from the view's own arguments."""
        if int(status_code) == 201 and location is None:
            raise TypeError("a 201 answer names the resource it made: pass location=(endpoint, {param: key})")
        if location is not None:
            headers = {**(headers or {}), "Location": LOCATION_HEADER}
        decorator = super().response(status_code, schema, headers=headers, **kwargs)
        if location is None:
            return decorator

        def apply(func):
            inner = decorator(func)

            @wraps(inner)
            def wrapper(*args, **kw):
                response = inner(*args, **kw)
                if response.status_code == int(status_code) and "Location" not in response.headers:
                    response.headers["Location"] = created_url(location, response)
                return response

            return wrapper

        return apply

    @staticmethod
    def login_required_doc(func):
        """Document a view as signed in. jaki.auth.permissions' decorators do this themselves; this is for a view
        that checks its token another way (and is kept for blueprints written before they did)."""
        return func if operation_facts(func).get("auth") else mark_operation(func, auth="required")

    # ---- unknown query parameters ----

    def _documented_query(self, endpoint: str, method: str) -> frozenset[str] | None:
        key = (endpoint, method)
        if key not in self._query_names:
            doc = self._docs.get(endpoint, {}).get(method)
            if doc is None:
                return None
            names = set()
            arguments = doc.get("arguments", {}).get("parameters", [])
            manual = doc.get("manual_doc", {}).get("parameters", [])
            for param in [*arguments, *manual]:
                if not isinstance(param, Mapping) or param.get("in") != "query":
                    continue
                if "name" in param:
                    names.add(param["name"])
                elif "schema" in param:
                    names |= query_names(param["schema"])
            self._query_names[key] = frozenset(names)
        return self._query_names[key]

    def _refuse_unknown_query(self):
        if not request.args or request.endpoint is None or "." not in request.endpoint:
            return
        method = "get" if request.method == "HEAD" else request.method.lower()
        allowed = self._documented_query(request.endpoint.split(".", 1)[1], method)
        if allowed is None:
            return
        unknown = [name for name in request.args if name not in allowed]
        if unknown:
            message = translate("query_parameter_unknown")
            raise ValidationFailed(errors={name[:100]: [message] for name in unknown})

    # ---- the spec ----

    def _prepare_arguments_doc(self, doc, doc_info, *, api, spec, **kwargs):
        operation = doc_info.get("arguments")
        if operation and spec.openapi_version.major >= 3:
            parts = [p for p in operation["parameters"] if isinstance(p, Mapping) and p["in"] in ("form", "files")]
            if parts:
                operation["requestBody"] = form_request_body(api, parts)
                operation["parameters"] = [p for p in operation["parameters"] if p not in parts]
        doc = super()._prepare_arguments_doc(doc, doc_info, api=api, spec=spec, **kwargs)
        if doc.get("parameters") == []:
            del doc["parameters"]
        return doc

    def _prepare_contract_doc(self, doc, doc_info, *, method, **kwargs):
        facts = doc_info.get("jaki", {})
        responses = doc.setdefault("responses", {})
        doc["operationId"] = doc_info["operation_id"]
        auth = facts.get("auth")
        if auth:
            doc["security"] = [{SECURITY_SCHEME: []}] if auth != "optional" else [{}, {SECURITY_SCHEME: []}]
            responses.setdefault(401, "UNAUTHORIZED")
            if auth != "optional":
                responses.setdefault(403, "FORBIDDEN")
        if facts.get("rate_limited"):
            responses.setdefault(429, "TOO_MANY_REQUESTS")
        headers = {p.get("name") for p in doc_info.get("manual_doc", {}).get("parameters", []) if isinstance(p, dict)}
        if "If-Match" in headers:
            responses.setdefault(412, "PRECONDITION_FAILED")
            responses.setdefault(428, "PRECONDITION_REQUIRED")
        if method in _WRITES and auth and auth != "optional":
            responses.setdefault(409, "CONFLICT")
        added = []
        if facts.get("idempotent"):
            added.append(IDEMPOTENCY_KEY_PARAMETER)
            responses.setdefault(409, "CONFLICT")
            responses.setdefault(422, "UNPROCESSABLE_ENTITY")
        if facts.get("cacheable"):
            # If-None-Match is plain HTTP: described with the 304 and the ETag rather than listed as a parameter.
            responses.setdefault(304, NOT_MODIFIED)
            ok = responses.get(200)
            if isinstance(ok, dict):
                ok.setdefault("headers", {}).update(CACHE_HEADERS)
        if added:
            # The view's own @doc(parameters=...) would replace the list (flask-smorest merges dicts, not lists).
            manual = doc_info.get("manual_doc", {}).pop("parameters", [])
            doc["parameters"] = [*doc.get("parameters", []), *manual, *added]
        if self.error_response != "DEFAULT_ERROR":
            if 422 in responses:  # such a blueprint answers 400 for a request to fix (Open311)
                responses.setdefault(400, responses.pop(422))
            for status in list(responses):
                if status == "default" or (str(status).isdigit() and int(status) >= 400):
                    responses[status] = self.error_response
        return doc


LOCATION_HEADER = {"description": "Where the new resource is", "schema": {"type": "string"}}
IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,100}$"},
    "description": "Send a fresh random key with each create and the same key with its retries: a retry with the "
    "same body gets the first answer again (status and body, with Idempotent-Replayed: true); the same key with "
    "another body is 422 idempotency_key_reused; while the first is still running a retry waits for it.",
}
NOT_MODIFIED = {
    "description": "Not modified: the ETag sent back as If-None-Match still names this representation (no body)"
}
CACHE_HEADERS = {
    "ETag": {
        "description": "Names this exact representation (language included): send it back as If-None-Match",
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": "public (max-age for the feed and the map) when asked without a token; private otherwise",
        "schema": {"type": "string"},
    },
}


def query_names(schema) -> set[str]:
    """The query parameter names a schema (class or instance) reads."""
    schema = schema() if isinstance(schema, type) else schema
    return {field.data_key or name for name, field in schema.fields.items() if not field.dump_only}


def form_request_body(api, parts: list[dict]) -> dict:
    """One request body for an operation's form fields and files: an object schema of all their properties, with
    each file part's accepted content types (multipart/form-data as soon as there is a file)."""
    converter = api.ma_plugin.converter
    properties, required, encoding = {}, [], {}
    for part in parts:
        schema = part["schema"]
        schema = schema() if isinstance(schema, type) else schema
        described = converter.schema2jsonschema(schema)
        properties.update(described.get("properties", {}))
        required += described.get("required", [])
        if part["in"] == "files":
            for name, field in schema.fields.items():
                types = field.metadata.get("content_types") or getattr(field, "inner", field).metadata.get(
                    "content_types"
                )
                encoding[field.data_key or name] = {"contentType": ", ".join(types) if types else _FILE_PART_TYPES}
    content_type = next((p["content_type"] for p in parts if p.get("content_type")), None)
    if content_type is None:
        content_type = "multipart/form-data" if encoding else "application/x-www-form-urlencoded"
    body_schema = {"type": "object", "properties": properties}
    if required:
        body_schema["required"] = sorted(set(required))
    media = {"schema": body_schema}
    if encoding and content_type.startswith("multipart/"):
        media["encoding"] = encoding
    return {"required": True, "content": {content_type: media}}


def created_url(location: tuple[str, dict], response) -> str:
    endpoint, params = location
    body = response.get_json(silent=True) if response.is_json else None
    body = body if isinstance(body, Mapping) else {}
    view_args = request.view_args or {}
    values = {param: body[key] if key in body else view_args[key] for param, key in params.items()}
    return url_for(endpoint, **values)


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
    integer unless they say otherwise; floats must be finite; every message is a catalogue one (field_messages)."""
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
    field_messages.apply(field)


class InputRules:
    """Schema mixin: apply_input_rules to every field (nested jaki schemas apply it to theirs), and refuse text
    PostgreSQL cannot store (NUL, lone surrogates) wherever it sits in the input, whatever the field's type."""

    error_messages = field_messages.SCHEMA_MESSAGES

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


@cache
def nested_schema(schema_class: type[ma.Schema], many: bool = False) -> ma.Schema:
    """One instance of a schema that a field dumps into (a report's SLA clock, its history): building a schema copies
    and binds every field (the input rules included), which per item of a page cost more than the dump itself."""
    return schema_class(many=many)


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
        values = self.decode(cursor)
        if values is not None:
            query = query.where(self.after(values))
        rows = list(db.session.scalars(query.order_by(*self.order_by()).limit(limit + 1)))
        items = rows[:limit]
        return Page(items, self.encode(self.key_of(items[-1])) if len(rows) > limit else None)
