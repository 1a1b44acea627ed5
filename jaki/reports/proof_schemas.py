"""Report schemas of issue 15: the SLA clock, escalations, external deliveries, evidence and the owner's changes."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload

from jaki.api import Schema

V = ma.validate


class SlaPauseSchema(Schema):
    started_at = ma.fields.DateTime()
    ended_at = ma.fields.DateTime(allow_none=True)
    reason = ma.fields.String(metadata={"description": "external_agency: with a body outside the Pemprov"})


class SlaSchema(Schema):
    started_at = ma.fields.DateTime(metadata={"description": "Receipt, or the last dispute"})
    due_at = ma.fields.DateTime()
    running = ma.fields.Boolean()
    time_left_seconds = ma.fields.Integer(allow_none=True, metadata={"description": "Negative when overdue"})
    breached = ma.fields.Boolean()
    paused = ma.fields.Boolean()
    pauses = ma.fields.List(ma.fields.Nested(SlaPauseSchema))


class EscalationSchema(Schema):
    at = ma.fields.DateTime()
    action = ma.fields.String()
    details = ma.fields.Dict(allow_none=True)


class DeliverySchema(Schema):
    id = ma.fields.String()
    agency_code = ma.fields.String()
    channel = ma.fields.String()
    state = ma.fields.String(metadata={"description": "pending | sent | failed"})
    attempts = ma.fields.Integer()
    last_error = ma.fields.String(allow_none=True)
    last_attempt_at = ma.fields.DateTime(allow_none=True)
    sent_at = ma.fields.DateTime(allow_none=True)
    remote_id = ma.fields.String(allow_none=True)


class EvidenceFormSchema(Schema):
    token = ma.fields.String(
        load_default=None, validate=V.Length(max=100), metadata={"description": "A capture token of this assignment"}
    )
    captured_at = ma.fields.AwareDateTime(load_default=None, metadata={"description": "When the camera took it"})
    latitude = ma.fields.Float(load_default=None, allow_nan=False)
    longitude = ma.fields.Float(load_default=None, allow_nan=False)
    accuracy_m = ma.fields.Float(load_default=None, allow_nan=False, metadata={"description": "The fix's accuracy"})
    phase = ma.fields.String(load_default="after", validate=V.OneOf(("before", "after")))


class CaptureTokenSchema(Schema):
    token = ma.fields.String()
    expires_at = ma.fields.DateTime()


class CategoryChangeSchema(Schema):
    category = ma.fields.String(required=True, validate=V.Length(max=40))
    reason = ma.fields.String(required=True, validate=V.Length(min=1, max=1000))


class NotOursSchema(Schema):
    agency_code = ma.fields.String(
        required=True, validate=V.Length(max=40), metadata={"description": "The body responsible (may be external)"}
    )
    reason = ma.fields.String(required=True, validate=V.Length(min=1, max=1000))


class DisputeFormSchema(Schema):
    reason = ma.fields.String(required=True, validate=V.Length(min=1, max=1000))


class DisputeFilesSchema(Schema):
    photo = Upload(load_default=None, metadata={"description": "Optional photo showing it is not done"})


class ReportWithdrawSchema(Schema):
    reason = ma.fields.String(load_default=None, allow_none=True, validate=V.Length(max=1000))
