"""Serves /command-center: one HTML page and its own script, style and icon, under a strict CSP.

Everything the page loads comes from jaki (no CDN, no map tiles, no fonts from elsewhere), and the page talks to the
public API only, so the policy can be `default-src 'none'` with 'self' for scripts, styles, images and fetches; no
inline script or style is needed (SVG presentation attributes carry the colours), and `form-action 'none'` means the
login form can never be submitted as a URL with the NIK in it, even if the script failed to load.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask import Blueprint, Response, abort, request, send_from_directory

from jaki.i18n import LANGUAGES, current_language

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = frozenset({"app.js", "app.css", "icon.svg"})
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=()",
}

blp = Blueprint("command_center", __name__)


@cache
def _page() -> str:
    return (STATIC / "index.html").read_text(encoding="utf-8")


def _secure(response: Response) -> Response:
    for name, value in _HEADERS.items():
        response.headers[name] = value
    return response


@blp.get("/command-center")
def page():
    """The page; Indonesian unless ?lang=en or Accept-Language asks for English."""
    asked = request.args.get("lang")
    language = asked if asked in LANGUAGES else current_language()
    html = _page().replace('<html lang="id">', f'<html lang="{language}">', 1)
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Accept-Language"
    return _secure(response)


@blp.get("/command-center/assets/<string:name>")
def asset(name: str):
    if name not in ASSETS:
        abort(404)
    return _secure(send_from_directory(STATIC, name, max_age=3600))
