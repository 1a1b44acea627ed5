"""A threading HTTP server for local test peers that can close its keep-alive connections on shutdown."""

from __future__ import annotations

import contextlib
import socket
import threading
from http.server import ThreadingHTTPServer


class ConnectionTrackingServer(ThreadingHTTPServer):
    daemon_threads = True
    # Benchmarks and 500-token multicasts open many connections at once; the default backlog of 5 makes
    # the kernel drop SYNs and the client wait a second for each retransmission.
    request_queue_size = 1024

    def __init__(self, address, handler):
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Condition()
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        super().shutdown_request(request)
        with self._connections_lock:
            self._connections.discard(request)
            self._connections_lock.notify_all()

    def close_connections(self) -> None:
        # Idle keep-alive connections would otherwise hold their handler threads in readline() forever.
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def wait_for_handlers(self, timeout: float) -> None:
        with self._connections_lock:
            self._connections_lock.wait_for(lambda: not self._connections, timeout=timeout)


class LocalPeer:
    """A local HTTP peer (a fake agency, FCM, an external body) served from a background thread on 127.0.0.1 at a
    random port: start() and close(), or use it as a context manager. Subclasses build their server in
    new_server(address)."""

    thread_name = "local-peer"
    handlers_grace_seconds: float | None = None  # wait this long for running handlers at close (None: do not)
    _server: ConnectionTrackingServer | None = None
    _thread: threading.Thread | None = None

    def start(self):
        self._server = self.new_server(("127.0.0.1", 0))
        # A short poll interval keeps close() (which waits for the serve loop to notice) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self

    def new_server(self, address) -> ConnectionTrackingServer:
        raise NotImplementedError

    def close(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self.handlers_grace_seconds is not None:
            self._server.wait_for_handlers(timeout=self.handlers_grace_seconds)
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"
