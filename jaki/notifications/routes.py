"""Endpoints: /me/devices, /me/notifications, /me/notification-preferences and /admin/broadcasts."""

from __future__ import annotations

from flask_jwt_extended import current_user

from jaki.api import API_PREFIX, Blueprint
from jaki.auth.permissions import login_required, roles_required
from jaki.auth.tokens import user_record
from jaki.caching import cached_answer
from jaki.i18n import current_language
from jaki.notifications import operations
from jaki.notifications.models import BROADCASTS
from jaki.notifications.schemas import (
    BroadcastCreateSchema,
    BroadcastPageSchema,
    BroadcastQueryArgsSchema,
    BroadcastSchema,
    DeviceRegisterSchema,
    DeviceSchema,
    InboxPageSchema,
    InboxQueryArgsSchema,
    PreferenceSchema,
    PreferencesPatchSchema,
    UnreadCountSchema,
)

me_blp = Blueprint(
    "me_notifications",
    __name__,
    url_prefix=f"{API_PREFIX}/me",
    description="Perangkat, kotak masuk dan preferensi notifikasi saya",
)
admin_blp = Blueprint(
    "admin_broadcasts", __name__, url_prefix=f"{API_PREFIX}/admin/broadcasts", description="Siaran darurat per wilayah"
)


@me_blp.route("/devices", methods=["POST"])
@login_required()
@me_blp.arguments(DeviceRegisterSchema)
@me_blp.response(201, DeviceSchema, location=("me_notifications.list_devices", {}))
def register_device(data):
    """Register (or refresh, or rotate) this installation's FCM token; it then follows my area's topics."""
    return operations.register_device(current_user, **data)


@me_blp.route("/devices", methods=["GET"])
@login_required()
@me_blp.response(200, DeviceSchema(many=True))
def list_devices():
    """My registered devices (tokens are not shown)."""
    return operations.list_devices(current_user)


@me_blp.route("/devices/<string:device_id>", methods=["DELETE"])
@login_required()
@me_blp.response(204)
def remove_device(device_id):
    """Stop pushes to this device (on logout or uninstall)."""
    operations.remove_device(current_user, device_id)


@me_blp.route("/notifications", methods=["GET"])
@login_required(load_user=False)
@cached_answer("inbox", "INBOX_ANSWER_SECONDS", args=("limit", "unread_only"), generation=BROADCASTS)
@me_blp.arguments(InboxQueryArgsSchema, location="query")
@me_blp.response(200, InboxPageSchema)
def inbox(args):
    """My inbox: my notifications and the emergency broadcasts to my area, newest first."""
    return operations.inbox_page(
        user_record(current_user),
        limit=args["limit"],
        cursor=args["cursor"],
        unread_only=args["unread_only"],
        language=current_language(),
    )


@me_blp.route("/notifications/unread-count", methods=["GET"])
@login_required(load_user=False)
@cached_answer("unread", "INBOX_ANSWER_SECONDS", generation=BROADCASTS)
@me_blp.response(200, UnreadCountSchema)
def unread_count():
    """How many items of my inbox are unread."""
    return {"count": operations.unread_count(user_record(current_user))}


@me_blp.route("/notifications/<string:item_id>/read", methods=["POST"])
@login_required()
@me_blp.response(204)
def mark_read(item_id):
    """Mark one inbox item as read."""
    operations.mark_read(current_user, item_id)


@me_blp.route("/notifications/read-all", methods=["POST"])
@login_required()
@me_blp.response(204)
def mark_all_read():
    """Mark my whole inbox as read."""
    operations.mark_all_read(current_user)


@me_blp.route("/notification-preferences", methods=["GET"])
@login_required()
@me_blp.response(200, PreferenceSchema(many=True))
def get_preferences():
    """Which notification types are pushed to me (emergency broadcasts cannot be muted)."""
    return operations.preferences(current_user, current_language())


@me_blp.route("/notification-preferences", methods=["PATCH"])
@login_required()
@me_blp.arguments(PreferencesPatchSchema)
@me_blp.response(200, PreferenceSchema(many=True))
def patch_preferences(data):
    """Turn pushes of some types on or off; they still appear in the inbox."""
    return operations.update_preferences(current_user, data["preferences"], current_language())


@admin_blp.route("", methods=["POST"])
@roles_required("admin")
@admin_blp.arguments(BroadcastCreateSchema)
@admin_blp.response(202, BroadcastSchema, location=("admin_broadcasts.get_broadcast", {"broadcast_id": "id"}))
def create_broadcast(data):
    """Send an emergency message to a kelurahan, kecamatan, kota or all of Jakarta (31)."""
    return operations.create_broadcast(current_user, **data)


@admin_blp.route("", methods=["GET"])
@roles_required("admin")
@admin_blp.arguments(BroadcastQueryArgsSchema, location="query")
@admin_blp.response(200, BroadcastPageSchema)
def list_broadcasts(args):
    """Broadcasts, newest first, with their delivery state."""
    return operations.list_broadcasts(limit=args["limit"], cursor=args["cursor"], area_code=args["area_code"])


@admin_blp.route("/<string:broadcast_id>", methods=["GET"])
@roles_required("admin")
@admin_blp.response(200, BroadcastSchema)
def get_broadcast(broadcast_id):
    """One broadcast and its delivery state."""
    return operations.get_broadcast(broadcast_id)
