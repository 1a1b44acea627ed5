"""Indonesian mobile numbers in one form (+628...): identity and the data-rights room both read them."""

from __future__ import annotations

import re

from jaki.errors import field_error

PHONE_RE = re.compile(r"^(?:\+62|62|0)(8[1-9]\d{6,11})$")


def normalize_phone(raw: str) -> str:
    digits = re.sub(r"[\s\-()]", "", raw or "")
    match = PHONE_RE.match(digits)
    if not match:
        raise field_error("phone", "phone_invalid")
    return "+62" + match.group(1)
