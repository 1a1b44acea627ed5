"""Schemas of permit and letter applications, their documents, timeline and officers' queue."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload

from jaki.api import CursorPageArgsSchema, Schema, nested_schema
from jaki.services.permits.operations import checklist

V = ma.validate


class ApplicationTypeSchema(Schema):
    code = ma.fields.String()
    kind = ma.fields.String()
    name = ma.fields.String()
    agency_code = ma.fields.String()
    sla_days = ma.fields.Integer(metadata={"description": "Service-level deadline in working days"})
    documents = ma.fields.List(ma.fields.Dict(), metadata={"description": "[{kind, name, required}]"})


class PermitCreateSchema(Schema):
    type_code = ma.fields.String(required=True, validate=V.Length(max=20))
    area_code = ma.fields.String(
        required=True,
        validate=V.Length(max=20),
        metadata={"description": "Kelurahan of the building or land, e.g. 31.74.05.1002"},
    )
    object_address = ma.fields.String(required=True, validate=V.Length(min=5, max=300))
    purpose = ma.fields.String(load_default=None, validate=V.Length(max=300))


class LetterCreateSchema(Schema):
    type_code = ma.fields.String(required=True, validate=V.Length(max=20))
    purpose = ma.fields.String(
        required=True, validate=V.Length(min=3, max=300), metadata={"description": "Keperluan, e.g. melamar pekerjaan"}
    )


class ApplicationDocumentFormSchema(Schema):
    kind = ma.fields.String(required=True, validate=V.Length(max=40))


class ApplicationDocumentFileSchema(Schema):
    file = Upload(
        required=True,
        metadata={
            "description": "PDF, JPEG, PNG or HEIC (stored as JPEG), at most 10 MB",
            "content_types": ("application/pdf", "image/jpeg", "image/png", "image/heic", "image/heif"),
        },
    )


class ApplicationDocumentSchema(Schema):
    id = ma.fields.String()
    kind = ma.fields.String()
    filename = ma.fields.String()
    content_type = ma.fields.String()
    size = ma.fields.Integer()
    uploaded_at = ma.fields.DateTime()


class WithdrawSchema(Schema):
    note = ma.fields.String(load_default=None, validate=V.Length(max=500))


class ApplicationTransitionSchema(Schema):
    status = ma.fields.String(required=True, validate=V.Length(max=30))
    note = ma.fields.String(load_default=None, validate=V.Length(max=500))
    decision_number = ma.fields.String(load_default=None, validate=V.Length(max=60))
    version = ma.fields.Integer(
        load_default=None,
        metadata={"description": "The version you saw; a different current version is refused with 412"},
    )


class ApplicationEventSchema(Schema):
    at = ma.fields.DateTime()
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String()
    actor_role = ma.fields.String(allow_none=True)
    note = ma.fields.String(allow_none=True)


def _checklist(application) -> list[dict]:
    return [
        {
            **item,
            "document": nested_schema(ApplicationDocumentSchema).dump(item["document"]) if item["document"] else None,
        }
        for item in checklist(application)
    ]


class ApplicationTypeBriefSchema(Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    sla_days = ma.fields.Integer()


class ApplicationSummarySchema(Schema):
    id = ma.fields.String()
    reference = ma.fields.String()
    kind = ma.fields.String()
    type_code = ma.fields.String()
    type_name = ma.fields.Function(lambda a: a.type.name)
    status = ma.fields.String()
    area_code = ma.fields.String()
    submitted_at = ma.fields.DateTime(allow_none=True)
    sla_due_at = ma.fields.DateTime(allow_none=True)
    sla_breached = ma.fields.Function(lambda a: a.sla_breached_at is not None)


class ApplicationSchema(ApplicationSummarySchema):
    type = ma.fields.Nested(ApplicationTypeBriefSchema)
    object_address = ma.fields.String(allow_none=True)
    purpose = ma.fields.String(allow_none=True)
    sla_breached_at = ma.fields.DateTime(allow_none=True)
    sla_paused = ma.fields.Function(lambda a: a.sla_paused_at is not None)
    decided_at = ma.fields.DateTime(allow_none=True)
    decision_number = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()
    checklist = ma.fields.Function(_checklist)
    timeline = ma.fields.List(ma.fields.Nested(ApplicationEventSchema), attribute="events")


class ApplicantSchema(Schema):
    id = ma.fields.String()
    full_name = ma.fields.String()
    nik_masked = ma.fields.String()


class OfficerApplicationSchema(ApplicationSchema):
    applicant = ma.fields.Nested(ApplicantSchema)


class ApplicationQueueArgsSchema(CursorPageArgsSchema):
    status = ma.fields.String(load_default=None, validate=V.Length(max=30))
    breached = ma.fields.Boolean(load_default=False)
    include_closed = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "Also issued, rejected and withdrawn applications (default: open ones only)"},
    )


class ApplicationQueuePageSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(ApplicationSummarySchema))
    next_cursor = ma.fields.String(allow_none=True)


class CalendarYearArgsSchema(Schema):
    year = ma.fields.Integer(required=True, validate=V.Range(min=2000, max=2100))


class CalendarDaySchema(Schema):
    day = ma.fields.Date()
    kind = ma.fields.String(metadata={"description": "holiday (no working day) | workday (worked after all)"})
    name = ma.fields.String(allow_none=True)
    source = ma.fields.String(metadata={"description": "library (Indonesia's holidays and cuti bersama) | admin"})


class CalendarDayPutSchema(Schema):
    kind = ma.fields.String(required=True, validate=V.OneOf(["holiday", "workday"]))
    name = ma.fields.String(required=True, validate=V.Length(min=3, max=120))
