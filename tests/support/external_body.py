"""A local stand-in for a body outside the Pemprov (PAM Jaya, PLN, ...) receiving reports over HTTP."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from tests.support.servers import ConnectionTrackingServer


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


class ExternalBody:
    """Records every POST; answers with the scripted statuses in order (then 200) and its own reference."""

    def __init__(self, prefix: str = "PAM"):
        self.prefix = prefix
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.statuses: deque[int] = deque()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ExternalBody:
        self._server = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> ExternalBody:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/jaki/reports"
