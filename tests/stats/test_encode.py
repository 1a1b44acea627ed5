"""jaki.stats.encode writes a wide answer's rows as json.dumps would write the same rows built as dicts."""

import json
from datetime import UTC, date, datetime

from jaki.stats import encode
from jaki.stats.aggregates import COUNTS
from jaki.stats.rollup import MEASURES


def _as_dicts(group_by, counted, medians, name_of):
    rows = []
    for key in sorted(counted):
        parts = key.split("|")
        names = {g: name_of(g, p) for g, p in zip(group_by, parts, strict=True)}
        rows.append(
            {
                "key": key,
                "name": " · ".join(n or "" for n in names.values()),
                "keys": dict(zip(group_by, parts, strict=True)),
                "names": names,
                **dict(zip(COUNTS, counted[key], strict=True)),
                **medians.get(key, dict.fromkeys(MEASURES)),
            }
        )
    return rows


def test_rows_are_what_json_dumps_writes():
    names = {"31.74.05.1002": 'Pondok "Pinang" \\ Lama', "": None, "sampah": "Sampah · Kebersihan ✓", "x": "\n\t"}
    counted = {
        "31.74.05.1002|sampah": (10, 2, 7, 5, 1, 0),
        "|sampah": (1, 1, 0, 0, 0, 0),
        "31.74.05.1002|x": (3, 0, 3, 3, 0, 3),
        "|x": (2, 0, 0, 0, 2, 0),
    }
    medians = {
        "31.74.05.1002|sampah": dict(zip(MEASURES, (1.5, 2.0, 10.25, 100.0, 4.33), strict=True)),
        "|sampah": dict(zip(MEASURES, (None, None, None, None, None), strict=True)),
        "31.74.05.1002|x": dict(zip(MEASURES, (0.01, 1e-05, 123456789.12, None, 3.0), strict=True)),
    }  # "|x" has no medians row: all null

    def name_of(group, part):
        return names[part]

    group_by = ("kelurahan", "category")
    written = encode.report_rows(group_by, counted, COUNTS, medians, MEASURES, name_of)
    expected = _as_dicts(group_by, counted, medians, name_of)
    assert written.text == json.dumps(expected, ensure_ascii=False, separators=(",", ":"))
    # Written again from the same rollup (the measures' JSON is reused): the same text.
    assert encode.report_rows(group_by, counted, COUNTS, medians, MEASURES, name_of).text == written.text
    one = {k.split("|")[1]: v for k, v in counted.items() if k.startswith("31.74")}
    assert json.loads(encode.report_rows(("category",), one, COUNTS, {}, MEASURES, name_of).text) == _as_dicts(
        ("category",), one, {}, name_of
    )


def test_dumps_writes_raw_values_as_they_are():
    body = {
        "as_of": datetime(2026, 12, 2, 3, 4, 5, tzinfo=UTC),
        "day": date(2026, 12, 1),
        "rows": encode.RawJSON("[1]"),
    }
    assert json.loads(encode.dumps(body)) == {"as_of": "2026-12-02T03:04:05+00:00", "day": "2026-12-01", "rows": [1]}
    plain = {"a": [1, {"b": None}], "c": "ü"}
    assert encode.dumps(plain) == json.dumps(plain, ensure_ascii=False, separators=(",", ":"))
