"""Structured JSON logging with a last-line redactor: no NIK, phone, token, password or OTP leaves the app."""

from __future__ import annotations

import json
import logging
import re
import sys

# Last line of defence only: code never logs these on purpose. Patterns are broad on purpose.
_REDACTIONS = [
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[token]"),
    (re.compile(r"(?<!\d)\d{16}(?!\d)"), "[nik]"),
    (re.compile(r"(?<![\d])(?:\+?62|0)8\d{7,12}(?!\d)"), "[phone]"),
    (
        re.compile(r"(?i)(password|passwd|kata_sandi|otp|code|token|secret)(\"?\s*[:=]\s*\"?)[^\s\",}]+"),
        r"\1\2[redacted]",
    ),
]
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


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
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(payload, default=str, ensure_ascii=False))


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(getattr(h, "_jaki", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._jaki = True
    root.addHandler(handler)
    root.setLevel(level)
