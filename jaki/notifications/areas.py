"""Area codes to FCM topics: every device follows its owner's kelurahan, kecamatan, kota and all of Jakarta."""

from __future__ import annotations

import re

from jaki.extensions import db
from jaki.geo.models import Area

JAKARTA = "31"  # the province: "all of Jakarta"
AREA_CODE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")
TOPIC_PREFIX = "area-"


def topic_for(area_code: str) -> str:
    """`31.74.05` -> `area-317405`. Segments have fixed widths (2.2.2.4), so dropping the dots is unambiguous,
    and the result is within FCM's topic alphabet ([a-zA-Z0-9-_.~%]) on every client SDK."""
    if not AREA_CODE.match(area_code or ""):
        raise ValueError(f"not an area code: {area_code!r}")
    return TOPIC_PREFIX + area_code.replace(".", "")


def _prefix_parent(code: str) -> str | None:
    return code.rsplit(".", 1)[0] if "." in code else None


def _dotted_prefixes(code: str) -> list[str]:
    parts = code.split(".")
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]


def area_chain(kelurahan_code: str | None) -> list[str]:
    """The code and its ancestors up to Jakarta, most specific first. Parents come from Area.parent_code;
    a code the areas table does not know yet falls back to its dotted prefix. One query for the usual chain
    (every parent a dotted prefix of its child); a parent outside it costs one more."""
    chain: list[str] = []
    code = kelurahan_code
    parents: dict[str, str | None] = {}
    if code and AREA_CODE.match(code):
        prefixes = _dotted_prefixes(code)
        parents = dict.fromkeys(prefixes)
        parents.update(db.session.execute(db.select(Area.code, Area.parent_code).where(Area.code.in_(prefixes))).all())
    while code and AREA_CODE.match(code) and code not in chain and len(chain) < 6:
        chain.append(code)
        if code in parents:
            parent = parents[code]
        else:
            parent = db.session.scalar(db.select(Area.parent_code).where(Area.code == code))
        code = parent or _prefix_parent(code)
    if JAKARTA not in chain:
        chain.append(JAKARTA)
    return chain


def topics_for_home(kelurahan_code: str | None) -> list[str]:
    return [topic_for(code) for code in area_chain(kelurahan_code)]


def area_known(code: str) -> bool:
    return code == JAKARTA or db.session.get(Area, code) is not None
