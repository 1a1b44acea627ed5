"""Open311 parameters (lenient: unknown ones ignored, empty ones missing) and the admin/staff JSON schemas."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import marshmallow as ma

from jaki.api import InputRules, Schema
from jaki.errors import JakiError
from jaki.i18n import message, register, resolve, translate
from jaki.reports.schemas import ReportCreateSchema
from jaki.timezone import WIB

V = ma.validate
register(
    {
        "open311_datetime_invalid": (
            "Waktu tidak valid (format W3C, contoh 2026-11-23T08:00:00+07:00).",
            "Not a W3C datetime (e.g. 2026-11-23T08:00:00+07:00).",
        ),
        "open311_too_many_attributes": ("Maksimal {max} atribut.", "At most {max} attributes."),
    }
)
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,40})\](\[\])?$")
_UNENCODED_OFFSET = re.compile(r" (\d{2}:?\d{2})$")
MAX_ATTRIBUTES = 30


class W3CDateTime(ma.fields.Field):
    """A W3C datetime (2026-11-23T08:00:00+07:00, ...Z, or a date); without an offset it is Jakarta time."""

    def __init__(self, **kwargs):
        kwargs["metadata"] = {"type": "string", "format": "date-time", **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 40:
            raise ma.ValidationError(message("open311_datetime_invalid"))
        # Clients that forget to URL-encode "+07:00" send " 07:00".
        text = _UNENCODED_OFFSET.sub(r"+\1", value.strip())
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ma.ValidationError(message("open311_datetime_invalid")) from None
        if not 1970 <= parsed.year <= 2200:  # also keeps +/- 90 days away from datetime's limits
            raise ma.ValidationError(message("open311_datetime_invalid"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=WIB)
        return parsed.astimezone(UTC)


class CommaList(ma.fields.Field):
    """ "a,b" as a list of non-empty strings."""

    def __init__(self, item_max: int, max_items: int, choices: tuple[str, ...] | None = None, **kwargs):
        self.item_max = item_max
        self.max_items = max_items
        self.choices = choices
        description = "Comma-separated" + (f": {', '.join(choices)}" if choices else "")
        kwargs["metadata"] = {"type": "string", "description": description, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ma.ValidationError(message("field_not_list"))
        items = list(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
        if any(len(v) > self.item_max for v in items):
            raise ma.ValidationError(message("field_list_too_long"))
        if len(items) > self.max_items:
            raise ma.ValidationError(message("field_list_too_long"))
        if self.choices is not None and any(v not in self.choices for v in items):
            raise ma.ValidationError(message("field_one_of", choices=", ".join(self.choices)))
        return items or None


class Open311Schema(InputRules, ma.Schema):
    """Open311 clients send vendor extensions we do not know: ignore them. An empty value counts as missing.
    Text is bounded and storable as in every jaki schema (InputRules)."""

    class Meta:
        unknown = ma.EXCLUDE
        ordered = True

    @ma.pre_load
    def _drop_empty(self, data, **kwargs):
        return {key: value for key, value in data.items() if not (isinstance(value, str) and not value.strip())}


class RequestsQuerySchema(Open311Schema):
    service_request_id = CommaList(item_max=36, max_items=1000, load_default=None)
    service_code = CommaList(item_max=40, max_items=50, load_default=None)
    start_date = W3CDateTime(load_default=None)
    end_date = W3CDateTime(load_default=None)
    status = CommaList(item_max=10, max_items=2, choices=("open", "closed"), load_default=None)
    page = ma.fields.Integer(load_default=1, validate=V.Range(min=1, max=100_000))
    page_size = ma.fields.Integer(load_default=None, validate=V.Range(min=1))


def _reports_limit(field: str) -> int:
    """The reports schema's maximum length for a field (the report is validated by it too): one rule, not two."""
    return next(v.max for v in ReportCreateSchema().fields[field].validators if isinstance(v, V.Length))


