"""Over a real socket to the development server (`make run`) and gunicorn: even what never reaches the app is the
envelope."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def server(app):
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd.server_address[:2]
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    """gunicorn, as production runs it, on the embedded default (none of these requests reaches the database)."""
    instance = tmp_path_factory.mktemp("gunicorn")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "JAKI_", "DATABASE_URL", "REDIS_URL"))}
    env.update(JAKI_ENV="development", JAKI_INSTANCE_DIR=str(instance), JAKI_LOG_LEVEL="WARNING")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = (instance / "gunicorn.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - fixed command, the port is ours
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def _exchange(address, data: bytes) -> tuple[int, dict, bytes]:
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GARBAGE\r\n\r\n", 400),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),  # TLS to a plain-HTTP port
        (b"GET / HTTP/9.9\r\n\r\n", 505),
        (b"GET /" + b"x" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 200 + b"\r\n", 431),
        (b"GET /api/v1/%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404),
        (b"GET /api/v1/reports/%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404),
        (b"DELETE /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405),
        (
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 5006\r\nConnection: close\r\n\r\n{"a":' + b"1" * 5000 + b"}",
            400,
        ),
    ],
    ids=[
        "bad request line",
        "one word",
        "TLS hello",
        "HTTP/9.9",
        "URI too long",
        "too many headers",
        "NUL route",
        "NUL id",
        "method",
        "5000 digits",
    ],
)
def test_every_answer_of_the_development_server_is_the_envelope(server, request_bytes, status):
    got, headers, body = _exchange(server, request_bytes)
    assert got == status
    _is_envelope(status, headers, body)


def _is_envelope(status, headers, body):
    assert headers["content-type"].startswith("application/json")
    envelope = json.loads(body)
    assert envelope["status"] == status and envelope["code"] and envelope["message"]
    assert b"<html" not in body.lower()


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GARBAGE\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET /" + b"x" * 10_000 + b" HTTP/1.1\r\n\r\n",
        b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 200 + b"\r\n",
        b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Access-Reason: a\x00b\r\n\r\n",
        b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Long: " + b"x" * 10_000 + b"\r\n\r\n",
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}",
        b"GET /api/v1/reports/%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ],
    ids=[
        "bad request line",
        "one word",
        "TLS hello",
        "HTTP/9.9",
        "URI too long",
        "too many headers",
        "NUL header",
        "long header",
        "two lengths",
        "NUL id",
    ],
)
def test_every_answer_of_gunicorn_is_the_envelope(gunicorn, request_bytes):
    status, headers, body = _exchange(gunicorn, request_bytes)
    assert 400 <= status < 500
    _is_envelope(status, headers, body)
