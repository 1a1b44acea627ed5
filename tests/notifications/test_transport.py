"""jaki.notifications.transport against a scripted peer on a real socket: what HTTP/1.1 allows a server to do, and
what a broken one might. The firebase-admin path over it is tests/notifications/test_push.py."""

from __future__ import annotations

import datetime
import gzip
import ipaddress
import json
import socket
import ssl
import threading
import time

import pytest
import requests
from requests.adapters import HTTPAdapter

from jaki.notifications.transport import KeepAliveAdapter

OK_BODY = json.dumps({"name": "projects/p/messages/1"}).encode()


def answer(status=200, body=OK_BODY, headers=None, *, reason="OK") -> bytes:
    head = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json"]
    headers = {"Content-Length": str(len(body)), **(headers or {})}
    head += [f"{name}: {value}" for name, value in headers.items() if value is not None]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class Peer:
    """Accepts connections and, for each request it reads, sends the next scripted reply. A reply is bytes, or
    None to hang up without answering; "close" after a reply hangs up once it is sent."""

    def __init__(self, replies, *, context: ssl.SSLContext | None = None):
        self.replies = list(replies)
        self.requests: list[bytes] = []
        self.connections = 0
        self._context = context
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        scheme = "https" if self._context else "http"
        return f"{scheme}://{'localhost' if self._context else '127.0.0.1'}:{self.port}/v1/projects/p/messages:send"

    def _accept(self):
        while True:
            try:
                sock, _ = self._server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock):
        try:
            if self._context:
                sock = self._context.wrap_socket(sock, server_side=True)
            rfile = sock.makefile("rb")
            while self.replies:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = rfile.readline()
                    if not line:
                        return
                    head += line
                length = next(
                    (
                        int(v)
                        for k, _, v in (x.partition(b":") for x in head.split(b"\r\n"))
                        if k.lower() == b"content-length"
                    ),
                    0,
                )
                self.requests.append(head + rfile.read(length))
                reply = self.replies.pop(0)
                if reply is None:
                    return
                hang_up = reply.endswith(b"close")
                sock.sendall(reply.removesuffix(b"close"))
                if hang_up:
                    return
        except (OSError, ssl.SSLError):
            return
        finally:
            sock.close()

    def close(self):
        self._server.close()


@pytest.fixture
def session():
    adapter = KeepAliveAdapter(retries=1, retry_backoff=0, pool_size=4, fallback=HTTPAdapter())
    with requests.Session() as s:
        s.mount("http://", adapter)
        s.mount("https://", adapter)
        yield s


def post(session, peer, **kwargs):
    return session.post(peer.url, json={"message": {"token": "t"}}, timeout=5, **kwargs)


def test_requests_share_one_kept_connection_and_say_who_they_are_for(session):
    peer = Peer([answer()] * 3)
    try:
        assert [post(session, peer).json()["name"] for _ in range(3)] == ["projects/p/messages/1"] * 3
    finally:
        peer.close()
    assert peer.connections == 1
    first = peer.requests[0].decode()
    assert first.startswith("POST /v1/projects/p/messages:send HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{peer.port}\r\n" in first
    body = '{"message": {"token": "t"}}'
    assert f"Content-Length: {len(body)}\r\n" in first and first.endswith("\r\n\r\n" + body)
    assert "Accept-Encoding: gzip, deflate\r\n" in first  # only the codings the adapter can read


def test_a_kept_connection_the_server_closed_is_replaced_not_failed(session):
    peer = Peer([answer() + b"close", answer()])
    try:
        assert post(session, peer).status_code == 200
        time.sleep(0.1)  # the server's close has reached the client
        assert post(session, peer).status_code == 200
    finally:
        peer.close()
    assert peer.connections == 2 and len(peer.requests) == 2


def test_connection_close_and_http_1_0_answers_are_not_reused(session):
    peer = Peer([answer(headers={"Connection": "close"}) + b"close", answer()])
    try:
        assert post(session, peer).status_code == 200
        assert post(session, peer).status_code == 200
    finally:
        peer.close()
    assert peer.connections == 2


def test_chunked_and_gzip_bodies_are_read(session):
    chunked = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"".join(f"{len(part):x};ext=1\r\n".encode() + part + b"\r\n" for part in (OK_BODY[:10], OK_BODY[10:]))
        + b"0\r\nX-Trailer: yes\r\n\r\n"
    )
    zipped = gzip.compress(OK_BODY)
    peer = Peer([chunked, answer(body=zipped, headers={"Content-Encoding": "gzip"}), answer(body=b"")])
    try:
        assert post(session, peer).json() == json.loads(OK_BODY)
        assert post(session, peer).json() == json.loads(OK_BODY)
        assert post(session, peer).content == b""
    finally:
        peer.close()
    assert peer.connections == 1  # each body was read to its end, so the connection stayed usable


