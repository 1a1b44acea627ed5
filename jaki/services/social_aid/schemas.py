"""Schemas for cek bansos and recorded disbursements."""

from __future__ import annotations

import marshmallow as ma

from jaki.api import Schema
from jaki.services.social_aid.connectors import PROGRAMMES

V = ma.validate


class EligibilityRequestSchema(Schema):
    # Spaces, dots and dashes as typed are fine: the NIK is normalised and checked in one place (jaki.auth.nik).
    nik = ma.fields.String(
        required=True, validate=V.Length(max=32), metadata={"description": "My NIK or one of my children's"}
    )


class DtksStatusSchema(Schema):
    registered = ma.fields.Boolean()
    desil = ma.fields.Integer(allow_none=True)


class ProgrammeEligibilitySchema(Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    eligible = ma.fields.Boolean()
    reasons = ma.fields.List(ma.fields.String(), metadata={"description": "Why not (empty when eligible)"})
    enrolment_status = ma.fields.String(allow_none=True)


class EligibilitySchema(Schema):
    member_id = ma.fields.String()
    full_name = ma.fields.String()
    relation = ma.fields.String()
    is_self = ma.fields.Boolean()
    checked_at = ma.fields.DateTime()
    dtks = ma.fields.Nested(DtksStatusSchema)
    programmes = ma.fields.List(ma.fields.Nested(ProgrammeEligibilitySchema))


class AidProgrammeSchema(Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    agency_code = ma.fields.String()
    umbrella = ma.fields.String(allow_none=True)
    description = ma.fields.String()


class AidDisbursementCreateSchema(Schema):
    nik = ma.fields.String(required=True, validate=V.Length(max=32))
    programme_code = ma.fields.String(required=True, validate=V.OneOf(tuple(PROGRAMMES)))
    period = ma.fields.String(required=True, validate=V.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$"))
    amount = ma.fields.Integer(required=True, validate=V.Range(min=1, max=100_000_000))
    disbursed_on = ma.fields.Date(required=True)


class AidDisbursementSchema(Schema):
    id = ma.fields.Integer()
    period = ma.fields.String()
    amount = ma.fields.Integer()
    disbursed_on = ma.fields.Date()
    status = ma.fields.String()
