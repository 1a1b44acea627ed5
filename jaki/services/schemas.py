"""Schemas of the overview, the per-domain sections, the household and officers' lookups."""

from __future__ import annotations

import marshmallow as ma

from jaki.api import Schema

V = ma.validate


class ServicesRefreshArgsSchema(Schema):
    refresh = ma.fields.Boolean(
        load_default=False, metadata={"description": "Ask the agencies again even when a recent answer is cached"}
    )


class ServiceSourceSchema(Schema):
    agency_code = ma.fields.String()
    connector = ma.fields.String(metadata={"description": "local (jaki's tables) or http (the agency's API)"})


class ServiceSectionSchema(Schema):
    domain = ma.fields.String()
    status = ma.fields.String(metadata={"description": "ok | stale (an earlier answer; agency down) | unavailable"})
    as_of = ma.fields.DateTime(allow_none=True, metadata={"description": "When the data was current"})
    cached = ma.fields.Boolean()
    source = ma.fields.Nested(ServiceSourceSchema)
    reason = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "Why not fresh: timeout, circuit_open, connection, http_status, malformed, too_large, "
            "invalid"
        },
    )
    message = ma.fields.String(allow_none=True)
    data = ma.fields.Raw(allow_none=True, metadata={"description": "{people: [{member_id, ..., domain fields}]}"})


class HouseholdMemberSchema(Schema):
    member_id = ma.fields.String()
    full_name = ma.fields.String()
    relation = ma.fields.String()
    is_self = ma.fields.Boolean()
    nik_masked = ma.fields.String()
    age = ma.fields.Integer()
    sex = ma.fields.String()


class HouseholdSchema(Schema):
    status = ma.fields.String()
    is_head = ma.fields.Boolean()
    members = ma.fields.List(ma.fields.Nested(HouseholdMemberSchema))


class DisputedFieldSchema(Schema):
    member_id = ma.fields.String()
    field = ma.fields.String()
    reference = ma.fields.String()
    status = ma.fields.String()


class ServicesOverviewSchema(Schema):
    generated_at = ma.fields.DateTime()
    household = ma.fields.Nested(HouseholdSchema)
    sections = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(ServiceSectionSchema))
    disputed = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.Nested(DisputedFieldSchema)),
        metadata={"description": "Per domain, fields under an open correction request (jaki.pdp): shown as disputed"},
    )


class ServiceLookupSchema(Schema):
    nik = ma.fields.String(required=True, validate=V.Length(max=32))
    reason = ma.fields.String(required=True, validate=V.Length(max=300))


class ServiceLookupResultSchema(Schema):
    domain = ma.fields.String()
    nik_masked = ma.fields.String()
    has_account = ma.fields.Boolean()
    as_of = ma.fields.DateTime()
    data = ma.fields.Raw()
