"""A wide answer's rows written by PostgreSQL: the grouping, the names and each row's JSON (all but its medians) in
one statement over report_stat_cells, so that a year by kelurahan and category (some 2,700 rows from 30,000 cells)
makes no Python object per row but a (key, text) pair. SQLite, and the questions report_stat_cells does not answer,
keep the Python path (aggregates.counts + encode.report_rows); a test holds the two answers equal."""

from __future__ import annotations

from operator import itemgetter

from sqlalchemy import text

from jaki.extensions import db
from jaki.i18n import translate
from jaki.stats import aggregates
from jaki.stats.encode import RawJSON, measures_json
from jaki.stats.query import AREA_GROUPS, KEY_SEPARATOR, MONTH_NAMES, Question

# The groups report_stat_cells holds (aggregates.cell_level_for never picks it for agency or status).
_COLUMNS = {"kelurahan": "area_code", "category": "category_code", "month": "month"}
_COUNT_COLUMNS = ("count", "open", "resolved", "sla_met", "sla_breached", "reopened")  # aggregates.COUNTS' order


def applies(question: Question) -> int | None:
    """The report_stat_cells level the question's rows are written from in SQL, or None (the Python path)."""
    if not question.group_by or db.session.get_bind().dialect.name != "postgresql":
        return None
    return aggregates.cell_level_for(question)


def _key_and_name(i: int, group: str) -> tuple[str, str, str]:
    """(the key part's SQL over report_stat_cells, its name's SQL over x.k{i}, NULL where Python's would be None,
    the join the name needs) for group i."""
    if group in AREA_GROUPS:
        part = "area_code" if group == "kelurahan" else f"substr(area_code, 1, {AREA_GROUPS[group]})"
        return (
            part,
            f"CASE WHEN x.k{i} = '' THEN :no_kelurahan ELSE a.name END",
            f"LEFT JOIN areas a ON a.code = x.k{i}",
        )
    if group == "category":
        name = f"CASE WHEN c.code IS NULL THEN x.k{i} ELSE c.{{category_name}} END"
        return "category_code", name, f"LEFT JOIN report_categories c ON c.code = x.k{i}"
    if group == "month":
        name = f"(CAST(:months AS text[]))[substr(x.k{i}, 6, 2)::int] || ' ' || substr(x.k{i}, 1, 4)"
        return "to_char(month, 'YYYY-MM')", name, ""
    raise ValueError(f"report_stat_cells has no {group!r}")


def _inside(json_text: str) -> str:
    """A JSON string's text without its quotes (JSON escapes per character: two such texts join as their join)."""
    return f"substr({json_text}, 2, length({json_text}) - 2)"


def _statement(question: Question, language: str) -> str:
    """The rows' (key, JSON text up to its medians). Each key part's and name's JSON is written once per distinct
    part (a few hundred), not per row; the rows are sorted in Python (by code point, as encode.report_rows does)."""
    n = len(question.group_by)
    described = [_key_and_name(i, g) for i, g in enumerate(question.group_by)]
    keys = ", ".join(f"{part} AS k{i}" for i, (part, _, _) in enumerate(described))
    sums = ", ".join(f"sum({c}) AS {c}" for c in _COUNT_COLUMNS)
    where = "level = :level AND month >= :since AND month <= :until"
    if question.category:
        where += " AND category_code = :category"
    if question.area:
        within = len(question.area) >= AREA_GROUPS["kelurahan"]
        where += " AND area_code = :area" if within else " AND area_code LIKE :under"
    category_name = "name_en" if language == "en" else "name"
    parts = []
    for i, (group, (_, name, join)) in enumerate(zip(question.group_by, described, strict=True)):
        name = name.replace("{category_name}", category_name)
        parts.append(  # group names checked against query.GROUPS, the rest constants; every value is bound
            f"""d{i} AS (
    SELECT x.k{i}, '"{group}":' || to_json(x.k{i})::text AS jk, '"{group}":' || coalesce(to_json({name})::text, 'null')
        AS jn, {_inside(f"to_json(x.k{i})::text")} AS ek, {_inside(f"to_json(coalesce({name}, ''))::text")} AS en
    FROM (SELECT DISTINCT k{i} FROM g) x {join}
)"""  # noqa: S608
        )
    key = f" || '{KEY_SEPARATOR}' || ".join(f"g.k{i}" for i in range(n))
    # One format() per row: a chain of || copies the growing text at each step, and concat() looks up each
    # argument's output function on every row (format() once per run of one type).
    sep = KEY_SEPARATOR
    template = (
        '{"key":"'
        + sep.join(["%s"] * n)
        + '","name":"'
        + " · ".join(["%s"] * n)
        + '","keys":{'
        + ",".join(["%s"] * n)
        + '},"names":{'
        + ",".join(["%s"] * n)
        + "}"
        + "".join(f',"{name}":%s' for name in aggregates.COUNTS)
        + ","
    )
    arguments = [f"d{i}.{column}" for column in ("ek", "en", "jk", "jn") for i in range(n)]
    arguments += [f"g.{column}" for column in _COUNT_COLUMNS]
    joined = " ".join(f"JOIN d{i} ON d{i}.k{i} = g.k{i}" for i in range(n))
    return f"""
WITH g AS (
    SELECT {keys}, {sums} FROM report_stat_cells WHERE {where} GROUP BY {", ".join(f"k{i}" for i in range(n))}
    HAVING sum(count) <> 0
), {", ".join(parts)}
SELECT {key}, format('{template}', {", ".join(arguments)})
FROM g {joined}
"""  # noqa: S608


def report_rows(question: Question, level: int, medians: dict[str, dict], measures: tuple[str, ...], language: str):
    """/stats/reports' rows for the question from report_stat_cells at the level, as encode.report_rows writes them
    from aggregates.counts' rows (in meaning: PostgreSQL escapes strings its own way)."""
    params = {
        "level": level,
        "since": question.since,
        "until": question.until,
        "no_kelurahan": translate("stats_no_kelurahan"),
        "months": list(MONTH_NAMES[language]),
    }
    if question.category:
        params["category"] = question.category
    if question.area:
        params["area"] = question.area
        params["under"] = question.area + ".%"
    statement = _statement(question, language)
    written = measures_json(medians, measures)
    nothing = ",".join(f'"{m}":null' for m in measures)
    rows = sorted(db.session.execute(text(statement), params).all(), key=itemgetter(0))  # by key, in code points
    return RawJSON("[" + ",".join(f"{row}{written.get(key, nothing)}}}" for key, row in rows) + "]")
