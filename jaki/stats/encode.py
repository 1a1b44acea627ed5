"""Statistics answers written straight to JSON text: a wide answer's rows from pieces encoded once per key."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from datetime import date, datetime
from json.encoder import encode_basestring as _string  # json's own string encoder (ensure_ascii=False)

from jaki.stats.query import KEY_SEPARATOR

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _iso(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(type(value).__name__)


_encode_plain = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_iso).encode


class RawJSON:
    """Text that is JSON already, written into an answer as it is (a top-level value of dumps' body)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def dumps(body: dict) -> str:
    """The answer as JSON: what json.dumps would write (dates in ISO 8601), with RawJSON values as they are."""
    return (
        "{"
        + ",".join(
            f"{_encode(key)}:{value.text if isinstance(value, RawJSON) else _encode_plain(value)}"
            for key, value in body.items()
        )
        + "}"
    )


# The medians' rows as JSON, by the rollup's rows they were written from (the same object while jaki.stats.rollup
# holds that rollup unchanged): writing thirteen thousand floats is most of a wide answer's encoding, and a rollup
# changes only when it is recomputed. The counts beside them are never kept.
_WRITTEN: OrderedDict[int, tuple[dict, dict[str, str]]] = OrderedDict()
_WRITTEN_LIMIT = 64
_WRITTEN_LOCK = threading.Lock()


def measures_json(medians: dict[str, dict], measures: tuple[str, ...]) -> dict[str, str]:
    """Group key -> its measures as JSON members ('"median_hours_to_verify":1.5,...'), written once per rollup."""
    with _WRITTEN_LOCK:
        held = _WRITTEN.get(id(medians))
        if held is not None and held[0] is medians:
            _WRITTEN.move_to_end(id(medians))
            return held[1]
    # A float is written as its repr, as json writes it; the measures are rounded floats or None.
    members = ",".join(f'"{m}":%r' for m in measures)
    written = {
        key: (members % tuple(values.get(m) for m in measures)).replace("None", "null")
        for key, values in medians.items()
    }
    with _WRITTEN_LOCK:
        _WRITTEN[id(medians)] = (medians, written)  # holding medians keeps its id from being reused
        while len(_WRITTEN) > _WRITTEN_LIMIT:
            _WRITTEN.popitem(last=False)
    return written


def report_rows(
    group_by: tuple[str, ...], counted: dict[str, tuple[int, ...]], counts: tuple[str, ...], medians: dict[str, dict],
    measures: tuple[str, ...], name_of,
) -> RawJSON:  # fmt: skip
    """/stats/reports' rows in key order: {key, name, keys, names, *counts, *measures} per counted key (its counts
    in the order of `counts`), as json.dumps would write them (a test holds the two equal). A year by kelurahan and
    category is thousands of rows naming a few hundred keys: each key part's and name's encoding is made once, each
    row is one format. name_of(group, part) names one part of a key."""
    groups = [_encode(g) for g in group_by]
    known: list[dict[str, tuple[str, str, str]]] = [{} for _ in group_by]
    row_format = '{"key":%s,"name":%s,"keys":{%s},"names":{%s},' + ",".join(f'"{c}":%d' for c in counts) + ",%s}"
    written = measures_json(medians, measures)
    nothing = _encode(dict.fromkeys(measures))[1:-1]
    pieces = []
    for key in sorted(counted):
        parts = key.split(KEY_SEPARATOR)
        if len(parts) != len(group_by):
            raise ValueError(f"key {key!r} does not match the grouping {group_by!r}")
        entries = []
        for group, encoded, part, seen in zip(group_by, groups, parts, known, strict=True):
            entry = seen.get(part)
            if entry is None:
                name = name_of(group, part)
                entry = seen[part] = (f"{encoded}:{_string(part)}", f"{encoded}:{_encode(name)}", name or "")
            entries.append(entry)
        measured = written.get(key, nothing)
        if len(entries) == 1:
            ((keys, names, name),) = entries
        else:
            keys = ",".join(e[0] for e in entries)
            names = ",".join(e[1] for e in entries)
            name = " · ".join(e[2] for e in entries)
        pieces.append(row_format % (_string(key), _string(name), keys, names, *counted[key], measured))
    return RawJSON("[" + ",".join(pieces) + "]")
