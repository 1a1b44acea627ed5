"""A local stand-in for a body outside the Pemprov (PAM Jaya, PLN, ...) receiving reports over HTTP."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from tests.support.servers import ConnectionTrackingServer, LocalPeer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


class _Server(ConnectionTrackingServer):
    def __init__(self, address, handler, body: ExternalBody):
        self.body = body
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args) -> None:  # quiet in tests
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length)
        fake = self.server.body
        with fake.lock:
            fake.received.append(Received(self.path, dict(self.headers.items()), data))
            status = fake.statuses.popleft() if fake.statuses else 200
        payload = json.dumps({"id": f"{fake.prefix}-{len(fake.received)}"}).encode() if status < 300 else b"{}"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class ExternalBody(LocalPeer):
    """Records every POST; answers with the scripted statuses in order (then 200) and its own reference."""

    thread_name = "external-body"

    def __init__(self, prefix: str = "PAM"):
        self.prefix = prefix
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.statuses: deque[int] = deque()

    def new_server(self, address) -> _Server:
        return _Server(address, _Handler, self)

    @property
    def url(self) -> str:
        return self.origin + "/jaki/reports"
