"""report_stat_cells (migration 0014b): kept exact by triggers for every writer, rebuilt by the recount, read by
the questions that name no agency and no status, and agreeing with report_stats wherever both answer."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete

from jaki.extensions import db
from jaki.reports import workflow as wf
from jaki.reports.models import Report
from jaki.stats import aggregates
from jaki.stats.models import ReportStatCell
from jaki.stats.query import Question, jakarta_month
from tests.factories import auth_header, make_user
from tests.reports.factories import category, make_report
from tests.stats.factories import (
    expected_cells,
    expected_counts,
    month_ago,
    seeded,
    stored_cells,
    stored_counts,
    walk_one_report,
)

MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0014b_report_stat_cells.py"


def test_cells_follow_every_kind_of_write(ctx):
    """ORM and workflow writes, bulk SQL inserts, raw updates of every watched column, an unwatched one, deletes."""
    filed = make_report()
    assert stored_cells() == expected_cells() != {}

    def agrees():
        assert stored_cells() == expected_cells()

    walk_one_report(filed, agrees)
    bulk = [seeded(created=month_ago(1, day=d), status="submitted") for d in range(1, 12)]
    other = seeded(created=month_ago(3), status="closed", resolve_h=100, verify_h=1, dispatch_h=2)
    assert stored_cells() == expected_cells()
    table = Report.__table__
    category("sampah")
    changes = [
        {"status": "closed"},
        {"status": "rejected"},
        {"kelurahan_code": "31.74.07.1001", "kecamatan_code": "31.74.07"},
        {"category_code": "sampah", "agency_code": "DLH"},
        {"agency_code": "DLH"},  # not a cell's dimension: the cells stay as they are, report_stats moves
        {"created_at": month_ago(2)},
        {"resolved_at": bulk[0]["created_at"] + timedelta(hours=1)},
        {"sla_due_at": bulk[0]["created_at"] - timedelta(hours=1)},
        {"sla_breached_at": bulk[0]["created_at"]},
        {"reopen_count": 2},
        {"kelurahan_code": None},
    ]
    for n, change in enumerate(changes):
        db.session.execute(table.update().where(table.c.id == bulk[n % len(bulk)]["id"]).values(**change))
        assert stored_cells() == expected_cells(), change
        assert stored_counts() == expected_counts(), change
    # Several rows in one statement, moving between the same cells both ways.
    db.session.execute(table.update().where(table.c.id.in_([r["id"] for r in bulk[:6]])).values(status="verified"))
    assert stored_cells() == expected_cells()
    db.session.execute(table.update().where(table.c.id == other["id"]).values(support_count=4))  # not watched
    db.session.execute(table.delete().where(table.c.id.in_([bulk[5]["id"], other["id"]])))
    assert stored_cells() == expected_cells()
    db.session.execute(table.delete())
    assert stored_cells() == {}


def test_recount_rebuilds_the_cells(app, ctx):
    make_report()
    for n, status in enumerate(("submitted", "closed", "rejected", "in_progress")):
        seeded(created=month_ago(n), status=status, resolve_h=10 if status == "closed" else None)
    expected = expected_cells()
    db.session.execute(delete(ReportStatCell))
    assert stored_cells() == {}
    result = app.test_cli_runner().invoke(args=["stats", "recount"])
    assert result.exit_code == 0, result.output
    assert stored_cells() == expected
    assert stored_counts() == expected_counts()


def test_the_cells_status_classes_are_the_workflows():
    """Migration 0014b's triggers name workflow.OPEN_STATUSES and RESOLVED_STATUSES as they were: a status added to
    either later needs the triggers remade (and a recount), or the open and resolved columns go wrong."""
    text = MIGRATION.read_text()

    def named(name):
        listed = re.search(rf'^{name} = "\(([^)]*)\)"', text, re.MULTILINE).group(1)
        return {s.strip().strip("'") for s in listed.split(",")}

    assert named("_OPEN") == set(wf.OPEN_STATUSES)
    assert named("_RESOLVED") == set(wf.RESOLVED_STATUSES)


@pytest.mark.parametrize(
    ("group_by", "filters", "level"),
    [
        ((), {}, None),
        (("category",), {}, None),
        (("month",), {}, None),
        (("kelurahan",), {}, aggregates.CELL_KELURAHAN),
        (("kecamatan",), {}, aggregates.CELL_KELURAHAN),
        (("kota", "month"), {}, aggregates.CELL_KELURAHAN),
        (("month",), {"area": "31.74.05.1002"}, aggregates.CELL_KELURAHAN),
        (("kelurahan", "category"), {}, aggregates.CELL_KELURAHAN_CATEGORY),
        (("kecamatan",), {"area": "31.74", "category": "sampah"}, aggregates.CELL_KELURAHAN_CATEGORY),
        (("kota", "category"), {}, None),  # report_stats' kota level is fewer rows
        (("kelurahan",), {"agency": "DLH"}, None),
        (("kelurahan", "agency"), {}, None),
        (("kelurahan", "status"), {}, None),
    ],
)
def test_each_question_reads_cells_only_where_they_answer_it(group_by, filters, level):
    question = Question(group_by=group_by, since=jakarta_month(), until=jakarta_month(), **filters)
    assert aggregates.cell_level_for(question) == level


def test_cells_and_report_stats_give_the_same_answers(client, ctx):
    """The same question asked of both tables (through the API and straight from report_stats) agrees."""
    category("sampah")
    for n in range(12):
        seeded(
            created=month_ago(n % 3, day=n + 1),
            kelurahan=("31.74.05.1002", "31.74.07.1001", "31.71.01.1001")[n % 3],
            category_code=("jalan_rusak", "sampah")[n % 2],
            status=wf.STATUSES[n % len(wf.STATUSES)],
            resolve_h=(10, 100)[n % 2] if wf.STATUSES[n % len(wf.STATUSES)] in wf.RESOLVED_STATUSES else None,
            breached=n % 4 == 0,
            reopened=n % 5 == 0,
        )
    headers = auth_header(make_user(role="command_center"))
    period = {"since": month_ago(2).strftime("%Y-%m"), "until": jakarta_month().strftime("%Y-%m")}
    for group_by, filters in [
        ("kelurahan", {}),
        ("kecamatan", {}),
        ("kota,month", {}),
        ("kelurahan,category", {}),
        ("category,kecamatan", {}),
        ("kecamatan", {"area": "31.74", "category": "sampah"}),
        ("month", {"area": "31.74.05.1002"}),
    ]:
        question = Question(
            group_by=tuple(group_by.split(",")),
            since=month_ago(2).date().replace(day=1),
            until=jakarta_month(),
            **filters,
        )
        assert aggregates.cell_level_for(question) is not None, group_by
        body = client.get(
            "/api/v1/stats/reports", query_string={**period, **filters, "group_by": group_by}, headers=headers
        ).json
        from_stats = aggregates.counts_from_report_stats(question)
        assert {r["key"]: tuple(r[k] for k in aggregates.COUNTS) for r in body["rows"]} == from_stats, group_by
