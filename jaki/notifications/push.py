"""Push senders: a recorder on the embedded default, Firebase Cloud Messaging (firebase-admin) in production."""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, Protocol
from urllib.parse import urlsplit

import firebase_admin
import requests.adapters
import requests.utils
from firebase_admin import credentials as fb_credentials
from firebase_admin import exceptions as fb_exceptions
from firebase_admin import messaging
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import AnonymousCredentials
from urllib3.util.retry import Retry

from jaki.notifications.transport import KeepAliveAdapter

log = logging.getLogger(__name__)

Priority = Literal["high", "normal"]

MAX_TOKENS_PER_SEND = 500  # messages per batch: each batch takes its share of the FCM quota at once
DEFAULT_CONCURRENCY = 16  # messages in flight per sender (one HTTP/1.1 connection each)
MAX_TOKENS_PER_TOPIC_CALL = 1000  # subscribe_to_topic refuses more
MAX_PAYLOAD_BYTES = 4096  # FCM's limit on notification + data
FCM_ORIGIN = "https://fcm.googleapis.com"
RESERVED_DATA_KEYS = frozenset({"from", "notification", "message_type"})
RESERVED_DATA_PREFIXES = ("google", "gcm")


class PushOutcome(StrEnum):
    SENT = "sent"
    UNREGISTERED = "unregistered"  # the token is dead: delete it
    RETRYABLE = "retryable"  # try again later, with backoff
    PERMANENT = "permanent"  # retrying will not help, but the token may still be good


@dataclass(frozen=True, slots=True)
class PushResult:
    token: str
    outcome: PushOutcome
    message_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    retry_after: float | None = None  # seconds, when the provider said how long to wait

    @property
    def ok(self) -> bool:
        return self.outcome is PushOutcome.SENT


@dataclass(frozen=True, slots=True)
class PushMessage:
    """One personal message to one device (a batch carries many, each with its own text)."""

    token: str
    title: str
    body: str
    data: dict[str, str]
    collapse_key: str | None = None
    priority: Priority = "normal"


class PushSender(Protocol):
    def send_batch(self, messages: Sequence[PushMessage]) -> list[PushResult]:
        """One result per message, in order; the caller has checked each payload (check_payload)."""
        ...

    def send(
        self,
        tokens: list[str],
        *,
        title: str,
        body: str,
        data: dict[str, str],
        collapse_key: str | None = None,
        priority: Priority = "normal",
    ) -> list[PushResult]:
        """One result per token, in the tokens' order."""
        ...

    def send_to_topic(
        self, topic: str, *, title: str, body: str, data: dict[str, str], priority: Priority = "normal"
    ) -> PushResult: ...

    def subscribe(self, tokens: list[str], topic: str) -> list[str]:
        """Returns the tokens that could not be subscribed."""
        ...

    def unsubscribe(self, tokens: list[str], topic: str) -> list[str]:
        """Returns the tokens that could not be unsubscribed."""
        ...


def check_payload(title: str, body: str, data: Mapping[str, str]) -> None:
    """Raises ValueError for what FCM would reject for every recipient, so the recorder catches it too."""
    for key, value in data.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValueError("push data keys and values must be strings")
        if key in RESERVED_DATA_KEYS or key.startswith(RESERVED_DATA_PREFIXES):
            raise ValueError(f"push data key {key!r} is reserved by FCM")
    size = len(json.dumps({"title": title, "body": body, "data": dict(data)}, ensure_ascii=False).encode())
    if size > MAX_PAYLOAD_BYTES:
        raise ValueError(f"push payload is {size} bytes, FCM accepts at most {MAX_PAYLOAD_BYTES}")


def check_priority(priority: str) -> None:
    if priority not in ("high", "normal"):
        raise ValueError(f"priority must be 'high' or 'normal', not {priority!r}")


