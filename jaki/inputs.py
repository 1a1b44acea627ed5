"""Hostile input stopped at the door: JSON bodies under limits, text a database can store, path ids no id can be."""

from __future__ import annotations

import json
import math
import re

from flask import Flask, Request, abort
from flask.json.provider import DefaultJSONProvider

from jaki.errors import JakiError
from jaki.i18n import register, translate
from jaki.settings import setting

# A JSON request never needs more: jaki's largest text fields hold a few thousand characters.
JSON_MAX_DEPTH = 20
JSON_MAX_NUMBER_CHARS = 40  # a coordinate needs ~20, an amount ~12; 5000 digits would cost seconds to convert
PATH_ID_MAX_LENGTH = 100

# PostgreSQL text cannot hold NUL; UTF-8 cannot encode a lone surrogate (JSON's "\ud800" makes one).
UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # "unrolled": one step per run, not per char
_INNERMOST = re.compile(r"\[[^\[\]{}]*\]|\{[^\[\]{}]*\}")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")

register(
    {
        "json_invalid": (
            "Isi permintaan bukan JSON yang valid (atau angka terlalu panjang, bersarang terlalu dalam).",
            "The request body is not valid JSON (or a number is too long, or it is nested too deeply).",
        ),
        "text_unstorable": (
            "Teks memuat karakter yang tidak diizinkan (NUL atau surrogate).",
            "The text holds a character that is not allowed (NUL or a lone surrogate).",
        ),
    }
)


class JSONLimitError(json.JSONDecodeError):
    """A JSON body refused for its shape rather than its syntax (still a JSONDecodeError: callers treat both alike)."""


def _too_deep(text: str) -> bool:
    if text.count("[") + text.count("{") <= JSON_MAX_DEPTH:
        return False
    structure = _STRING.sub('""', text)
    # Peel off the innermost brackets one level per pass: C-speed passes, never Python recursion.
    for _ in range(JSON_MAX_DEPTH):
        structure, peeled = _INNERMOST.subn("", structure)
        if not peeled:
            break
    return "[" in structure or "{" in structure


def _number(parse):
    def check(text: str):
        if len(text) > JSON_MAX_NUMBER_CHARS:
            raise ValueError("number too long")
        value = parse(text)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("number out of range")
        return value

    return check


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def loads(data: str | bytes | bytearray):
    """json.loads for request bodies: UTF-8 only, nesting, number length and lone surrogates bounded."""
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8")  # RFC 8259: JSON between systems is UTF-8
        except UnicodeDecodeError as exc:
            raise JSONLimitError("not UTF-8", "<bytes>", exc.start) from None
    if _too_deep(data):
        raise JSONLimitError("nested too deeply", data, 0)
    try:
        value = json.loads(
            data,
            parse_int=_number(int),
            parse_float=_number(float),
            parse_constant=_refuse_constant,
        )
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as exc:
        raise JSONLimitError(str(exc), data, 0) from None
    if _SURROGATE_ESCAPE.search(data):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise JSONLimitError("lone surrogate", data, 0) from None
    return value


class JSONProvider(DefaultJSONProvider):
    """request.get_json() (and everything built on it) parses with the limits above."""

    def loads(self, s, **kwargs):
        return loads(s)


def invalid_json() -> JakiError:
    """400 bad_request (the code clients already know for a body they must fix), saying what is wrong with it."""
    return JakiError("bad_request", status=400, errors={"json": [translate("json_invalid")]})


class JakiRequest(Request):
    @property
    def max_content_length(self) -> int | None:
        # Photos need MAX_CONTENT_LENGTH; a JSON body never does, and it is parsed in memory at once.
        limit = super().max_content_length
        if self.is_json:
            cap = setting("JSON_MAX_BYTES")
            return cap if limit is None else min(limit, cap)
        return limit

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    def on_json_loading_failed(self, e: ValueError | None):
        if e is None:
            return super().on_json_loading_failed(e)  # not JSON at all: 415 from Flask
        raise invalid_json()


def storable(value: str) -> bool:
    return UNSTORABLE.search(value) is None


def _check_view_args(_endpoint, values) -> None:
    """A path segment no id can be (NUL, a surrogate, a control character, absurd length) is 404 before any
    query sees it."""
    for value in (values or {}).values():
        if isinstance(value, str) and (
            len(value) > PATH_ID_MAX_LENGTH or not storable(value) or any(ord(c) < 32 for c in value)
        ):
            abort(404)


def init_app(app: Flask) -> None:
    app.request_class = JakiRequest
    app.json = JSONProvider(app)
    app.url_value_preprocessor(_check_view_args)