class PostRequestSchema(Open311Schema):
    """The form of POST requests; api_key is checked before this (403 first), attribute[...] apart."""

    service_code = ma.fields.String(load_default=None, validate=V.Length(max=40))
    lat = ma.fields.Float(load_default=None, allow_nan=False, validate=V.Range(min=-90, max=90))
    long = ma.fields.Float(load_default=None, allow_nan=False, validate=V.Range(min=-180, max=180))
    address_string = ma.fields.String(load_default=None, validate=V.Length(max=_reports_limit("address")))
    address_id = ma.fields.String(load_default=None, validate=V.Length(max=100))
    email = ma.fields.Email(load_default=None, validate=V.Length(max=254))
    device_id = ma.fields.String(load_default=None, validate=V.Length(max=100))
    account_id = ma.fields.String(load_default=None, validate=V.Length(max=100))
    first_name = ma.fields.String(load_default=None, validate=V.Length(max=100))
    last_name = ma.fields.String(load_default=None, validate=V.Length(max=100))
    phone = ma.fields.String(load_default=None, validate=V.Length(max=30))
    description = ma.fields.String(load_default=None, validate=V.Length(max=_reports_limit("description")))
    media_url = ma.fields.Url(
        load_default=None, schemes={"http", "https"}, require_tld=True, validate=V.Length(max=500)
    )


def parameter_error(messages) -> JakiError:
    """Field errors as one 400 in Open311's format (each field becomes one <error>)."""
    invalid = translate("open311_parameter_invalid")
    if not isinstance(messages, dict):
        messages = {"_": messages}
    # Each detail is a catalogue message too (jaki.field_messages), in the reader's language like the sentence.
    flat = {
        field: [f"{invalid} ({resolve(m)})" for m in (msgs if isinstance(msgs, list) else [msgs])]
        for field, msgs in messages.items()
    }
    return JakiError("open311_parameter_invalid", status=400, errors=flat)


def load(schema: ma.Schema, values: dict) -> dict:
    try:
        return schema.load(values)
    except ma.ValidationError as exc:
        raise parameter_error(exc.messages) from None


def attributes_of(form) -> dict[str, str | list[str]]:
    """attribute[CODE]=value (and attribute[CODE][]=a&attribute[CODE][]=b for multi-value lists)."""
    found: dict[str, str | list[str]] = {}
    for key in form:
        match = _ATTRIBUTE.match(key)
        if match is None:
            continue
        values = [v for v in form.getlist(key) if v.strip()]
        if not values:
            continue
        if any(len(v) > 500 or "\x00" in v for v in values) or len(values) > 20 or "\x00" in key:
            raise parameter_error({key: [message("field_list_too_long")]})
        found[match.group(1)] = values if match.group(2) else values[0]
    if len(found) > MAX_ATTRIBUTES:
        raise parameter_error({"attribute": [message("open311_too_many_attributes", max=MAX_ATTRIBUTES)]})
    return found


# ---- jaki JSON endpoints (admins and staff) ---------------------------------------------------------------


class ApiKeyCreateSchema(Schema):
    name = ma.fields.String(required=True, validate=[V.Length(min=2, max=100), V.Regexp(r"^[^\x00-\x1f]*$")])


