"""Request and response schemas for identity endpoints. Public payloads carry masked NIKs only."""

from __future__ import annotations

import marshmallow as ma

from jaki.api import Schema
from jaki.auth.models import STAFF_ROLES

V = ma.validate


class RegisterSchema(Schema):
    nik = ma.fields.String(required=True, metadata={"example": "3174054107900003"})
    full_name = ma.fields.String(required=True, validate=V.Length(min=2, max=150))
    birth_date = ma.fields.Date(required=True)
    phone = ma.fields.String(required=True, validate=V.Length(max=20), metadata={"example": "081234567890"})
    password = ma.fields.String(required=True, load_only=True, validate=V.Length(max=200))
    email = ma.fields.Email(load_default=None, allow_none=True)


class RegisteredSchema(Schema):
    user_id = ma.fields.String()
    status = ma.fields.String()
    otp_sent_to = ma.fields.String(metadata={"description": "Masked phone number"})


class NikSchema(Schema):
    nik = ma.fields.String(required=True, validate=V.Length(max=32))


class OtpVerifySchema(NikSchema):
    code = ma.fields.String(required=True, validate=V.Regexp(r"^\d{6}$"))


class LoginSchema(Schema):
    nik = ma.fields.String(required=True, validate=V.Length(max=32))
    password = ma.fields.String(required=True, load_only=True, validate=V.Length(max=200))


class PasswordSchema(Schema):
    password = ma.fields.String(required=True, load_only=True, validate=V.Length(max=200))


class TokenPairSchema(Schema):
    access_token = ma.fields.String()
    refresh_token = ma.fields.String()
    token_type = ma.fields.String()
    expires_in = ma.fields.Integer(metadata={"description": "Access token lifetime in seconds"})


class AccessTokenSchema(Schema):
    access_token = ma.fields.String()
    token_type = ma.fields.String()
    expires_in = ma.fields.Integer()


class LogoutSchema(Schema):
    refresh_token = ma.fields.String(load_default=None)


class StatusSchema(Schema):
    status = ma.fields.String()


class MeSchema(Schema):
    id = ma.fields.String()
    role = ma.fields.String()
    status = ma.fields.String()
    nik_masked = ma.fields.String()
    full_name = ma.fields.String()
    birth_date = ma.fields.Date()
    sex = ma.fields.String()
    phone_masked = ma.fields.String()
    phone_verified = ma.fields.Function(lambda u: u.phone_verified_at is not None)
    email = ma.fields.String(allow_none=True)
    home_kelurahan_code = ma.fields.String(allow_none=True)
    agency_code = ma.fields.String(allow_none=True)
    area_codes = ma.fields.List(ma.fields.String())
    created_at = ma.fields.DateTime()


class MePatchSchema(Schema):
    email = ma.fields.Email(allow_none=True)
    home_kelurahan_code = ma.fields.String(allow_none=True, validate=V.Length(max=20))


class NikRevealSchema(Schema):
    nik = ma.fields.String()


class PasswordChangeSchema(Schema):
    current_password = ma.fields.String(required=True, load_only=True, validate=V.Length(max=200))
    new_password = ma.fields.String(required=True, load_only=True, validate=V.Length(max=200))


class StaffCreateSchema(Schema):
    nik = ma.fields.String(required=True)
    full_name = ma.fields.String(required=True, validate=V.Length(min=2, max=150))
    birth_date = ma.fields.Date(required=True)
    phone = ma.fields.String(required=True, validate=V.Length(max=20))
    password = ma.fields.String(required=True, load_only=True, validate=V.Length(max=200))
    role = ma.fields.String(required=True, validate=V.OneOf(STAFF_ROLES))
    agency_code = ma.fields.String(load_default=None, allow_none=True)
    area_codes = ma.fields.List(
        ma.fields.String(validate=V.Length(max=20)), load_default=list, validate=V.Length(max=100)
    )
    email = ma.fields.Email(load_default=None, allow_none=True)


class PersonSchema(Schema):
    """What an official sees of a person: masked identifiers only."""

    id = ma.fields.String()
    role = ma.fields.String()
    status = ma.fields.String()
    nik_masked = ma.fields.String()
    full_name = ma.fields.String()
    birth_date = ma.fields.Date()
    phone_masked = ma.fields.String()
    email = ma.fields.String(allow_none=True)
    agency_code = ma.fields.String(allow_none=True)
    area_codes = ma.fields.List(ma.fields.String())


class AuditEntrySchema(Schema):
    id = ma.fields.Integer()
    at = ma.fields.DateTime()
    actor_id = ma.fields.String(allow_none=True)
    actor_role = ma.fields.String(allow_none=True)
    subject_id = ma.fields.String(allow_none=True)
    action = ma.fields.String()
    fields = ma.fields.String(allow_none=True)
    reason = ma.fields.String(allow_none=True)
    lawful_basis = ma.fields.String()


class AuditQueryArgsSchema(Schema):
    subject_id = ma.fields.String(load_default=None)
    actor_id = ma.fields.String(load_default=None)
    limit = ma.fields.Integer(load_default=50, validate=V.Range(min=1, max=200))
    cursor = ma.fields.String(load_default=None)


class AuditPageSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(AuditEntrySchema))
    next_cursor = ma.fields.String(allow_none=True)


class DataExportSchema(Schema):
    """Documents the export (jaki.auth.operations.data_export builds it; each domain adds its own section)."""

    class Meta:
        unknown = ma.INCLUDE  # the domains' sections

    account = ma.fields.Dict(metadata={"description": "The account as stored, the full NIK and phone included"})
    sessions = ma.fields.List(ma.fields.Dict(), metadata={"description": "Logins: issued, expires, revoked"})
    access_log = ma.fields.List(ma.fields.Dict(), metadata={"description": "Who read my data, when and why"})
