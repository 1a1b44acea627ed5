"""A local stand-in for the FCM HTTP v1 API (sends and topic management), scripted by token prefix."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.servers import ConnectionTrackingServer, LocalPeer

FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
# The FcmError code real FCM attaches to each status; 401/403 carry none (they are credential problems).
DEFAULT_FCM_CODES = {
    400: "INVALID_ARGUMENT",
    404: "UNREGISTERED",
    429: "QUOTA_EXCEEDED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
# Token prefix -> (status, FcmError code, message). "flaky-" is handled separately: it needs state.
SCRIPTED = {
    "unregistered-": (404, "UNREGISTERED", "Requested entity was not found."),
    "mismatch-": (403, "SENDER_ID_MISMATCH", "SenderId mismatch"),
    "quota-": (429, "QUOTA_EXCEEDED", "Quota exceeded for sending messages to this device."),
    "unavailable-": (503, "UNAVAILABLE", "The service is currently unavailable."),
    "invalid-": (400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token"),
}
TARGET_KEYS = ("token", "fid", "topic", "condition")

_SEND_PATH = re.compile(r"^/v1/projects/(?P<project>[^/]+)/messages:send$")
_SUBSCRIBE_PATH = re.compile(r"^/v1/projects/(?P<project>[^/]+)/registrations/(?P<token>[^/]+)/topicSubscriptions$")
_UNSUBSCRIBE_PATH = re.compile(
    r"^/v1/projects/(?P<project>[^/]+)/registrations/(?P<token>[^/]+)/topicSubscriptions/(?P<topic>[^/]+)$"
)
_IID_PATH = re.compile(r"^/iid/v1:(?P<op>batchAdd|batchRemove)$")


def error_body(status: int, message: str, fcm_code: str | None = None) -> dict:
    """The google.rpc.Status JSON that FCM v1 returns, with an FcmError detail when there is one."""
    error: dict = {"code": status, "message": message, "status": STATUS_NAMES.get(status, "UNKNOWN")}
    if fcm_code:
        error["details"] = [{"@type": FCM_ERROR_TYPE, "errorCode": fcm_code}]
    return {"error": error}


class _Reply(Exception):
    """Ends request handling with this status and JSON body."""

    def __init__(self, status: int, body: dict, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


class FcmStub(LocalPeer):
    """FCM v1 on 127.0.0.1 at a random port, in a background thread; use as a context manager.

    Sends whose token (or fid) starts with a SCRIPTED prefix fail the way FCM does; "flaky-" fails with
    503 the first time a token is seen. Topic and condition sends succeed. Topic management is served
    both the FCM v1 way (registrations/<token>/topicSubscriptions, used by firebase-admin 7) and the
    legacy Instance ID way (/iid/v1:batchAdd and :batchRemove).
    """

    thread_name = "fcm-stub"

    def __init__(self, *, record_messages: bool = True, latency: float = 0.0, quota_retry_after: int = 1):
        self.record_messages = record_messages
        self.latency = latency
        self.quota_retry_after = quota_retry_after
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.reset()

    # Lifecycle

    def new_server(self, address) -> _Server:
        return _Server(address, _Handler, self)

    # Addresses

    @property
    def send_url(self) -> str:
        """Same shape as _MessagingService.FCM_URL: "{0}" is the project id."""
        return self.origin + "/v1/projects/{0}/messages:send"

    def send_url_for(self, project_id: str) -> str:
        return self.send_url.format(project_id)

    @property
    def iid_url(self) -> str:
        """Same shape as _MessagingService.IID_URL: the origin that serves topic management."""
        return self.origin

    # Observations (snapshots, so callers can iterate while the server keeps answering)

    @property
    def messages(self) -> list[dict]:
        """Every message answered with 200, in arrival order, as the "message" object of the request."""
        with self._lock:
            return list(self._messages)

    @property
    def requests_count(self) -> int:
        with self._lock:
            return self._requests_count

    @property
    def attempts(self) -> Counter:
        """Send attempts per target (token, fid, topic or condition), successful or not."""
        with self._lock:
            return Counter(self._attempts)

    @property
    def topics(self) -> dict[str, set[str]]:
        with self._lock:
            return {topic: set(tokens) for topic, tokens in self._topics.items()}

    @property
    def sent_count(self) -> int:
        with self._lock:
            return self._sent_count

    # Knobs

    def reset(self) -> None:
        with self._lock:
            self._messages: list[dict] = []
            self._requests_count = 0
            self._sent_count = 0
            self._attempts: Counter = Counter()
            self._topics: dict[str, set[str]] = {}
            self._flaky_seen: set[str] = set()
            self._failures: list[tuple[int, str | None]] = []

    def fail_next(self, n: int, status: int, fcm_code: str | None = None) -> None:
        """Answer the next n requests, whatever they are, with this error status."""
        code = fcm_code if fcm_code is not None else DEFAULT_FCM_CODES.get(status)
        with self._lock:
            self._failures.extend([(status, code)] * n)

    # Request handling, called from the server's threads

    def _handle(self, method: str, raw_path: str, body: bytes) -> tuple[int, dict, dict[str, str]]:
        with self._lock:
            self._requests_count += 1
            failure = self._failures.pop(0) if self._failures else None
        if self.latency:
            time.sleep(self.latency)
        try:
            if failure:
                status, code = failure
                raise _Reply(status, error_body(status, f"Scripted failure {status}.", code))
            url = urlsplit(raw_path)
            if method == "POST" and (match := _SEND_PATH.match(url.path)):
                return 200, self._send(match["project"], body), {}
            if method == "POST" and (match := _SUBSCRIBE_PATH.match(url.path)):
                topic = parse_qs(url.query).get("topic_name", [""])[0]
                return 200, self._subscribe(unquote(match["token"]), topic, add=True), {}
            if method == "DELETE" and (match := _UNSUBSCRIBE_PATH.match(url.path)):
                return 200, self._subscribe(unquote(match["token"]), unquote(match["topic"]), add=False), {}
            if method == "POST" and (match := _IID_PATH.match(url.path)):
                return 200, self._iid_batch(body, add=match["op"] == "batchAdd"), {}
            raise _Reply(404, error_body(404, f"No such method: {method} {url.path}"))
        except _Reply as reply:
            return reply.status, reply.body, reply.headers

    @staticmethod
    def _json(body: bytes) -> dict:
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            raise _Reply(400, error_body(400, "Invalid JSON payload received.", "INVALID_ARGUMENT")) from None
        if not isinstance(payload, dict):
            raise _Reply(400, error_body(400, "Request body must be a JSON object.", "INVALID_ARGUMENT"))
        return payload

    def _send(self, project: str, body: bytes) -> dict:
        message = self._json(body).get("message")
        if not isinstance(message, dict):
            raise _Reply(400, error_body(400, "Missing required field: message.", "INVALID_ARGUMENT"))
        targets = [key for key in TARGET_KEYS if key in message]
        target = message.get(targets[0]) if len(targets) == 1 else None
        if not isinstance(target, str) or not target:
            raise _Reply(400, error_body(400, "Exactly one of token, fid, topic or condition.", "INVALID_ARGUMENT"))
        data = message.get("data", {})
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise _Reply(400, error_body(400, "Invalid value at 'message.data'.", "INVALID_ARGUMENT"))

        with self._lock:
            self._attempts[target] += 1
            first_flaky = target.startswith("flaky-") and target not in self._flaky_seen
            if first_flaky:
                self._flaky_seen.add(target)
        if targets[0] in ("token", "fid"):
            if first_flaky:
                raise _Reply(503, error_body(503, "The service is currently unavailable.", "UNAVAILABLE"))
            for prefix, (status, code, text) in SCRIPTED.items():
                if target.startswith(prefix):
                    headers = {"Retry-After": str(self.quota_retry_after)} if status == 429 else {}
                    raise _Reply(status, error_body(status, text, code), headers)

        with self._lock:
            self._sent_count += 1
            if self.record_messages:
                self._messages.append(message)
            message_id = next(self._ids)
        return {"name": f"projects/{project}/messages/0:{message_id}%stub"}

    def _scripted_topic_error(self, token: str) -> tuple[int, str, str] | None:
        for prefix in ("unregistered-", "mismatch-", "invalid-"):
            if token.startswith(prefix):
                return SCRIPTED[prefix]
        return None

    def _subscribe(self, token: str, topic: str, *, add: bool) -> dict:
        if not topic:
            raise _Reply(400, error_body(400, "Missing topic_name.", "INVALID_ARGUMENT"))
        if scripted := self._scripted_topic_error(token):
            status, code, text = scripted
            raise _Reply(status, error_body(status, text, code))
        self._apply_subscription(topic, [token], add=add)
        return {}

    def _iid_batch(self, body: bytes, *, add: bool) -> dict:
        payload = self._json(body)
        topic, tokens = payload.get("to"), payload.get("registration_tokens")
        if not isinstance(topic, str) or not topic.startswith("/topics/") or not isinstance(tokens, list):
            raise _Reply(400, {"error": "InvalidArgument"})
        results, good = [], []
        for token in tokens:
            if not isinstance(token, str) or self._scripted_topic_error(token):
                results.append({"error": "NOT_FOUND"})
            else:
                results.append({})
                good.append(token)
        self._apply_subscription(topic.removeprefix("/topics/"), good, add=add)
        return {"results": results}

    def _apply_subscription(self, topic: str, tokens: list[str], *, add: bool) -> None:
        with self._lock:
            members = self._topics.setdefault(topic, set())
            if add:
                members.update(tokens)
            else:
                members.difference_update(tokens)


class _Server(ConnectionTrackingServer):
    def __init__(self, address, handler, stub: FcmStub):
        self.stub = stub
        super().__init__(address, handler)

    def handle_error(self, request, client_address):
        pass  # clients hanging up mid-request are expected; the test sees the outcome client-side


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client reuses connections across sends
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, payload, headers = self.server.stub._handle(self.command, self.path, body)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_DELETE = do_GET = do_PUT = _serve

    def log_message(self, format, *args):
        pass  # quiet: the stdlib prints every request to stderr
