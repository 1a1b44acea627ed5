"""SMS senders: a recorder on the embedded default, an HTTP gateway client in production."""

from __future__ import annotations

import logging

import httpx

from jaki.auth.crypto import cipher
from jaki.auth.models import RecordedMessage
from jaki.extensions import db
from jaki.settings import setting

log = logging.getLogger(__name__)


class SmsError(Exception):
    """The gateway refused or did not answer; the caller may retry later."""


class RecordingSmsSender:
    """Writes the message to recorded_messages (dev and tests read OTPs there); never logs it."""

    def send(self, phone: str, body: str) -> None:
        db.session.add(RecordedMessage(channel="sms", recipient=cipher().blind_index(phone, "phone"), body=body))


class HttpSmsSender:
    def __init__(self, url: str, token: str | None, timeout: float = 5.0):
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, phone: str, body: str) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = httpx.post(self.url, json={"to": phone, "text": body}, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise SmsError(type(exc).__name__) from None
        if response.status_code >= 300:
            log.warning("sms gateway refused", extra={"status": response.status_code})
            raise SmsError(f"status {response.status_code}")


def sms_sender():
    backend = setting("SMS_BACKEND")
    if backend == "record":
        return RecordingSmsSender()
    if backend == "http":
        return HttpSmsSender(setting("SMS_HTTP_URL"), setting("SMS_HTTP_TOKEN"))
    raise RuntimeError(f"unknown SMS_BACKEND {backend!r}")
