"""Structured JSON logging with a last-line redactor: no NIK, phone, token, password or OTP leaves the app."""

from __future__ import annotations

import json
import logging
import re
import sys

from flask import g, has_request_context

# Last line of defence only: code never logs these on purpose. Patterns are broad on purpose. They run on each
# value before serialisation, never on the JSON text, so a replacement can never eat a quote or a brace.
_REDACTIONS = [
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[token]"),
    (re.compile(r"(?<!\d)\d{16}(?!\d)"), "[nik]"),
    (re.compile(r"(?<![\d])(?:\+?62|0)8\d{7,12}(?!\d)"), "[phone]"),
    # "password=x", "otp: 123456", "?code=abc&", 'secret="x"': the value up to a separator, quotes kept.
    (
        re.compile(r"(?i)\b(password|passwd|kata_sandi|otp|code|token|secret)(\s*[:=]\s*)(\"?)[^\s\"'&,;}\]]+"),
        r"\1\2\3[redacted]",
    ),
]
# Extra fields whose value is a secret whatever it looks like.
_SECRET_KEYS = {
    "password",
    "passwd",
    "kata_sandi",
    "otp",
    "token",
    "access_token",
    "refresh_token",
    "secret",
    "authorization",
    "nik",
    "phone",
}
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
_MAX_DEPTH = 6


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value, depth: int = 0):
    """The value with every string in it redacted; containers walked, other objects as their str()."""
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        text = str(value)
        return value if redact(text) == text else redact(text)
    if depth >= _MAX_DEPTH:
        return redact(str(value))
    if isinstance(value, dict):
        return {
            str(k): "[redacted]" if str(k).lower() in _SECRET_KEYS else redact_value(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(v, depth + 1) for v in value]
    return redact(str(value))


def request_id() -> str | None:
    """The current request's id (the client's X-Request-ID when well-formed, else one made by jaki.observability),
    as the logs and the error envelope carry it; None outside a request."""
    return g.get("request_id") if has_request_context() else None


_base_factory = logging.getLogRecordFactory()


def _record_with_request_id(*args, **kwargs) -> logging.LogRecord:
    """Every record made during a request carries its id, whichever handler formats it and whenever."""
    record = _base_factory(*args, **kwargs)
    if has_request_context():
        request_id = g.get("request_id")
        if request_id:
            record.request_id = request_id
    return record


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = "[redacted]" if key.lower() in _SECRET_KEYS else value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(redact_value(payload), ensure_ascii=False)


class DemoteRoutine(logging.Filter):
    """rq logs three INFO lines for every job; those of the periodic backstop (every 15 s on every worker)
    would bury everything else. They become DEBUG, and are dropped unless DEBUG is on."""

    def __init__(self, *markers: str):
        super().__init__()
        self.markers = markers  # found in a job id or description among the record's arguments

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not isinstance(record.args, tuple):
            return True
        if not any(isinstance(arg, str) and m in arg for arg in record.args for m in self.markers):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)


def configure_logging(level: str = "INFO") -> None:
    if logging.getLogRecordFactory() is not _record_with_request_id:
        logging.setLogRecordFactory(_record_with_request_id)
    root = logging.getLogger()
    root.setLevel(level)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # a line per plugin at every start
    # gunicorn.conf.py may have installed the same formatter already (its own lines are JSON too).
    if any(getattr(h, "_jaki", False) or isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._jaki = True
    root.addHandler(handler)
