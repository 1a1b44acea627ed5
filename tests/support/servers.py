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
