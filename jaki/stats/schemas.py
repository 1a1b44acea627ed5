"""Statistics request and response schemas (every answer fully described, for the OpenAPI contract)."""

from __future__ import annotations

import marshmallow as ma

from jaki.api import Schema
from jaki.stats.backlog import GROUPS as BACKLOG_GROUPS
from jaki.stats.query import GROUPS

V = ma.validate
_MONTH = {"description": "A Jakarta month, YYYY-MM (inclusive)", "example": "2025-07"}


class PeriodArgsSchema(Schema):
    since = ma.fields.String(load_default=None, validate=V.Length(max=7), metadata=_MONTH)
    until = ma.fields.String(load_default=None, validate=V.Length(max=7), metadata=_MONTH)


class ReportStatsArgsSchema(PeriodArgsSchema):
    group_by = ma.fields.String(
        load_default=None,
        validate=V.Length(max=40),
        metadata={"description": f"Up to two of {', '.join(GROUPS)}, comma-separated (agency,month)"},
    )
    category = ma.fields.String(load_default=None, validate=V.Length(max=40))
    agency = ma.fields.String(load_default=None, validate=V.Length(max=40))
    area = ma.fields.String(
        load_default=None, validate=V.Length(max=20), metadata={"description": "A kota, kecamatan or kelurahan code"}
    )


class SummaryArgsSchema(PeriodArgsSchema):
    agency = ma.fields.String(load_default=None, validate=V.Length(max=40))


class CountsSchema(Schema):
    count = ma.fields.Integer(metadata={"description": "Reports filed in the period"})
    open = ma.fields.Integer(metadata={"description": "Of them, still open (someone has to act)"})
    resolved = ma.fields.Integer(metadata={"description": "Of them, resolved or closed"})
    within_sla = ma.fields.Integer(metadata={"description": "Resolved by their own deadline (the category's SLA)"})
    sla_breached = ma.fields.Integer(metadata={"description": "Flagged past the deadline, or resolved after it"})
    reopened = ma.fields.Integer(metadata={"description": "Reopened by the reporter at least once"})
    median_hours_to_verify = ma.fields.Float(allow_none=True, metadata={"description": "From filing (rollup)"})
    median_hours_to_dispatch = ma.fields.Float(allow_none=True, metadata={"description": "From filing (rollup)"})
    median_hours_to_resolve = ma.fields.Float(allow_none=True, metadata={"description": "From filing (rollup)"})
    p90_hours_to_resolve = ma.fields.Float(allow_none=True)
    rating_avg = ma.fields.Float(allow_none=True, metadata={"description": "Reporters' rating, 1-5 (rollup)"})


class StatsRowSchema(CountsSchema):
    key = ma.fields.String(metadata={"description": "The group's key; two groupings join theirs with |"})
    name = ma.fields.String(allow_none=True)
    keys = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    names = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(allow_none=True))


class ReportStatsSchema(Schema):
    group_by = ma.fields.List(ma.fields.String())
    since = ma.fields.String()
    until = ma.fields.String()
    category = ma.fields.String(allow_none=True)
    agency = ma.fields.String(allow_none=True)
    area = ma.fields.String(allow_none=True)
    counts_as_of = ma.fields.DateTime(metadata={"description": "Counts are exact as of the answer"})
    medians_as_of = ma.fields.DateTime(metadata={"description": "When the medians' rollup was computed"})
    rows = ma.fields.List(ma.fields.Nested(StatsRowSchema))
    total = ma.fields.Nested(CountsSchema)


class BacklogArgsSchema(Schema):
    group_by = ma.fields.String(load_default="agency", validate=V.OneOf(BACKLOG_GROUPS))
    agency = ma.fields.String(load_default=None, validate=V.Length(max=40))


class BacklogRowSchema(Schema):
    key = ma.fields.String()
    name = ma.fields.String(allow_none=True)
    open = ma.fields.Integer()
    overdue = ma.fields.Integer(metadata={"description": "Open past their own deadline"})
    red_flagged = ma.fields.Integer(metadata={"description": "Open for red_flag_days or more"})
    oldest_at = ma.fields.DateTime(allow_none=True)
    oldest_hours = ma.fields.Float(allow_none=True)


class BacklogSchema(Schema):
    group_by = ma.fields.String()
    red_flag_days = ma.fields.Integer()
    as_of = ma.fields.DateTime()
    rows = ma.fields.List(ma.fields.Nested(BacklogRowSchema))
    total = ma.fields.Nested(BacklogRowSchema)


