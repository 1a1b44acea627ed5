"""Schemas of the agency registry: public entries and counts, the admin's integration health."""

from __future__ import annotations

import marshmallow as ma

from jaki.api import Schema


class AgencyEntrySchema(Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    short_name = ma.fields.String()
    kind = ma.fields.String()
    domains = ma.fields.List(ma.fields.String())
    integrated = ma.fields.Boolean()


class AgencyKindCountSchema(Schema):
    total = ma.fields.Integer()
    integrated = ma.fields.Integer()


class AgencyIntegrationSummarySchema(Schema):
    total = ma.fields.Integer()
    integrated = ma.fields.Integer()
    not_integrated = ma.fields.Integer()
    by_kind = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(AgencyKindCountSchema))


class AgencyHealthSchema(Schema):
    state = ma.fields.String(metadata={"description": "local | closed | open | half_open | unknown"})
    detail = ma.fields.String()
    last_success_at = ma.fields.DateTime(allow_none=True, metadata={"description": "Last answer (shared window)"})
    last_failure_at = ma.fields.DateTime(allow_none=True)
    error_rate = ma.fields.Float(allow_none=True, metadata={"description": "Share of failed calls in the window"})
    calls_in_window = ma.fields.Integer(allow_none=True)
    window_s = ma.fields.Float(allow_none=True)
    opened_at = ma.fields.DateTime(allow_none=True)
    half_open_at = ma.fields.DateTime(allow_none=True, metadata={"description": "When a probe call is let through"})
    store_available = ma.fields.Boolean(allow_none=True)


class AgencyDetailSchema(AgencyEntrySchema):
    integrated_since = ma.fields.Date(allow_none=True)
    connector = ma.fields.String(allow_none=True, metadata={"description": "local | http | null (not connected)"})
    domains_served = ma.fields.List(ma.fields.String())
    host = ma.fields.String(allow_none=True)
    health = ma.fields.Nested(AgencyHealthSchema, allow_none=True)
