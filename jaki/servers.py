"""The HTTP servers' own answers (bad request line, 414, 431, 505, bad header) in the one JSON error envelope."""

from __future__ import annotations

import json
import sys

from jaki.errors import HTTP_CODES
from jaki.i18n import translate


def error_body(status: int) -> bytes:
    error = HTTP_CODES.get(status, "bad_request" if status < 500 else "internal_error")
    return json.dumps({"code": error, "status": status, "message": translate(error)}).encode()


def _werkzeug_send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
    # The reason phrase is the standard one: the default echoes the request line, which may carry a token.
    body = error_body(code)
    self.log_error("code %d", code)
    if self.request_version == "HTTP/0.9":  # what http.server assumes of a line it could not read
        self.request_version = "HTTP/1.0"
    self.send_response(code)
    self.send_header("Connection", "close")
    self.send_header("Content-Type", "application/json")
    self.send_header("Content-Length", str(len(body)))
    self.end_headers()
    if self.command != "HEAD":
        self.wfile.write(body)
    self.close_connection = True


def _gunicorn_write_error(sock, status_int: int, reason: str, mesg: str) -> None:
    from gunicorn import util

    # gunicorn's message names the offending line or header (which may carry a token): it is not sent back.
    body = error_body(status_int)
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


def install() -> None:
    """Both servers answer a request they cannot parse before any WSGI app runs, with an HTML page, and neither
    offers a hook for it (`flask run` takes no handler class; gunicorn has no error-page setting): the one
    function each uses for those answers is replaced."""
    from werkzeug.serving import WSGIRequestHandler

    WSGIRequestHandler.send_error = _werkzeug_send_error
    if "gunicorn" in sys.modules:  # served by gunicorn (production)
        from gunicorn import util

        util.write_error = _gunicorn_write_error
