"""A scriptable stand-in for an agency REST API on 127.0.0.1, misbehaving on demand, for tests and benchmarks."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.servers import ConnectionTrackingServer, LocalPeer

MODES = frozenset(
    {"ok", "slow", "hang", "trickle", "fail", "flapping", "malformed", "wrong_schema", "oversized", "html", "not_found"}
)
# Per-request latency, on top of the configured one: a benchmark can vary it call by call.
DELAY_HEADER = "X-Fake-Delay-Ms"
DELAY_PARAM = "fake_delay_ms"

MALFORMED_BODY = b'{"data": [1, 2, {"nik": '
WRONG_SCHEMA_PAYLOAD = ["not", "the", "expected", "shape"]
HTML_BODY = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
CHUNK = 64 * 1024


@dataclass
class Behaviour:
    """How a path (or, by default, every path) answers. Options apply to the modes that name them."""

    mode: str = "ok"
    delay: float = 2.0  # slow: seconds before answering
    latency: float | Callable[[], float] = 0.0  # every mode: seconds before anything else happens
    status: int | None = None  # fail/flapping (500), html (200), not_found (404)
    fail_first: int | None = None  # flapping: fail this many calls then succeed; None alternates fail, ok
    size: int = 5_000_000  # oversized: body bytes
    trickle_bytes: int = 10_000  # trickle: body bytes, so at one per interval it never finishes in a test
    content_length: bool = True  # oversized/trickle: declare Content-Length, or send chunked
    interval: float = 1.0  # trickle: seconds between bytes
    trickle_headers: bool = False  # trickle: the status line and headers too, not only the body
    payload: Any = None  # ok/slow/flapping/wrong_schema: answer this instead of the route's payload
    body: bytes | None = None  # fail/html/not_found: raw body instead of the default
    headers: dict[str, str] = field(default_factory=dict)  # extra response headers, any mode
    calls: int = 0  # calls answered under this behaviour (flapping counts with it)

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}; one of {sorted(MODES)}")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


_NIK_SEGMENT = re.compile(r"/\d{16}(?=/|$)")


class ByNik:
    """A lookup route whose NIK travels in the JSON body ({"nik": ...}, jaki never puts one in a URL):
    nik -> payload; an unknown NIK, or a request without one, gets 404."""

    def __init__(self, payloads: dict[str, Any] | None = None):
        self.payloads: dict[str, Any] = dict(payloads or {})

    def __call__(self, request: RecordedRequest) -> Any:
        try:
            nik = request.json().get("nik")
        except (ValueError, AttributeError):
            return None
        payload = self.payloads.get(nik)
        return payload(request) if callable(payload) else payload


def query_path(path: str) -> str:
    """The agency's body-lookup path for a NIK-in-path one: /v1/residents/<nik>/health -> /v1/residents/health/query,
    /v1/residents/<nik> -> /v1/residents/query."""
    return _NIK_SEGMENT.sub("", path).rstrip("/") + "/query"


def nik_in_body(routes: dict[str, Any]) -> dict[str, Any]:
    """Routes written per person with the NIK in the path, served as the agencies' body lookups (ByNik)."""
    served: dict[str, Any] = {}
    for path, payload in routes.items():
        match = _NIK_SEGMENT.search(path)
        if match is None:
            served[path] = payload
            continue
        served.setdefault(query_path(path), ByNik()).payloads[match.group(0)[1:]] = payload
    return served


class FakeAgency(LocalPeer):
    """A real HTTP/1.1 server (keep-alive) on a random port, in a background thread; a context manager.

    `routes` maps a path to the JSON payload "ok" answers with (or to a callable taking the
    RecordedRequest); other paths get 404. `set_mode` scripts every path or one path at run time;
    `calls` counts requests per path, `requests` keeps the last 1000. Shutting down wakes every
    sleeping, hanging or trickling handler and closes idle keep-alive connections, so it never blocks.
    """

    thread_name = "fake-agency"
    handlers_grace_seconds = 5.0

    def __init__(self, routes: dict[str, Any] | None = None, mode: str = "ok", **options):
        self.routes: dict[str, Any] = dict(routes or {})
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._default = Behaviour(mode, **options)
        self._paths: dict[str, Behaviour] = {}
        self._calls: Counter = Counter()
        self._requests: deque[RecordedRequest] = deque(maxlen=1000)

    # Lifecycle

    def new_server(self, address) -> _Server:
        return _Server(address, _Handler, self)

    def start(self) -> FakeAgency:
        self._stopping.clear()
        return super().start()

    def close(self) -> None:
        if self._server is not None:
            self._stopping.set()
        super().close()

    @property
    def url(self) -> str:
        return self.origin

    # Knobs

    def set_mode(self, mode: str, path: str | None = None, **options) -> None:
        """Script one path, or the default for paths without their own; restarts flapping's count."""
        behaviour = Behaviour(mode, **options)
        with self._lock:
            if path is None:
                self._default = behaviour
            else:
                self._paths[path] = behaviour

    def set_latency(self, latency: float | Callable[[], float], path: str | None = None) -> None:
        """Seconds (or a function returning them) to wait before every answer, keeping the mode."""
        with self._lock:
            if path is None:
                self._default = replace(self._default, latency=latency)
            else:
                current = self._paths.get(path, self._default)
                self._paths[path] = replace(current, latency=latency, calls=current.calls)

    def clear_mode(self, path: str) -> None:
        with self._lock:
            self._paths.pop(path, None)

    def reset(self) -> None:
        """Everything back to "ok" with no latency; counters and recorded requests emptied."""
        with self._lock:
            self._default = Behaviour()
            self._paths.clear()
            self._calls.clear()
            self._requests.clear()

    # Observations (snapshots: the server keeps answering while callers look)

    @property
    def calls(self) -> Counter:
        with self._lock:
            return Counter(self._calls)

    @property
    def total_calls(self) -> int:
        with self._lock:
            return sum(self._calls.values())

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    # Called from the server's threads

    def _begin(self, request: RecordedRequest) -> tuple[Behaviour, int]:
        with self._lock:
            self._calls[request.path] += 1
            self._requests.append(request)
            behaviour = self._paths.get(request.path, self._default)
            behaviour.calls += 1
            return behaviour, behaviour.calls

    def _payload(self, behaviour: Behaviour, request: RecordedRequest) -> Any:
        if behaviour.payload is not None:
            return behaviour.payload
        route = self.routes.get(request.path)
        return route(request) if callable(route) else route


