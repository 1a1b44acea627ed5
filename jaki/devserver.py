"""The development server's own answers (bad request line, 414, 431, 505) in the one JSON error envelope."""

from __future__ import annotations

import json

from werkzeug.serving import WSGIRequestHandler

from jaki.errors import HTTP_CODES
from jaki.i18n import translate


def _send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
    # http.server answers these before any WSGI app runs, with an HTML page; `flask run` offers no handler class
    # to choose, so the method is replaced on Werkzeug's handler. The reason phrase is the standard one: the
    # default echoes the request line, which may carry a token.
    error = HTTP_CODES.get(code, "bad_request" if code < 500 else "internal_error")
    body = json.dumps({"code": error, "status": code, "message": translate(error)}).encode()
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


def install() -> None:
    WSGIRequestHandler.send_error = _send_error