def _chunks(items: Sequence[str], size: int):
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _log_summary(action: str, results: list[PushResult]) -> None:
    # Counts and error codes only: tokens identify devices and bodies may carry personal data.
    failures = Counter(r.error_code or r.outcome.value for r in results if not r.ok)
    log.info(
        "push %s",
        action,
        extra={"push_total": len(results), "push_sent": len(results) - failures.total(), "push_errors": dict(failures)},
    )


# Outcome of a failed send

_RETRYABLE_CODES = frozenset(
    {"QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED"}
)
_DEAD_TOKEN_CODES = frozenset({"UNREGISTERED", "SENDER_ID_MISMATCH"})
# INVALID_ARGUMENT is about the token only when FCM's message says so; otherwise it is the payload,
# and deleting every recipient's token because of a bad payload would unregister the whole city.
_TOKEN_COMPLAINT = re.compile(r"token|\bfid\b|installation", re.IGNORECASE)
_FCM_CODES = {
    messaging.UnregisteredError: "UNREGISTERED",
    messaging.SenderIdMismatchError: "SENDER_ID_MISMATCH",
    messaging.QuotaExceededError: "QUOTA_EXCEEDED",
    messaging.ThirdPartyAuthError: "THIRD_PARTY_AUTH_ERROR",
}


def _error_code(exc: BaseException) -> str:
    for exc_type, code in _FCM_CODES.items():
        if isinstance(exc, exc_type):
            return code
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) and code else "UNKNOWN"


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "http_response", None)
    value = response.headers.get("Retry-After") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date; the caller's own backoff applies


def _transient_auth_failure(cause: BaseException | None) -> bool:
    # Fetching the OAuth token fails inside firebase-admin's thread pool and surfaces as UnknownError.
    return isinstance(cause, auth_exceptions.TransportError) or bool(getattr(cause, "retryable", False))


def _failure(token: str, exc: BaseException | None) -> PushResult:
    if exc is None:
        # 200 without a message name: nothing to act on, and sending again could duplicate.
        return PushResult(token, PushOutcome.PERMANENT, error_code="UNKNOWN", error_message="no message id")
    code = _error_code(exc)
    message = str(exc)[:300]
    if code in _DEAD_TOKEN_CODES or (code == "INVALID_ARGUMENT" and _TOKEN_COMPLAINT.search(message)):
        outcome = PushOutcome.UNREGISTERED
    elif code in _RETRYABLE_CODES or _transient_auth_failure(getattr(exc, "cause", None)):
        outcome = PushOutcome.RETRYABLE
    else:
        outcome = PushOutcome.PERMANENT
    return PushResult(token, outcome, error_code=code, error_message=message, retry_after=_retry_after(exc))


# Firebase Cloud Messaging

_app_names = itertools.count(1)