class _Server(ConnectionTrackingServer):
    def __init__(self, address, handler, agency: FakeAgency):
        self.agency = agency
        super().__init__(address, handler)

    def handle_error(self, request, client_address):
        pass  # clients hanging up mid-answer is the point of several modes


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _Server

    def log_message(self, format, *args):
        pass  # quiet: the stdlib prints every request to stderr

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        request = RecordedRequest(self.command, url.path, query, dict(self.headers.items()), body)
        agency = self.server.agency
        behaviour, count = agency._begin(request)
        stopping = agency._stopping

        latency = behaviour.latency() if callable(behaviour.latency) else behaviour.latency
        per_request = self.headers.get(DELAY_HEADER) or (query.get(DELAY_PARAM) or [None])[0]
        latency += float(per_request) / 1000 if per_request else 0.0
        if latency > 0 and stopping.wait(latency):
            self.close_connection = True
            return

        mode = behaviour.mode
        if mode == "flapping":
            failing = count % 2 == 1 if behaviour.fail_first is None else count <= behaviour.fail_first
            mode = "fail" if failing else "ok"
        if mode == "slow":
            if stopping.wait(behaviour.delay):
                self.close_connection = True
                return
            mode = "ok"

        if mode == "ok":
            payload = agency._payload(behaviour, request)
            if payload is None:
                self._send(404, json.dumps({"error": "no such route"}).encode(), behaviour=behaviour)
            else:
                self._send(200, json.dumps(payload).encode(), behaviour=behaviour)
        elif mode == "fail":
            body = behaviour.body or json.dumps({"error": "internal error"}).encode()
            self._send(behaviour.status or 500, body, behaviour=behaviour)
        elif mode == "not_found":
            body = behaviour.body or json.dumps({"error": "no record"}).encode()
            self._send(behaviour.status or 404, body, behaviour=behaviour)
        elif mode == "malformed":
            self._send(200, MALFORMED_BODY, behaviour=behaviour)
        elif mode == "wrong_schema":
            payload = behaviour.payload if behaviour.payload is not None else WRONG_SCHEMA_PAYLOAD
            self._send(200, json.dumps(payload).encode(), behaviour=behaviour)
        elif mode == "html":
            body = behaviour.body or HTML_BODY
            self._send(behaviour.status or 200, body, content_type="text/html; charset=utf-8", behaviour=behaviour)
        elif mode == "oversized":
            self._oversized(behaviour)
        elif mode == "trickle":
            self._trickle(behaviour, stopping)
        elif mode == "hang":
            stopping.wait()
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def _headers(self, status: int, content_type: str, length: int | None, behaviour: Behaviour) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        for name, value in behaviour.headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _send(
        self, status: int, body: bytes, *, behaviour: Behaviour, content_type: str = "application/json; charset=utf-8"
    ) -> None:
        self._headers(status, content_type, len(body), behaviour)
        self.wfile.write(body)

    def _write_piece(self, data: bytes, chunked: bool) -> None:
        if chunked:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            self.wfile.write(data)
        self.wfile.flush()

    def _oversized(self, behaviour: Behaviour) -> None:
        # Valid JSON, so the only thing wrong with it is its size.
        body = b'{"padding": "' + b"x" * max(behaviour.size - 15, 0) + b'"}'
        chunked = not behaviour.content_length
        self._headers(200, "application/json", None if chunked else len(body), behaviour)
        try:
            for start in range(0, len(body), CHUNK):
                self._write_piece(body[start : start + CHUNK], chunked)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True  # the client gave up reading, as it should

    def _trickle(self, behaviour: Behaviour, stopping: threading.Event) -> None:
        body = b'{"padding": "' + b"x" * max(behaviour.trickle_bytes - 15, 0) + b'"}'
        self.close_connection = True
        if behaviour.trickle_headers:
            # Written by hand: the stdlib would send the headers in one piece.
            pieces = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            pieces += b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            chunked = False
        else:
            chunked = not behaviour.content_length
            self._headers(200, "application/json", None if chunked else len(body), behaviour)
            pieces = body
        try:
            for index in range(len(pieces)):
                self._write_piece(pieces[index : index + 1], chunked)
                if stopping.wait(behaviour.interval):
                    return
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the client hung up: what a deadline is for
