"""Request and response schemas: devices, inbox, preferences, broadcasts. Push tokens are never echoed back."""

from __future__ import annotations

import marshmallow as ma

from jaki.api import CursorPageArgsSchema, Schema
from jaki.i18n import register, template
from jaki.notifications.models import PLATFORMS

V = ma.validate

# FCM registration tokens and installation ids: URL-safe base64 with ':' separators, never whitespace.
register({"fcm_token_invalid": ("Token FCM tidak valid.", "Not a valid FCM token.")})
TOKEN = V.Regexp(r"^[A-Za-z0-9_:\-.]{8,512}$", error=template("fcm_token_invalid"))


class DeviceRegisterSchema(Schema):
    token = ma.fields.String(required=True, validate=TOKEN, load_only=True)
    platform = ma.fields.String(required=True, validate=V.OneOf(PLATFORMS))
    app_version = ma.fields.String(load_default=None, allow_none=True, validate=V.Length(max=40))
    locale = ma.fields.String(
        load_default="id",
        validate=V.Regexp(r"^[A-Za-z]{2}([-_][A-Za-z]{2})?$"),
        metadata={"description": "id or en (id-ID, en-US accepted)"},
    )
    previous_token = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=TOKEN,
        load_only=True,
        metadata={"description": "The token this one replaces (FCM rotated it)"},
    )


class DeviceSchema(Schema):
    id = ma.fields.String()
    platform = ma.fields.String()
    app_version = ma.fields.String(allow_none=True)
    locale = ma.fields.String()
    created_at = ma.fields.DateTime()
    last_seen_at = ma.fields.DateTime()
    topics = ma.fields.List(ma.fields.String(), metadata={"description": "Area topics FCM has confirmed"})


class InboxQueryArgsSchema(CursorPageArgsSchema):
    unread_only = ma.fields.Boolean(load_default=False)


class InboxItemSchema(Schema):
    id = ma.fields.String()
    kind = ma.fields.String(metadata={"description": "notification (mine) or broadcast (to my area)"})
    type = ma.fields.String()
    title = ma.fields.String()
    body = ma.fields.String()
    data = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    area_code = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    read = ma.fields.Boolean()


class InboxPageSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(InboxItemSchema))
    next_cursor = ma.fields.String(allow_none=True)


class UnreadCountSchema(Schema):
    count = ma.fields.Integer()


class PreferenceSchema(Schema):
    type = ma.fields.String()
    label = ma.fields.String()
    push = ma.fields.Boolean()
    mutable = ma.fields.Boolean()


class PreferencesPatchSchema(Schema):
    preferences = ma.fields.Dict(
        keys=ma.fields.String(validate=V.Length(max=60)),
        values=ma.fields.Boolean(),
        required=True,
        validate=V.Length(min=1, max=50),
        metadata={"example": {"report.supported": False}},
    )


class BroadcastCreateSchema(Schema):
    area_code = ma.fields.String(
        required=True,
        validate=V.Length(max=20),
        metadata={"description": "31 (all of Jakarta), a kota, kecamatan or kelurahan", "example": "31.75.06"},
    )
    title = ma.fields.String(required=True, validate=V.Length(min=3, max=100))
    body = ma.fields.String(required=True, validate=V.Length(min=3, max=1000))


class BroadcastQueryArgsSchema(CursorPageArgsSchema):
    area_code = ma.fields.String(load_default=None, validate=V.Length(max=20))


class BroadcastSchema(Schema):
    id = ma.fields.String()
    area_code = ma.fields.String()
    kind = ma.fields.String()
    title = ma.fields.String()
    body = ma.fields.String()
    created_by = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    status = ma.fields.String()
    attempts = ma.fields.Integer()
    last_error = ma.fields.String(allow_none=True)
    sent_at = ma.fields.DateTime(allow_none=True)


class BroadcastPageSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(BroadcastSchema))
    next_cursor = ma.fields.String(allow_none=True)