class SummarySchema(Schema):
    since = ma.fields.String()
    until = ma.fields.String()
    agency = ma.fields.String(allow_none=True)
    as_of = ma.fields.DateTime()
    today = ma.fields.Integer(metadata={"description": "Filed since midnight, Jakarta time"})
    open = ma.fields.Integer()
    overdue = ma.fields.Integer()
    red_flagged = ma.fields.Integer()
    red_flag_days = ma.fields.Integer()
    oldest_open_hours = ma.fields.Float(allow_none=True)
    filed = ma.fields.Integer(metadata={"description": "Filed in the period"})
    resolved = ma.fields.Integer()
    within_sla = ma.fields.Integer()
    within_sla_share = ma.fields.Float(allow_none=True, metadata={"description": "within_sla / resolved"})
    sla_breached = ma.fields.Integer()


class AgencyBoardRowSchema(Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    short_name = ma.fields.String()
    kind = ma.fields.String()
    integrated = ma.fields.Boolean()
    integrated_since = ma.fields.Date(allow_none=True)
    domains_served = ma.fields.List(ma.fields.String())
    connector = ma.fields.String(allow_none=True, metadata={"description": "http | local | null (none)"})
    breaker_state = ma.fields.String(allow_none=True, metadata={"description": "closed | open | half_open | unknown"})
    calls = ma.fields.Integer(allow_none=True)
    failures = ma.fields.Integer(allow_none=True)
    latency_p50_ms = ma.fields.Float(allow_none=True, metadata={"description": "Of the last 100 good answers"})
    latency_p95_ms = ma.fields.Float(allow_none=True)
    last_latency_ms = ma.fields.Float(allow_none=True)
    last_success_at = ma.fields.DateTime(allow_none=True)
    last_failure_at = ma.fields.DateTime(allow_none=True)


class AgencyBoardSchema(Schema):
    total = ma.fields.Integer()
    integrated = ma.fields.Integer()
    not_integrated = ma.fields.Integer()
    connected = ma.fields.Integer(metadata={"description": "Offices jaki calls over HTTP"})
    rows = ma.fields.List(ma.fields.Nested(AgencyBoardRowSchema))


class ApplicationStatsArgsSchema(PeriodArgsSchema):
    kind = ma.fields.String(load_default=None, validate=V.OneOf(("permit", "letter")))
    agency = ma.fields.String(load_default=None, validate=V.Length(max=40))


class ApplicationTotalsSchema(Schema):
    applications = ma.fields.Integer(metadata={"description": "Submitted in the period"})
    decided = ma.fields.Integer(metadata={"description": "Issued or rejected"})
    decided_within_sla = ma.fields.Integer()
    within_sla_share = ma.fields.Float(allow_none=True)
    median_working_days = ma.fields.Float(allow_none=True, metadata={"description": "Submission to decision"})
    pending = ma.fields.Integer()
    withdrawn = ma.fields.Integer()


class ApplicationTypeRowSchema(ApplicationTotalsSchema):
    type_code = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String()
    agency_code = ma.fields.String()
    sla_days = ma.fields.Integer()


class ApplicationStatsSchema(Schema):
    since = ma.fields.String()
    until = ma.fields.String()
    kind = ma.fields.String(allow_none=True)
    rows = ma.fields.List(ma.fields.Nested(ApplicationTypeRowSchema))
    total = ma.fields.Nested(ApplicationTotalsSchema)


class TimeToOwnerArgsSchema(Schema):
    """Issue 15: time to owner."""

    agency = ma.fields.String(load_default=None, validate=V.Length(max=40))
    days = ma.fields.Integer(load_default=90, validate=V.Range(min=1, max=730))


class TimeToOwnerRowSchema(Schema):
    agency_code = ma.fields.String()
    count = ma.fields.Integer()
    median_hours = ma.fields.Float(allow_none=True)
    p90_hours = ma.fields.Float(allow_none=True)


class TimeToOwnerSchema(Schema):
    days = ma.fields.Integer()
    agency = ma.fields.String(allow_none=True)
    count = ma.fields.Integer(metadata={"description": "Reports filed in the window whose work was done"})
    median_hours = ma.fields.Float(allow_none=True, metadata={"description": "Receipt -> dispatch to the resolver"})
    p90_hours = ma.fields.Float(allow_none=True)
    mean_hours = ma.fields.Float(allow_none=True)
    rows = ma.fields.List(ma.fields.Nested(TimeToOwnerRowSchema))
