"""Fixtures for notifications: areas, the FCM stub wired into the app, and committed data for relays and workers."""

from __future__ import annotations

import contextlib
import time

import pytest
from sqlalchemy import delete, func, select

from jaki.auth.models import RecordedMessage, User
from jaki.db import utcnow
from jaki.events import OutboxEvent, record_event
from jaki.extensions import db
from jaki.geo.models import Area
from jaki.notifications.models import Broadcast, BroadcastRead, Device, InboxState, Notification
from jaki.notifications.models import NotificationPreference as Preference
from jaki.notifications.push import FcmPushSender, RecordingPushSender
from tests.factories import make_user
from tests.support.fcm_stub import FcmStub

# Jakarta Selatan > Kebayoran Lama > two kelurahan; Jakarta Timur > Jatinegara > Kampung Melayu.
AREAS = [
    ("31", "provinsi", "DKI Jakarta", None),
    ("31.74", "kota", "Jakarta Selatan", "31"),
    ("31.74.05", "kecamatan", "Kebayoran Lama", "31.74"),
    ("31.74.05.1002", "kelurahan", "Pondok Pinang", "31.74.05"),
    ("31.74.05.1003", "kelurahan", "Cipulir", "31.74.05"),
    ("31.75", "kota", "Jakarta Timur", "31"),
    ("31.75.06", "kecamatan", "Jatinegara", "31.75"),
    ("31.75.06.1001", "kelurahan", "Kampung Melayu", "31.75.06"),
]
SELATAN_TOPICS = ["area-3174051002", "area-317405", "area-3174", "area-31"]


def ensure_areas() -> None:
    for code, level, name, parent in AREAS:
        if db.session.get(Area, code) is None:
            db.session.add(Area(code=code, level=level, name=name, parent_code=parent))
    db.session.flush()


def target(message: dict) -> str | None:
    """The device a stub message went to, whichever field (token or fid) push.py puts it in."""
    return message.get("token") or message.get("fid") or message.get("topic")


@pytest.fixture
def areas(ctx):
    ensure_areas()


@pytest.fixture
def stub():
    with FcmStub() as running:
        yield running


@pytest.fixture
def fcm(app, stub, monkeypatch):
    """The app's push sender is real firebase-admin talking to the local stub."""
    with FcmPushSender("jaki-test", fcm_url=stub.send_url) as sender:
        monkeypatch.setitem(app.extensions, "jaki.push_sender", sender)
        yield sender


@pytest.fixture
def recorder(app, monkeypatch):
    """A fresh recording sender (the embedded default's), so a test can read its topics and messages."""
    sender = RecordingPushSender()
    monkeypatch.setitem(app.extensions, "jaki.push_sender", sender)
    return sender


@pytest.fixture
def notify_config(app, monkeypatch):
    """Set notification settings for one test: notify_config(NOTIFY_MAX_ATTEMPTS=3, ...)."""

    def configure(**values):
        for key, value in values.items():
            monkeypatch.setitem(app.config, key, value)

    return configure


class Committed:
    """Real commits (other connections, threads and processes see them); everything made is deleted afterwards."""

    def __init__(self):
        self.started = utcnow()
        self.user_ids: list[str] = []
        self.first_event_id = (db.session.scalar(select(func.max(OutboxEvent.id))) or 0) + 1
        self.first_message_id = (db.session.scalar(select(func.max(RecordedMessage.id))) or 0) + 1
        self.created_areas: list[str] = []

    def areas(self) -> None:
        for code, level, name, parent in AREAS:
            if db.session.get(Area, code) is None:
                db.session.add(Area(code=code, level=level, name=name, parent_code=parent))
                self.created_areas.append(code)
        db.session.commit()

    def user(self, **fields) -> User:
        user = make_user(**fields)
        db.session.commit()
        self.user_ids.append(user.id)
        return user

    def device(self, user: User, token: str, *, locale: str = "id") -> Device:
        device = Device(
            user_id=user.id, token=token, platform="android", locale=locale, topics=[], topics_synced_at=utcnow()
        )
        db.session.add(device)
        db.session.commit()
        return device

    def event(self, type_: str, recipients: list[str], data: dict | None = None, aggregate_id: str = "r-1"):
        event = record_event(db.session, type_, "report", aggregate_id, {"recipients": recipients, "data": data or {}})
        db.session.commit()
        return event

    def cleanup(self) -> None:
        db.session.rollback()
        users = self.user_ids
        db.session.execute(delete(BroadcastRead).where(BroadcastRead.user_id.in_(users)))
        db.session.execute(delete(Broadcast).where(Broadcast.created_at >= self.started))
        for model in (Notification, Device, Preference, InboxState):
            column = model.recipient_id if model is Notification else model.user_id
            db.session.execute(delete(model).where(column.in_(users)))
        db.session.execute(delete(OutboxEvent).where(OutboxEvent.id >= self.first_event_id))
        db.session.execute(delete(RecordedMessage).where(RecordedMessage.id >= self.first_message_id))
        db.session.execute(delete(User).where(User.id.in_(users)))
        for code in reversed(self.created_areas):
            db.session.execute(delete(Area).where(Area.code == code))
        db.session.commit()


@pytest.fixture
def committed(app):
    """For relays, workers and faults: data committed for real through the app's own session, then removed.

    Does not use the savepoint `session` fixture, so do not combine the two in one test.
    """
    with app.app_context():
        data = Committed()
        try:
            yield data
        finally:
            with contextlib.suppress(Exception):
                db.session.rollback()
            data.cleanup()
            db.session.remove()


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")