class FcmPushSender:
    """Sends through firebase-admin on its own named App, so several senders (and the tests') coexist.

    fcm_url overrides the send endpoint (a "{0}" in it is replaced by the project id, as firebase-admin
    does with FCM_URL) and iid_url the origin serving topic management (defaults to fcm_url's origin).
    Overriding means a local stub: the sender then uses anonymous credentials, so no Google access
    token is ever sent to a non-Google host.

    retries replaces firebase-admin's own retrying (4 retries with exponential backoff on 500/503, and
    sleeping for any Retry-After on 429): `retries` retries on 500/503 or a refused connection, the
    first at once and later ones after retry_backoff * 2**n seconds, never sleeping for Retry-After.
    A job worker must not block for seconds per token; RETRYABLE results go back to the queue.

    Each message goes out by messaging.send on this sender's own `concurrency` threads, kept for its life:
    messaging.send_each starts a thread per message on every call (500 per batch), which on a small machine costs
    more than the HTTP request itself (bench/results/notifications.json, client_ceiling).
    """

    def __init__(
        self,
        project_id: str,
        credentials_file: str | None = None,
        fcm_url: str | None = None,
        iid_url: str | None = None,
        timeout: float = 10,
        app_name: str | None = None,
        *,
        retries: int = 1,
        retry_backoff: float = 0.5,
        batch_size: int = MAX_TOKENS_PER_SEND,
        concurrency: int = DEFAULT_CONCURRENCY,
    ):
        if not project_id:
            raise ValueError("an FCM project id is required")
        if not 1 <= batch_size <= MAX_TOKENS_PER_SEND:
            raise ValueError(f"batch_size must be between 1 and {MAX_TOKENS_PER_SEND}")
        if iid_url and not fcm_url:
            raise ValueError("iid_url (FCM_IID_URL) only makes sense with fcm_url (FCM_URL)")
        if not 1 <= concurrency <= MAX_TOKENS_PER_SEND:
            raise ValueError(f"concurrency must be between 1 and {MAX_TOKENS_PER_SEND}")
        self.project_id = project_id
        self.batch_size = batch_size
        local = bool(fcm_url)
        if local:
            if credentials_file:
                log.warning("FCM_CREDENTIALS_FILE ignored: credentials are never sent to an overridden FCM URL")
            credential = AnonymousCredentials()
        elif credentials_file:
            credential = fb_credentials.Certificate(credentials_file)
        else:
            credential = fb_credentials.ApplicationDefault()
        self._app = firebase_admin.initialize_app(
            credential,
            {"projectId": project_id, "httpTimeout": timeout},
            name=app_name or f"jaki-push-{next(_app_names)}-{uuid.uuid4().hex[:8]}",
        )
        try:
            self._service = messaging._get_messaging_service(self._app)
            send_url = fcm_url.format(project_id) if fcm_url else None
            topic_origin = (iid_url or _origin(fcm_url)).rstrip("/") if local else None
            self._configure_service(send_url, topic_origin, retries, retry_backoff)
        except BaseException:
            firebase_admin.delete_app(self._app)
            raise
        self.concurrency = concurrency
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="fcm-send")

    def _configure_service(
        self, send_url: str | None, topic_origin: str | None, retries: int, retry_backoff: float
    ) -> None:
        # firebase-admin 7.7 reads FCM_URL once, in the service's constructor, and builds the topic
        # management URL from a hard-coded host; pointing this one service instance at the stub avoids
        # mutating the class attribute that every other App shares.
        service = self._service
        for attribute in ("_fcm_url", "_fcm_topic_url", "_client"):
            if not hasattr(service, attribute):
                raise RuntimeError(f"firebase-admin {firebase_admin.__version__} has no {attribute}: re-check push.py")
        if send_url:
            service._fcm_url = send_url
        if topic_origin:
            service._fcm_topic_url = f"{topic_origin}/v1/projects/{self.project_id}/registrations"
        retry = Retry(
            total=retries,
            connect=retries,
            read=False,  # FCM may already have accepted the message: a read retry could notify twice
            status=retries,
            other=0,
            redirect=0,
            status_forcelist=(500, 503),
            allowed_methods=None,  # POST included: a 500/503 means the message was not accepted
            backoff_factor=retry_backoff,
            backoff_max=5,
            respect_retry_after_header=False,
            raise_on_status=False,
        )
        fallback = requests.adapters.HTTPAdapter(pool_connections=2, pool_maxsize=self.batch_size, max_retries=retry)
        # The same rules, on kept-alive connections without urllib3 (jaki.notifications.transport); what it does
        # not do (a proxy, above all) goes to the HTTPAdapter.
        adapter = KeepAliveAdapter(
            retries=retries, retry_backoff=retry_backoff, pool_size=self.batch_size, fallback=fallback
        )
        session = service._client.session
        for url in {service._fcm_url, service._fcm_topic_url}:
            session.mount(_origin(url), adapter)
        # requests reads the proxy and CA-bundle variables (and ~/.netrc) again on every request: a third of its
        # cost per message here. Read once, at start; HTTPS_PROXY, NO_PROXY and REQUESTS_CA_BUNDLE still apply.
        session.proxies.update(requests.utils.get_environ_proxies(service._fcm_url))
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            session.verify = bundle
        session.trust_env = False

    # Lifecycle

    def close(self) -> None:
        if self._app is None:
            return
        client = self._service._client
        self._pool.shutdown(wait=True)
        firebase_admin.delete_app(self._app)
        client.close()  # delete_app closes only the async client
        self._app = None

    def __enter__(self) -> FcmPushSender:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # Sending

    def _message_options(self, title: str, body: str, data, collapse_key: str | None, priority: Priority) -> dict:
        high = priority == "high"
        apns_headers = {"apns-priority": "10" if high else "5"}
        if collapse_key:
            apns_headers["apns-collapse-id"] = collapse_key[:64]  # APNs' limit
        return {
            "notification": messaging.Notification(title=title, body=body),
            "data": dict(data) or None,
            "android": messaging.AndroidConfig(priority=priority, collapse_key=collapse_key),
            "apns": messaging.APNSConfig(
                headers=apns_headers,
                payload=messaging.APNSPayload(aps=messaging.Aps(sound="default" if high else None)),
            ),
            "webpush": messaging.WebpushConfig(headers={"Urgency": priority}),
        }

    def send(
        self,
        tokens: list[str],
        *,
        title: str,
        body: str,
        data: dict[str, str],
        collapse_key: str | None = None,
        priority: Priority = "normal",
    ) -> list[PushResult]:
        data = data or {}
        check_payload(title, body, data)
        check_priority(priority)
        options = self._message_options(title, body, data, collapse_key, priority)
        results: list[PushResult | None] = [None] * len(tokens)
        sendable: list[int] = []
        for index, token in enumerate(tokens):
            if isinstance(token, str) and token:
                sendable.append(index)
            else:
                # firebase-admin would reject the whole batch for one empty token.
                results[index] = PushResult(
                    token, PushOutcome.UNREGISTERED, error_code="INVALID_ARGUMENT", error_message="empty token"
                )
        for batch in _chunks(sendable, self.batch_size):
            batch_tokens = [tokens[index] for index in batch]
            fcm_messages = [messaging.Message(fid=token, **options) for token in batch_tokens]
            for index, result in zip(batch, self._send_each(batch_tokens, fcm_messages), strict=True):
                results[index] = result
        _log_summary("send", results)
        return results

    def send_batch(self, messages: Sequence[PushMessage]) -> list[PushResult]:
        """Personal messages, each with its own text, batch_size at a time over the sender's threads."""
        results: list[PushResult | None] = [None] * len(messages)
        sendable: list[int] = []
        for index, message in enumerate(messages):
            if isinstance(message.token, str) and message.token:
                sendable.append(index)
            else:
                results[index] = PushResult(
                    message.token, PushOutcome.UNREGISTERED, error_code="INVALID_ARGUMENT", error_message="empty token"
                )
        options: dict = {}  # messages of one notification share their options object
        for batch in _chunks(sendable, self.batch_size):
            fcm_messages = []
            for index in batch:
                m = messages[index]
                key = (m.title, m.body, tuple(m.data.items()), m.collapse_key, m.priority)
                if key not in options:
                    options[key] = self._message_options(m.title, m.body, m.data, m.collapse_key, m.priority)
                fcm_messages.append(messaging.Message(fid=m.token, **options[key]))
            tokens = [messages[index].token for index in batch]
            answers = self._send_each(tokens, fcm_messages)
            for index, result in zip(batch, answers, strict=True):
                results[index] = result
        _log_summary("send batch", results)
        return results

    def _send_each(self, tokens: list[str], fcm_messages: list) -> list[PushResult]:
        """One messaging.send per message, `concurrency` at a time; one result per message, in order.

        Each of the sender's threads takes the next message from the batch until none is left: one task per thread,
        not one Future per message (a Future's Condition cost a delivery worker 12% of its CPU, py-spy --gil)."""
        answers: list[tuple[str | None, BaseException | None] | None] = [None] * len(fcm_messages)
        queue = iter(enumerate(fcm_messages))
        taking = threading.Lock()

        def drain() -> None:
            while True:
                with taking:
                    item = next(queue, None)
                if item is None:
                    return
                answers[item[0]] = self._send_one(item[1])

        for task in [self._pool.submit(drain) for _ in range(min(self.concurrency, len(fcm_messages)))]:
            task.result()
        return [
            PushResult(token, PushOutcome.SENT, message_id=message_id) if exc is None else _failure(token, exc)
            for token, (message_id, exc) in zip(tokens, answers, strict=True)
        ]

    def _send_one(self, message) -> tuple[str | None, BaseException | None]:
        try:
            return messaging.send(message, app=self._app), None
        except fb_exceptions.FirebaseError as exc:
            return None, exc
        except Exception as exc:  # noqa: BLE001 - google-auth failing to fetch a token: as send_each reports it
            return None, fb_exceptions.UnknownError(message=f"Unknown error while calling FCM: {exc}", cause=exc)

    def send_to_topic(
        self, topic: str, *, title: str, body: str, data: dict[str, str], priority: Priority = "normal"
    ) -> PushResult:
        check_payload(title, body, data)
        check_priority(priority)
        target = f"/topics/{topic.removeprefix('/topics/')}"
        message = messaging.Message(topic=topic, **self._message_options(title, body, data, None, priority))
        try:
            message_id = messaging.send(message, app=self._app)
        except fb_exceptions.FirebaseError as exc:
            result = _failure(target, exc)
        else:
            result = PushResult(target, PushOutcome.SENT, message_id=message_id)
        _log_summary("topic send", [result])
        return result

    def subscribe(self, tokens: list[str], topic: str) -> list[str]:
        return self._manage_topic(tokens, topic, subscribe=True)

    def unsubscribe(self, tokens: list[str], topic: str) -> list[str]:
        return self._manage_topic(tokens, topic, subscribe=False)

    def _manage_topic(self, tokens: list[str], topic: str, *, subscribe: bool) -> list[str]:
        # The non-legacy calls: subscribe_to_topic_legacy (Instance ID) emits a DeprecationWarning.
        call = messaging.subscribe_to_topic if subscribe else messaging.unsubscribe_from_topic
        failed: list[str] = []
        errors: Counter = Counter()
        for chunk in _chunks(tokens, MAX_TOKENS_PER_TOPIC_CALL):
            try:
                response = call(chunk, topic, app=self._app)
            except fb_exceptions.FirebaseError as exc:
                failed.extend(chunk)
                errors[_error_code(exc)] += len(chunk)
                continue
            for error in response.errors:
                failed.append(chunk[error.index])
                errors[error.reason] += 1
        log.info(
            "push %s",
            "subscribe" if subscribe else "unsubscribe",
            extra={"push_total": len(tokens), "push_failed": len(failed), "push_errors": dict(errors)},
        )
        return failed


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# The embedded default


