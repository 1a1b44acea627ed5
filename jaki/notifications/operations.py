"""Devices, the inbox (own rows and area broadcasts), preferences and broadcasts: what the API calls."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from sqlalchemy import JSON, String, and_, cast, exists, func, literal, null, or_, select, union_all, update
from sqlalchemy.exc import IntegrityError

from jaki.api import Keyset, Page
from jaki.auth.models import User
from jaki.caching import forget_answers
from jaki.db import utcnow
from jaki.errors import NotFound, field_error
from jaki.extensions import db
from jaki.notifications import tasks
from jaki.notifications.areas import AREA_CODE, area_chain, area_known
from jaki.notifications.models import (
    Broadcast,
    BroadcastRead,
    Device,
    InboxState,
    Notification,
    NotificationPreference,
)
from jaki.notifications.templates import ALL_TYPES, EMERGENCY, TEMPLATES, UNMUTABLE, label
from jaki.pdp.consent import home_area_for_alerts
from jaki.settings import setting

log = logging.getLogger(__name__)


# Devices


def _language(locale: str | None) -> str:
    return "en" if (locale or "").lower().startswith("en") else "id"


def register_device(
    user: User,
    *,
    token: str,
    platform: str,
    app_version: str | None = None,
    locale: str | None = None,
    previous_token: str | None = None,
    _again: bool = True,
) -> Device:
    """Register or refresh an FCM token. A token belongs to one account: registering it moves it here."""
    now = utcnow()
    if previous_token and previous_token != token:
        # Rotation: the old token is dead at FCM, so it leaves its topics by itself.
        db.session.execute(Device.__table__.delete().where(Device.token == previous_token, Device.user_id == user.id))
    device = db.session.scalar(select(Device).where(Device.token == token))
    if device is None:
        device = Device(user_id=user.id, token=token, created_at=now, topics=[])
        db.session.add(device)
    elif device.user_id != user.id or device.removed_at is not None:
        # Same phone, other account (or re-registered after removal): topics follow the new owner's area.
        device.user_id, device.removed_at, device.created_at = user.id, None, now
    device.platform, device.app_version, device.locale = platform, app_version, _language(locale)
    device.last_seen_at, device.topics_synced_at, device.topic_sync_failures = now, None, 0
    db.session.flush()
    evicted = _enforce_device_cap(user, keep=device.id, now=now)
    try:
        db.session.commit()
    except IntegrityError:
        # The same token registered concurrently: the other request won; refresh that row instead (once).
        db.session.rollback()
        if not _again:
            raise
        return register_device(
            user, token=token, platform=platform, app_version=app_version, locale=locale, _again=False
        )
    for device_id in (device.id, *evicted):
        tasks.enqueue_topic_sync(device_id)
    return device


def _enforce_device_cap(user: User, *, keep: str, now: datetime) -> list[str]:
    active = db.session.scalars(
        select(Device)
        .where(Device.user_id == user.id, Device.removed_at.is_(None))
        .order_by(Device.last_seen_at.desc(), Device.created_at.desc())
    ).all()
    cap = setting("NOTIFY_MAX_DEVICES")
    survivors = [d for d in active if d.id == keep] + [d for d in active if d.id != keep]
    evicted = survivors[cap:]
    for device in evicted:
        device.removed_at, device.topics_synced_at = now, None
    return [d.id for d in evicted]


def list_devices(user: User) -> list[Device]:
    return db.session.scalars(
        select(Device)
        .where(Device.user_id == user.id, Device.removed_at.is_(None))
        .order_by(Device.last_seen_at.desc())
    ).all()


def remove_device(user: User, device_id: str) -> None:
    device = db.session.get(Device, device_id)
    if device is None or device.user_id != user.id or device.removed_at is not None:
        raise NotFound()
    # Unsubscribed from its topics by a job, then deleted: until then it still counts as "removed", not sent to.
    device.removed_at, device.topics_synced_at = utcnow(), None
    db.session.commit()
    tasks.enqueue_topic_sync(device.id)


# Inbox


def _my_areas(user: User) -> list[str]:
    return area_chain(home_area_for_alerts(user))  # city-wide only once the citizen objected (UU PDP)


def _broadcast_filter(user: User, areas: list[str]):
    return and_(Broadcast.area_code.in_(areas), Broadcast.created_at >= user.created_at)


def _broadcast_read(user: User):
    """True when the person marked the broadcast read, or marked everything read after it came (in SQL)."""
    read_before = select(InboxState.broadcasts_read_before).where(InboxState.user_id == user.id).scalar_subquery()
    marked = exists().where(BroadcastRead.user_id == user.id, BroadcastRead.broadcast_id == Broadcast.id)
    return or_(marked, and_(read_before.is_not(None), Broadcast.created_at <= read_before))


# Newest first. The inbox is a UNION of notifications and broadcasts: its own query, the same cursor (and key).
INBOX_ORDER = Keyset((Notification.created_at, Notification.id), ("datetime", "str"), descending=True)
BROADCAST_ORDER = Keyset((Broadcast.created_at, Broadcast.id), ("datetime", "str"), descending=True)


def inbox_page(
    user: User, *, limit: int, cursor: str | None = None, unread_only: bool = False, language: str = "id"
) -> dict:
    """My notifications and the broadcasts to my areas since my account existed, newest first (keyset pages).
    One query for the page (both kinds, with their read state), after the area chain."""
    position = INBOX_ORDER.decode(cursor)
    areas = _my_areas(user)
    broadcast_read = _broadcast_read(user)

    own = select(
        Notification.id.label("id"),
        Notification.created_at.label("created_at"),
        literal("notification").label("kind"),
        Notification.type.label("type"),
        Notification.title.label("title"),
        Notification.body.label("body"),
        Notification.data.label("data"),
        Notification.read_at.is_not(None).label("read"),
        cast(null(), String).label("area_code"),
    ).where(Notification.recipient_id == user.id)
    broadcasts = select(
        Broadcast.id,
        Broadcast.created_at,
        literal("broadcast"),
        literal(EMERGENCY),
        Broadcast.title,
        Broadcast.body,
        cast(null(), JSON),
        broadcast_read,
        Broadcast.area_code,
    ).where(_broadcast_filter(user, areas))
    if unread_only:
        own = own.where(Notification.read_at.is_(None))
        broadcasts = broadcasts.where(~broadcast_read)
    if position:
        own = own.where(INBOX_ORDER.after(position))
        broadcasts = broadcasts.where(INBOX_ORDER.after(position, (Broadcast.created_at, Broadcast.id)))
    # Each side is limited before the union so neither scans more than one page.
    own = own.order_by(*INBOX_ORDER.order_by()).limit(limit + 1)
    broadcasts = broadcasts.order_by(*INBOX_ORDER.order_by((Broadcast.created_at, Broadcast.id))).limit(limit + 1)
    both = union_all(select(own.subquery()), select(broadcasts.subquery())).subquery()
    rows = db.session.execute(select(both).order_by(both.c.created_at.desc(), both.c.id.desc()).limit(limit + 1)).all()
    page = rows[:limit]
    items = [_notification_item(r, language) if r.kind == "notification" else _broadcast_item(r) for r in page]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = INBOX_ORDER.encode([_as_aware(last.created_at), last.id])
    return {"items": items, "next_cursor": next_cursor}


def _as_aware(value) -> datetime:
    # A UNION column loses the UTC type decorator on some drivers: normalise before it goes into a cursor.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _data(value) -> dict:
    if isinstance(value, str):  # a UNION column may come back as its JSON text
        value = json.loads(value)
    return value or {}


def _notification_item(row, language: str) -> dict:
    title, body, data = row.title, row.body, _data(row.data)
    template = TEMPLATES.get(row.type)
    if language == "en" and template is not None:
        title, body = template.render(data, "en")
    return {
        "id": row.id,
        "kind": "notification",
        "type": row.type,
        "title": title,
        "body": body,
        "data": data,
        "created_at": _as_aware(row.created_at),
        "read": bool(row.read),
        "area_code": None,
    }


def _broadcast_item(row) -> dict:
    return {
        "id": row.id,
        "kind": "broadcast",
        "type": EMERGENCY,
        "title": row.title,
        "body": row.body,
        "data": {"area_code": row.area_code},
        "created_at": _as_aware(row.created_at),
        "read": bool(row.read),
        "area_code": row.area_code,
    }


def unread_count(user: User) -> int:
    own = db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
    )
    areas = _my_areas(user)
    broadcasts = db.session.scalar(
        select(func.count()).select_from(Broadcast).where(_broadcast_filter(user, areas), ~_broadcast_read(user))
    )
    return int(own or 0) + int(broadcasts or 0)


def mark_read(user: User, item_id: str) -> None:
    """Mark one of my notifications, or a broadcast I can see, as read. Anything else is 404 (never 403)."""
    notification = db.session.get(Notification, item_id)
    if notification is not None:
        if notification.recipient_id != user.id:
            raise NotFound()
        if notification.read_at is None:
            notification.read_at = utcnow()
            db.session.commit()
        return
    broadcast = db.session.get(Broadcast, item_id)
    if broadcast is None or broadcast.area_code not in _my_areas(user) or broadcast.created_at < user.created_at:
        raise NotFound()
    if db.session.get(BroadcastRead, (user.id, broadcast.id)) is None:
        db.session.add(BroadcastRead(user_id=user.id, broadcast_id=broadcast.id, read_at=utcnow()))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()  # marked read by a concurrent request: same outcome


def mark_all_read(user: User) -> None:
    now = utcnow()
    db.session.execute(
        update(Notification)
        .where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    newest = db.session.scalar(select(func.max(Broadcast.created_at)).where(_broadcast_filter(user, _my_areas(user))))
    if newest is not None:
        newest = _as_aware(newest)
        state = db.session.get(InboxState, user.id)
        if state is None:
            db.session.add(InboxState(user_id=user.id, broadcasts_read_before=newest))
        elif state.broadcasts_read_before is None or state.broadcasts_read_before < newest:
            state.broadcasts_read_before = newest
        # Individual read marks at or before the watermark say nothing more.
        db.session.execute(
            BroadcastRead.__table__.delete().where(
                BroadcastRead.user_id == user.id,
                BroadcastRead.broadcast_id.in_(select(Broadcast.id).where(Broadcast.created_at <= newest)),
            )
        )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # a concurrent "mark all" created the state row; it did the same
    forget_answers([user.id])  # the UPDATE above bypasses the ORM, so the owner hook did not see it


# Preferences


def preferences(user: User, language: str = "id") -> list[dict]:
    chosen = dict(
        db.session.execute(
            select(NotificationPreference.type, NotificationPreference.push).where(
                NotificationPreference.user_id == user.id
            )
        ).all()
    )
    return [
        {
            "type": t,
            "label": label(t, language),
            "push": True if t in UNMUTABLE else chosen.get(t, True),
            "mutable": t not in UNMUTABLE,
        }
        for t in ALL_TYPES
    ]


def update_preferences(user: User, changes: dict[str, bool], language: str = "id", _again: bool = True) -> list[dict]:
    for type_ in changes:
        if type_ not in ALL_TYPES:
            raise field_error(type_, "notification_type_unknown")
        if type_ in UNMUTABLE and changes[type_] is False:
            raise field_error(type_, "notification_type_unmutable")
    for type_, push in changes.items():
        if type_ in UNMUTABLE:
            continue
        row = db.session.get(NotificationPreference, (user.id, type_))
        if row is None:
            db.session.add(NotificationPreference(user_id=user.id, type=type_, push=push))
        else:
            row.push = push
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # a concurrent request inserted the same preference row: apply ours on top (once)
        if not _again:
            raise
        return update_preferences(user, changes, language, _again=False)
    return preferences(user, language)


# Broadcasts


def create_broadcast(admin: User, *, area_code: str, title: str, body: str) -> Broadcast:
    """An emergency message to an area; one topic send reaches every device that follows the area."""
    if not AREA_CODE.match(area_code) or not area_known(area_code):
        raise field_error("area_code", "area_unknown")
    broadcast = Broadcast(
        area_code=area_code,
        title=title.strip(),
        body=body.strip(),
        kind="emergency",
        created_by=admin.id,
        created_at=utcnow(),
        status="created",
        attempts=0,
    )
    db.session.add(broadcast)
    db.session.commit()
    log.info("broadcast created", extra={"broadcast_id": broadcast.id, "area_code": area_code})
    tasks.enqueue_broadcast(broadcast.id)
    db.session.refresh(broadcast)
    return broadcast


def list_broadcasts(*, limit: int, cursor: str | None = None, area_code: str | None = None) -> Page:
    query = select(Broadcast)
    if area_code:
        query = query.where(Broadcast.area_code == area_code)
    return BROADCAST_ORDER.page(query, limit=limit, cursor=cursor)


def get_broadcast(broadcast_id: str) -> Broadcast:
    broadcast = db.session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise NotFound()
    return broadcast


def seed_demo_broadcast() -> None:
    """Demo data: one all-Jakarta notice, so the demo citizens' inboxes are not empty (idempotent)."""
    title = "Selamat datang di JAKI"
    if db.session.scalar(select(Broadcast.id).where(Broadcast.area_code == "31", Broadcast.title == title)):
        return
    body = "Contoh siaran darurat: peringatan banjir dan bencana untuk wilayah Anda muncul di sini."
    broadcast = Broadcast(
        area_code="31", title=title, body=body, kind="emergency", created_at=utcnow(), status="created", attempts=0
    )
    db.session.add(broadcast)
    db.session.commit()
    tasks.enqueue_broadcast(broadcast.id)


# UU PDP data export


def export_section(user: User) -> dict:
    devices = db.session.scalars(select(Device).where(Device.user_id == user.id).order_by(Device.created_at)).all()
    notifications = db.session.scalars(
        select(Notification).where(Notification.recipient_id == user.id).order_by(Notification.created_at)
    ).all()
    return {
        "devices": [
            {
                "id": d.id,
                "platform": d.platform,
                "app_version": d.app_version,
                "locale": d.locale,
                "registered_at": d.created_at.isoformat(),
                "last_seen_at": d.last_seen_at.isoformat(),
                "token_ending": d.token[-6:],
                "topics": list(d.topics or []),
                "removed_at": d.removed_at.isoformat() if d.removed_at else None,
            }
            for d in devices
        ],
        "notifications": [
            {
                "id": n.id,
                "type": n.type,
                "title": n.title,
                "body": n.body,
                "data": n.data,
                "created_at": n.created_at.isoformat(),
                "status": n.status,
                "read_at": n.read_at.isoformat() if n.read_at else None,
            }
            for n in notifications
        ],
        "preferences": {p["type"]: p["push"] for p in preferences(user)},
    }
