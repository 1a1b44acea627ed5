"""Schemas of the data-rights endpoints."""

from __future__ import annotations

import marshmallow as ma

from jaki.api import CursorPageArgsSchema, Schema, nested_schema
from jaki.pdp.corrections import AGENCY_MOVES, FIELDS, STATUSES
from jaki.pdp.corrections import trail as correction_trail  # the schema has a field named trail

V = ma.validate


class OrganisationSchema(Schema):
    agency_code = ma.fields.String(allow_none=True)
    name = ma.fields.String(allow_none=True)


class OfficialSchema(Schema):
    role = ma.fields.String(allow_none=True)
    unit = ma.fields.String(allow_none=True, metadata={"description": "The official's working areas"})
    name = ma.fields.String(allow_none=True, metadata={"description": "Only where policy allows (break-glass)"})


class MemberRefSchema(Schema):
    member_id = ma.fields.String()
    full_name = ma.fields.String()
    relation = ma.fields.String()
    is_self = ma.fields.Boolean()


class AccessEntrySchema(Schema):
    id = ma.fields.Integer()
    at = ma.fields.DateTime()
    kind = ma.fields.String(metadata={"description": "official | agency_pull | open311_contact | export"})
    kind_label = ma.fields.String()
    action = ma.fields.String()
    organisation = ma.fields.Nested(OrganisationSchema)
    system = ma.fields.String()
    official = ma.fields.Nested(OfficialSchema, allow_none=True)
    fields = ma.fields.List(ma.fields.String())
    purpose = ma.fields.String(allow_none=True)
    lawful_basis = ma.fields.String()
    break_glass = ma.fields.Boolean()
    review_status = ma.fields.String(allow_none=True)
    delayed = ma.fields.Boolean(metadata={"description": "Held back for an investigation, shown once it ended"})
    delayed_until = ma.fields.DateTime(allow_none=True)
    member = ma.fields.Nested(MemberRefSchema, allow_none=True, metadata={"description": "A child's data"})


class AccessPageSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(AccessEntrySchema))
    next_cursor = ma.fields.String(allow_none=True)


class AccessDelaySchema(Schema):
    until = ma.fields.AwareDateTime(required=True)
    reason = ma.fields.String(required=True, validate=V.Length(min=5, max=300))


class BreakGlassQueryArgsSchema(CursorPageArgsSchema):
    status = ma.fields.String(load_default="pending", validate=V.OneOf(("pending", "justified", "unjustified")))


class BreakGlassEntrySchema(Schema):
    id = ma.fields.Integer()
    at = ma.fields.DateTime()
    actor_id = ma.fields.String(allow_none=True)
    actor_role = ma.fields.String(allow_none=True)
    agency_code = ma.fields.String(allow_none=True)
    action = ma.fields.String()
    break_glass_code = ma.fields.String(allow_none=True)
    purpose = ma.fields.String(allow_none=True)
    review_status = ma.fields.String(allow_none=True)
    reviewed_at = ma.fields.DateTime(allow_none=True)
    review_note = ma.fields.String(allow_none=True)


class BreakGlassPageSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(BreakGlassEntrySchema))
    next_cursor = ma.fields.String(allow_none=True)


class BreakGlassReviewSchema(Schema):
    verdict = ma.fields.String(required=True, validate=V.OneOf(("justified", "unjustified")))
    note = ma.fields.String(load_default=None, validate=V.Length(max=1000))


class CorrectionCreateSchema(Schema):
    domain = ma.fields.String(required=True, validate=V.OneOf(tuple(FIELDS)))
    field = ma.fields.String(required=True, validate=V.Length(min=1, max=40))
    member_id = ma.fields.String(
        load_default=None, validate=V.Length(max=24), metadata={"description": "A child's member_id; me when absent"}
    )
    requested_value = ma.fields.String(load_default=None, validate=V.Length(max=300))
    explanation = ma.fields.String(required=True, validate=V.Length(min=5, max=2000))


class CorrectionEventSchema(Schema):
    at = ma.fields.DateTime()
    status = ma.fields.String()
    actor_role = ma.fields.String(allow_none=True)
    note = ma.fields.String(allow_none=True)


class CorrectionSchema(Schema):
    id = ma.fields.String()
    reference = ma.fields.String()
    member_id = ma.fields.String()
    domain = ma.fields.String()
    agency_code = ma.fields.String()
    field = ma.fields.String()
    requested_value = ma.fields.String(allow_none=True)
    explanation = ma.fields.String()
    status = ma.fields.String()
    created_at = ma.fields.DateTime()
    ack_due_at = ma.fields.DateTime(metadata={"description": "The agency acknowledges by then (3 x 24 hours)"})
    acknowledged_at = ma.fields.DateTime(allow_none=True)
    escalated_at = ma.fields.DateTime(allow_none=True)
    closed_at = ma.fields.DateTime(allow_none=True)
    trail = ma.fields.Method("_trail")

    def _trail(self, obj):
        return nested_schema(CorrectionEventSchema, many=True).dump(correction_trail(obj))


class CorrectionPageSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(CorrectionSchema))
    next_cursor = ma.fields.String(allow_none=True)


class CorrectionQueueArgsSchema(CursorPageArgsSchema):
    status = ma.fields.String(load_default=None, validate=V.OneOf(STATUSES))


class CorrectionMoveSchema(Schema):
    status = ma.fields.String(
        required=True, validate=V.OneOf(sorted({s for moves in AGENCY_MOVES.values() for s in moves}))
    )
    note = ma.fields.String(load_default=None, validate=V.Length(max=2000))


class ConsentChoiceSchema(Schema):
    granted = ma.fields.Boolean()
    changed_at = ma.fields.DateTime(allow_none=True)
    effective_by = ma.fields.DateTime(allow_none=True, metadata={"description": "Processing stops by then"})


class ConsentsSchema(Schema):
    area_alerts = ma.fields.Nested(ConsentChoiceSchema)
    programme_marketing = ma.fields.Nested(ConsentChoiceSchema)


class ConsentsPatchSchema(Schema):
    area_alerts = ma.fields.Boolean()
    programme_marketing = ma.fields.Boolean()


class AccountCloseSchema(Schema):
    password = ma.fields.String(required=True, validate=V.Length(min=1, max=200), load_only=True)
    confirm = ma.fields.String(
        required=True, validate=V.Equal("HAPUS"), metadata={"description": 'Type "HAPUS" to confirm'}
    )


class ReceiptItemSchema(Schema):
    what = ma.fields.String()
    label = ma.fields.String()
    why = ma.fields.String()


class DeletionReceiptSchema(Schema):
    reference = ma.fields.String()
    requested_at = ma.fields.DateTime()
    completed_at = ma.fields.DateTime(allow_none=True)
    message = ma.fields.String()
    erased = ma.fields.List(ma.fields.Nested(ReceiptItemSchema))
    kept = ma.fields.List(ma.fields.Nested(ReceiptItemSchema))
    backups_expire_by = ma.fields.String(allow_none=True)