class RecordingPushSender:
    """Records what would have been pushed instead of calling Google.

    sink receives one dict per delivered message (per token, or per topic send); by default the dicts
    are appended to .sent. Tokens starting with "invalid-" come back UNREGISTERED, so token cleanup can
    be exercised without FCM.
    """

    INVALID_PREFIX = "invalid-"

    def __init__(self, sink: Callable[[dict], None] | None = None):
        self.sent: list[dict] = []
        self.topics: dict[str, set[str]] = {}
        self._sink = sink or self.sent.append
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def _record(self, target: str, kind: str, title, body, data, collapse_key, priority) -> str:
        with self._lock:
            message_id = f"projects/local/messages/recorded-{next(self._ids)}"
        self._sink(
            {
                "kind": kind,
                "target": target,
                "title": title,
                "body": body,
                "data": dict(data),
                "collapse_key": collapse_key,
                "priority": priority,
                "message_id": message_id,
            }
        )
        return message_id

    def send(
        self,
        tokens: list[str],
        *,
        title: str,
        body: str,
        data: dict[str, str],
        collapse_key: str | None = None,
        priority: Priority = "normal",
    ) -> list[PushResult]:
        check_payload(title, body, data)
        check_priority(priority)
        results = []
        for token in tokens:
            if not token or token.startswith(self.INVALID_PREFIX):
                results.append(
                    PushResult(
                        token,
                        PushOutcome.UNREGISTERED,
                        error_code="UNREGISTERED",
                        error_message="Requested entity was not found.",
                    )
                )
            else:
                message_id = self._record(token, "token", title, body, data, collapse_key, priority)
                results.append(PushResult(token, PushOutcome.SENT, message_id=message_id))
        _log_summary("record", results)
        return results

    def send_batch(self, messages: Sequence[PushMessage]) -> list[PushResult]:
        results = []
        for m in messages:
            if not m.token or m.token.startswith(self.INVALID_PREFIX):
                results.append(
                    PushResult(
                        m.token,
                        PushOutcome.UNREGISTERED,
                        error_code="UNREGISTERED",
                        error_message="Requested entity was not found.",
                    )
                )
            else:
                message_id = self._record(m.token, "token", m.title, m.body, m.data, m.collapse_key, m.priority)
                results.append(PushResult(m.token, PushOutcome.SENT, message_id=message_id))
        _log_summary("record", results)
        return results

    def send_to_topic(
        self, topic: str, *, title: str, body: str, data: dict[str, str], priority: Priority = "normal"
    ) -> PushResult:
        check_payload(title, body, data)
        check_priority(priority)
        target = f"/topics/{topic.removeprefix('/topics/')}"
        message_id = self._record(target, "topic", title, body, data, None, priority)
        return PushResult(target, PushOutcome.SENT, message_id=message_id)

    def subscribe(self, tokens: list[str], topic: str) -> list[str]:
        return self._manage_topic(tokens, topic, subscribe=True)

    def unsubscribe(self, tokens: list[str], topic: str) -> list[str]:
        return self._manage_topic(tokens, topic, subscribe=False)

    def _manage_topic(self, tokens: list[str], topic: str, *, subscribe: bool) -> list[str]:
        topic = topic.removeprefix("/topics/")
        failed = [t for t in tokens if not t or t.startswith(self.INVALID_PREFIX)]
        good = [t for t in tokens if t and not t.startswith(self.INVALID_PREFIX)]
        with self._lock:
            members = self.topics.setdefault(topic, set())
            if subscribe:
                members.update(good)
            else:
                members.difference_update(good)
        return failed


def push_sender_from_config(mapping: Mapping, *, sink: Callable[[dict], None] | None = None) -> PushSender:
    """PUSH_BACKEND "record" (sink receives what would be sent) or "fcm" (FCM_* keys)."""
    backend = mapping.get("PUSH_BACKEND") or "record"
    if backend == "record":
        return RecordingPushSender(sink)
    if backend == "fcm":
        project_id = mapping.get("FCM_PROJECT_ID")
        if not project_id:
            raise RuntimeError("PUSH_BACKEND=fcm needs FCM_PROJECT_ID")
        return FcmPushSender(
            project_id,
            credentials_file=mapping.get("FCM_CREDENTIALS_FILE"),
            fcm_url=mapping.get("FCM_URL"),
            iid_url=mapping.get("FCM_IID_URL"),
            timeout=float(mapping.get("FCM_TIMEOUT") or 10),
            concurrency=int(mapping.get("FCM_CONCURRENCY") or DEFAULT_CONCURRENCY),
        )
    raise RuntimeError(f"unknown PUSH_BACKEND {backend!r}")