class ApiKeySchema(Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    key_prefix = ma.fields.String()
    created_at = ma.fields.DateTime()
    last_used_at = ma.fields.DateTime(allow_none=True)
    revoked_at = ma.fields.DateTime(allow_none=True)


class ApiKeyIssuedSchema(ApiKeySchema):
    key = ma.fields.String(metadata={"description": "Shown once: only its hash is stored"})


class SubmitterContactSchema(Schema):
    report_id = ma.fields.String()
    email = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    first_name = ma.fields.String(allow_none=True)
    last_name = ma.fields.String(allow_none=True)
    account_id = ma.fields.String(allow_none=True)
    device_id = ma.fields.String(allow_none=True)
    media_url = ma.fields.String(allow_none=True, metadata={"description": "As the client sent it: never fetched"})
    attributes = ma.fields.Dict(allow_none=True)


# ---- GeoReport v2 documents (documentation only: jaki.open311.render builds them) ---------------------------
# Each answer comes as JSON (these schemas) or XML (the same fields as elements, per the path's .xml/.json).


class ServiceSchema(Schema):
    service_code = ma.fields.String()
    service_name = ma.fields.String()
    description = ma.fields.String()
    metadata = ma.fields.Boolean()
    type = ma.fields.String(validate=V.OneOf(("realtime", "batch", "blackbox")))
    keywords = ma.fields.String()
    group = ma.fields.String()


class ServiceDefinitionSchema(Schema):
    service_code = ma.fields.String()
    attributes = ma.fields.List(ma.fields.Dict())


class ServiceRequestSchema(Schema):
    service_request_id = ma.fields.String()
    status = ma.fields.String(validate=V.OneOf(("open", "closed")))
    status_notes = ma.fields.String(allow_none=True)
    service_name = ma.fields.String()
    service_code = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    agency_responsible = ma.fields.String(allow_none=True)
    service_notice = ma.fields.String(allow_none=True)
    requested_datetime = ma.fields.String(metadata={"description": "W3C datetime in WIB (+07:00)"})
    updated_datetime = ma.fields.String(allow_none=True)
    expected_datetime = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    address_id = ma.fields.String(allow_none=True)
    zipcode = ma.fields.String(allow_none=True)
    lat = ma.fields.Float()
    long = ma.fields.Float()
    media_url = ma.fields.String(allow_none=True)


class SubmittedRequestSchema(Schema):
    service_request_id = ma.fields.String()
    token = ma.fields.String(allow_none=True)
    service_notice = ma.fields.String(allow_none=True)
    account_id = ma.fields.String(allow_none=True)


class RequestTokenSchema(Schema):
    service_request_id = ma.fields.String(allow_none=True)
    token = ma.fields.String()


class DiscoveryEndpointSchema(Schema):
    specification = ma.fields.String()
    url = ma.fields.String()
    changeset = ma.fields.String()
    type = ma.fields.String(validate=V.OneOf(("production", "test")))
    formats = ma.fields.List(ma.fields.String())


class DiscoverySchema(Schema):
    changeset = ma.fields.String()
    contact = ma.fields.String()
    key_service = ma.fields.String()
    endpoints = ma.fields.List(ma.fields.Nested(DiscoveryEndpointSchema))


class PostRequestFormSchema(PostRequestSchema):
    """The form as documented: the API key first; attribute[CODE] fields are accepted beside these."""

    api_key = ma.fields.String(required=True, metadata={"description": "The key an admin issued to the client"})


XML = {"schema": {"type": "string", "description": "The same document in XML (text/xml; charset=utf-8)"}}
# Open311's error document: [{code, description}] (XML: <errors><error>...</error></errors>), never jaki's envelope.
OPEN311_ERROR_RESPONSE = {
    "description": "GeoReport v2 error document; code repeats the HTTP status",
    "content": {
        "application/json": {
            "schema": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
                    "required": ["code", "description"],
                },
            }
        },
        "text/xml": XML,
    },
}
JURISDICTION = {
    "in": "query",
    "name": "jurisdiction_id",
    "required": False,
    "schema": {"type": "string", "maxLength": 100},
    "description": "Ours (jakarta.go.id) or absent; any other is 404",
}


def georeport(schema, *, many: bool = True, **extra) -> dict:
    """@blp.doc(...) for a GeoReport operation: its 200 document as JSON (`schema`, a list unless many=False) or
    XML, and the jurisdiction_id every Open311 path accepts."""
    shape = {"type": "array", "items": schema} if many else schema
    ok = {"description": "OK", "content": {"application/json": {"schema": shape}, "text/xml": XML}}
    parameters = [JURISDICTION, *extra.pop("parameters", [])]
    return {"responses": {200: ok}, "parameters": parameters, **extra}