def test_a_503_is_retried_once_then_returned(session):
    peer = Peer([answer(503, b"{}", reason="Service Unavailable")] * 2 + [answer(503, b"{}"), answer()])
    try:
        assert post(session, peer).status_code == 503  # retried once (retries=1), then handed up as it is
        assert post(session, peer).status_code == 200
    finally:
        peer.close()
    assert len(peer.requests) == 4


def test_a_hang_up_after_the_request_is_an_error_never_a_second_send(session):
    peer = Peer([None, answer()])
    try:
        with pytest.raises(requests.ConnectionError):
            post(session, peer)
    finally:
        peer.close()
    assert len(peer.requests) == 1  # FCM may have taken it: no retry


@pytest.mark.parametrize(
    "reply",
    [
        b"SMTP ready\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort" + b"close",
        b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"X: " + b"a" * 70000 + b"\r\n\r\n",
    ],
    ids=[
        "not-http",
        "bad-status",
        "short-body",
        "huge-length",
        "unoffered-coding",
        "bad-header",
        "bad-chunk",
        "long-line",
    ],
)
def test_a_broken_answer_is_a_connection_error(session, reply):
    peer = Peer([reply])
    try:
        with pytest.raises(requests.ConnectionError):
            post(session, peer)
    finally:
        peer.close()


def test_a_refused_connection_is_retried_then_an_error():
    tries = []
    adapter = KeepAliveAdapter(retries=2, retry_backoff=0.25, pool_size=1, fallback=HTTPAdapter(), sleep=tries.append)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with requests.Session() as s:
        s.mount("http://", adapter)
        with pytest.raises(requests.ConnectionError):
            s.post(f"http://127.0.0.1:{port}/x", data=b"{}", timeout=1)
    assert tries == [0.5]  # the first retry at once, the second after backoff * 2


def test_a_read_timeout_is_not_retried():
    server = socket.create_server(("127.0.0.1", 0))
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    adapter = KeepAliveAdapter(retries=3, retry_backoff=0, pool_size=1, fallback=HTTPAdapter())
    try:
        with requests.Session() as s:
            s.mount("http://", adapter)
            with pytest.raises(requests.exceptions.ReadTimeout):
                s.post(f"http://127.0.0.1:{server.getsockname()[1]}/x", data=b"{}", timeout=0.2)
    finally:
        server.close()
        for sock, _ in accepted:
            sock.close()
    assert len(accepted) == 1


def test_a_proxy_or_a_client_certificate_goes_to_the_fallback(session, monkeypatch):
    handed = []
    adapter = session.get_adapter("http://x")
    monkeypatch.setattr(adapter.fallback, "send", lambda request, **kw: handed.append(kw) or "fallback")
    assert (
        adapter.send(
            session.prepare_request(requests.Request("POST", "http://fcm.example/x", data=b"{}")),
            proxies={"http": "http://proxy.example:3128"},
            timeout=1,
        )
        == "fallback"
    )
    assert (
        adapter.send(
            session.prepare_request(requests.Request("POST", "https://fcm.example/x", data=b"{}")),
            cert="/client.pem",
            timeout=1,
        )
        == "fallback"
    )
    assert [kw["proxies"] for kw in handed] == [{"http": "http://proxy.example:3128"}, None]


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """A CA, and a certificate it signed for localhost and 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Pemprov Test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(folder / "server.pem")
    return folder / "ca.pem", server


def test_tls_is_verified_against_the_given_bundle(session, tls):
    ca, server_context = tls
    peer = Peer([answer(), answer()], context=server_context)
    try:
        assert post(session, peer, verify=str(ca)).json()["name"] == "projects/p/messages/1"
        assert post(session, peer, verify=str(ca)).status_code == 200
    finally:
        peer.close()
    assert peer.connections == 1  # kept alive over TLS too


def test_an_untrusted_certificate_is_refused_and_not_retried(session, tls):
    _, server_context = tls
    peer = Peer([answer()], context=server_context)
    try:
        with pytest.raises(requests.exceptions.SSLError):
            post(session, peer)  # requests' own CA bundle does not know the test CA
    finally:
        peer.close()
    assert peer.connections == 1 and peer.requests == []
