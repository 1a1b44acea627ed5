"""jaki.stats.wide: on PostgreSQL the rows of a question report_stat_cells answers are written by one statement; the
answer means exactly what the Python path (aggregates.counts + encode.report_rows) writes, in both languages."""

import pytest
from sqlalchemy import update

from jaki.extensions import db
from jaki.reports.models import Category, Report
from jaki.stats import wide
from jaki.stats.query import Question, add_months, jakarta_month
from tests.factories import auth_header, make_user
from tests.stats.test_report_stats import _seed_city, _since_until

# Every shape report_stat_cells answers (aggregates.cell_level_for), and two it does not.
CELL_QUESTIONS = (
    {"group_by": "kelurahan"},
    {"group_by": "kecamatan"},
    {"group_by": "kota"},
    {"group_by": "kelurahan,category"},
    {"group_by": "category,kelurahan"},
    {"group_by": "kecamatan,category"},
    {"group_by": "kota,month"},
    {"group_by": "month,kelurahan"},
    {"group_by": "kelurahan", "category": "sampah"},
    {"group_by": "kecamatan", "area": "31.74", "category": "sampah"},
    {"group_by": "month", "area": "31.74.05.1002"},
    {"group_by": "category", "area": "31.74.05"},
)
PYTHON_ONLY = ({"group_by": "category"}, {"group_by": "kelurahan", "agency": "DLH"}, {"group_by": "status"}, {})


def _seed_with_edges():
    """The city's twenty reports, one moved out of every kelurahan (its key is ''), and a category name JSON must
    escape."""
    rows, _ = _seed_city()
    db.session.execute(
        update(Report).where(Report.id == rows[0]["id"]).values(kelurahan_code=None, kecamatan_code=None)
    )
    db.session.get(Category, "sampah").name = 'Sampah "liar" \\ · ✓\n'
    db.session.commit()


def _answers(client, headers, monkeypatch, query) -> tuple[dict, dict]:
    """(the answer as served, the answer from the Python path), without their counts_as_of."""
    served = client.get("/api/v1/stats/reports", query_string={**_since_until(), **query}, headers=headers).json
    with monkeypatch.context() as patched:
        patched.setattr(wide, "applies", lambda question: None)
        python = client.get("/api/v1/stats/reports", query_string={**_since_until(), **query}, headers=headers).json
    served.pop("counts_as_of")
    python.pop("counts_as_of")
    return served, python


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_rows_postgresql_writes_are_the_python_rows(client, ctx, monkeypatch, language):
    _seed_with_edges()
    headers = {**auth_header(make_user(role="command_center")), "Accept-Language": language}
    for query in CELL_QUESTIONS + PYTHON_ONLY:
        served, python = _answers(client, headers, monkeypatch, query)
        assert served == python, query
        assert served["rows"] or "group_by" not in query, query
    # The edges are in the answers: the report outside every kelurahan, the name with quotes and a newline.
    by_kelurahan, _ = _answers(client, headers, monkeypatch, {"group_by": "kelurahan,category"})
    keys = {row["key"]: row for row in by_kelurahan["rows"]}
    assert any(key.startswith("|") for key in keys)
    assert any(row["names"]["category"] == 'Sampah "liar" \\ · ✓\n' for row in keys.values()) == (language == "id")
    assert [row["key"] for row in by_kelurahan["rows"]] == sorted(keys)
    assert sum(row["count"] for row in by_kelurahan["rows"]) == by_kelurahan["total"]["count"] == 20


def test_postgresql_alone_writes_the_rows_in_sql(ctx):
    """SQLite keeps the Python path; on PostgreSQL the cells' questions go through jaki.stats.wide."""
    month = jakarta_month()
    on_postgresql = db.session.get_bind().dialect.name == "postgresql"
    for group_by, filters, cells in (
        (("kelurahan", "category"), {}, True),
        (("kota", "month"), {}, True),
        (("kelurahan",), {"agency": "DLH"}, False),
        (("status",), {}, False),
        ((), {}, False),
    ):
        question = Question(group_by=group_by, since=add_months(month, -11), until=month, **filters)
        assert (wide.applies(question) is not None) == (cells and on_postgresql), group_by
