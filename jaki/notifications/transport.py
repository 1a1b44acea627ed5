"""The HTTP hop under firebase-admin for FCM sends: HTTP/1.1 on kept-alive connections, and nothing else.

firebase-admin sends each message through a requests Session. Under the Session, requests' HTTPAdapter, urllib3
and http.client take about 45% of a message's CPU (bench/results/notifications_profile.txt): a pool manager
keyed per request, a Retry object copied per request, the email package parsing three response headers. A
delivery worker spends most of its time there. `KeepAliveAdapter` is mounted in HTTPAdapter's place for the
FCM origins. It writes one request and reads one response on a connection it keeps for the next, and leaves
everything above it (message encoding, credentials, error mapping) to firebase-admin and requests.

It keeps the guarantees the sender relies on, with the retry rules of the HTTPAdapter it replaces:
- `retries` retries in all, on a failed connect or a 500/503 answer: the first at once, the n-th after
  backoff * 2**(n-1) seconds (at most 5), never sleeping for Retry-After. After the last, a 500/503 answer is
  returned as it is.
- No retry once the request may have reached the server (a read timeout, a reset mid-answer): FCM may already
  have accepted the message, and a retry could notify twice. requests' ConnectionError and ReadTimeout are
  raised, which firebase-admin maps to UNAVAILABLE and DEADLINE_EXCEEDED.
- TLS with certificate and host name checks, against requests' CA bundle or `verify`'s file or directory. A
  TLS failure is never retried.
- Before a kept connection is used again it is checked for a close by the server, as urllib3 does.

What it does not do is handed to `fallback` (requests' HTTPAdapter): a proxy, a client certificate,
verify=False, a streamed response, a body that is not bytes or text, a timeout it cannot read.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import ssl
import threading
import time
import zlib
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.models import PreparedRequest, Response
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers, select_proxy

_MAX_LINE = 65536
_MAX_HEADERS = 100
_MAX_BODY = 16 * 1024 * 1024  # an FCM answer is a few hundred bytes; a bound for a misbehaving peer
_RETRY_STATUSES = frozenset({500, 503})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_BACKOFF_MAX = 5.0


class _Broken(Exception):
    """The peer broke the exchange (closed early, sent something that is not HTTP)."""


class _Connection:
    __slots__ = ("rfile", "sock")

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.rfile = sock.makefile("rb")

    def dropped(self) -> bool:
        """A kept connection with something to read (an EOF, as a rule) was closed by the server."""
        try:
            poller = select.poll()  # not select(): it fails on descriptors above 1023
            poller.register(self.sock, select.POLLIN)
            return bool(poller.poll(0))
        except (OSError, ValueError):
            return True

    def close(self) -> None:
        for closing in (self.rfile.close, self.sock.close):
            with contextlib.suppress(OSError):
                closing()


class KeepAliveAdapter(BaseAdapter):
    def __init__(
        self,
        *,
        retries: int,
        retry_backoff: float,
        pool_size: int,
        fallback: HTTPAdapter,
        sleep=time.sleep,
    ):
        super().__init__()
        self.retries = retries
        self.retry_backoff = retry_backoff
        self.pool_size = pool_size
        self.fallback = fallback
        self._sleep = sleep
        self._idle: dict[tuple, list[_Connection]] = {}
        self._lock = threading.Lock()
        self._contexts: dict[object, ssl.SSLContext] = {}

    # requests' adapter interface

    def send(self, request: PreparedRequest, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        timeouts = _timeouts(timeout)
        body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        url = urlsplit(request.url)
        if (
            stream
            or cert
            or verify is False
            or timeouts is None
            or not (body is None or isinstance(body, bytes))
            or url.scheme not in _DEFAULT_PORTS
            or (proxies and select_proxy(request.url, proxies))
        ):
            return self.fallback.send(
                request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
            )
        return self._exchange(request, url, body or b"", timeouts, verify)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()
        self.fallback.close()

    # One request and its answer

    def _exchange(self, request, url, body: bytes, timeouts, verify) -> Response:
        port = url.port or _DEFAULT_PORTS[url.scheme]
        key = (url.scheme, url.hostname, port, verify)
        head = _head(request, url, port, len(body))
        retried = 0
        while True:
            connection = self._checkout(key)
            if connection is None:
                try:
                    connection = self._connect(url.scheme, url.hostname, port, timeouts[0], verify)
                except ssl.SSLError as exc:
                    raise requests.exceptions.SSLError(exc, request=request) from exc
                except OSError as exc:
                    if retried < self.retries:
                        retried += 1
                        self._backoff(retried)
                        continue
                    error = requests.exceptions.ConnectTimeout if isinstance(exc, TimeoutError) else None
                    raise (error or requests.exceptions.ConnectionError)(exc, request=request) from exc
            connection.sock.settimeout(timeouts[1])
            try:
                connection.sock.sendall(head + body)
                status, reason, headers, content, reusable = _read_response(connection.rfile, request.method)
            except TimeoutError as exc:
                connection.close()
                raise requests.exceptions.ReadTimeout(exc, request=request) from exc
            except (OSError, _Broken, ValueError) as exc:
                connection.close()
                raise requests.exceptions.ConnectionError(exc, request=request) from exc
            if reusable:
                self._checkin(key, connection)
            else:
                connection.close()
            if status in _RETRY_STATUSES and retried < self.retries:
                retried += 1
                self._backoff(retried)
                continue
            return self._response(request, status, reason, headers, content)

    def _backoff(self, retry: int) -> None:
        if retry > 1:
            self._sleep(min(_BACKOFF_MAX, self.retry_backoff * 2 ** (retry - 1)))

    def _response(self, request, status: int, reason: str, headers: CaseInsensitiveDict, content: bytes) -> Response:
        response = Response()
        response.status_code = status
        response.reason = reason
        response.headers = headers
        response.encoding = get_encoding_from_headers(headers)
        response._content = content
        response._content_consumed = True
        response.url = request.url
        response.request = request
        response.connection = self
        return response

    # Connections

    def _checkout(self, key) -> _Connection | None:
        while True:
            with self._lock:
                idle = self._idle.get(key)
                connection = idle.pop() if idle else None
            if connection is None or not connection.dropped():
                return connection
            connection.close()

    def _checkin(self, key, connection: _Connection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.pool_size:
                idle.append(connection)
                return
        connection.close()

    def _connect(self, scheme: str, host: str, port: int, connect_timeout, verify) -> _Connection:
        sock = socket.create_connection((host, port), timeout=connect_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                sock = self._context(verify).wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        return _Connection(sock)

    def _context(self, verify) -> ssl.SSLContext:
        with self._lock:
            context = self._contexts.get(verify)
        if context is None:
            if verify is True:
                from requests.utils import DEFAULT_CA_BUNDLE_PATH

                context = ssl.create_default_context(cafile=DEFAULT_CA_BUNDLE_PATH)
            elif os.path.isdir(verify):
                context = ssl.create_default_context(capath=verify)
            else:
                context = ssl.create_default_context(cafile=verify)
            with self._lock:
                self._contexts[verify] = context
        return context


def _timeouts(timeout) -> tuple[float | None, float | None] | None:
    if timeout is None or isinstance(timeout, int | float):
        return timeout, timeout
    if (
        isinstance(timeout, tuple)
        and len(timeout) == 2
        and all(t is None or isinstance(t, int | float) for t in timeout)
    ):
        return timeout
    return None  # urllib3's Timeout object and the like: the fallback reads them


def _head(request: PreparedRequest, url, port: int, length: int) -> bytes:
    host = f"[{url.hostname}]" if ":" in url.hostname else url.hostname
    lines = [
        f"{request.method} {request.path_url} HTTP/1.1",
        f"Host: {host if port == _DEFAULT_PORTS[url.scheme] else f'{host}:{port}'}",
    ]
    for name, value in request.headers.items():  # requests has checked them for CR and LF
        if name.lower() not in ("host", "content-length", "transfer-encoding", "accept-encoding"):
            lines.append(f"{name}: {value}")
    lines.append("Accept-Encoding: gzip, deflate")  # the codings read here (requests may offer br and zstd)
    if length or request.method not in ("GET", "HEAD", "DELETE", "OPTIONS"):
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _readline(rfile) -> bytes:
    line = rfile.readline(_MAX_LINE + 1)
    if len(line) > _MAX_LINE:
        raise _Broken("line too long")
    return line


def _read_response(rfile, method: str) -> tuple[int, str, CaseInsensitiveDict, bytes, bool]:
    while True:
        line = _readline(rfile)
        if not line:
            raise _Broken("closed before answering")
        version, _, rest = line.decode("latin-1").rstrip("\r\n").partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise _Broken("not an HTTP/1.x status line")
        status = int(code)
        headers = _read_headers(rfile)
        if not (100 <= status < 200) or status == 101:
            break  # 1xx answers (100 Continue, 103 Early Hints) precede the real one
    closing = version == "HTTP/1.0" or "close" in headers.get("connection", "").lower()
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        content = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        content = _read_chunked(rfile)
    elif "content-length" in headers:
        length = int(headers["content-length"].split(",")[0])
        if not 0 <= length <= _MAX_BODY:
            raise _Broken("content-length out of bounds")
        content = rfile.read(length)
        if len(content) != length:
            raise _Broken("closed mid-body")
    else:
        content, closing = rfile.read(_MAX_BODY + 1), True  # the body ends when the connection does
        if len(content) > _MAX_BODY:
            raise _Broken("body too long")
    encoding = headers.get("content-encoding", "identity").lower().strip()
    if encoding in ("gzip", "x-gzip", "deflate"):
        content = _decompress(content, encoding) if content else content
    elif encoding not in ("identity", ""):
        raise _Broken(f"content-encoding {encoding} was not offered")
    return status, reason, headers, content, not closing


def _read_headers(rfile) -> CaseInsensitiveDict:
    headers: CaseInsensitiveDict = CaseInsensitiveDict()
    for _ in range(_MAX_HEADERS + 1):
        line = _readline(rfile)
        if line in (b"\r\n", b"\n"):
            return headers
        if not line:
            raise _Broken("closed in the headers")
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon or not name.strip():
            raise _Broken("malformed header line")
        name, value = name.strip(), value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    raise _Broken("too many headers")


def _read_chunked(rfile) -> bytes:
    parts, total = [], 0
    while True:
        size_line = _readline(rfile).split(b";", 1)[0].strip()
        if not size_line:
            raise _Broken("closed in a chunk size")
        size = int(size_line, 16)
        if size == 0:
            while _readline(rfile) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(parts)
        total += size
        if total > _MAX_BODY:
            raise _Broken("body too long")
        chunk = rfile.read(size)
        if len(chunk) != size or _readline(rfile) not in (b"\r\n", b"\n"):
            raise _Broken("closed mid-chunk")
        parts.append(chunk)


def _decompress(content: bytes, encoding: str) -> bytes:
    wbits = 16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS
    decompressor = zlib.decompressobj(wbits)
    try:
        data = decompressor.decompress(content, _MAX_BODY)
    except zlib.error:
        if encoding != "deflate":
            raise _Broken("bad gzip body") from None
        data = zlib.decompressobj(-zlib.MAX_WBITS).decompress(content, _MAX_BODY)  # raw deflate, as urllib3 allows
    if decompressor.unconsumed_tail:
        raise _Broken("body too long")
    return data
