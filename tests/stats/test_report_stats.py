"""GET /stats/reports: known reports seeded, every figure checked against the reports, across every grouping."""

from datetime import timedelta
from itertools import permutations

import pytest
from sqlalchemy import delete, select

from jaki.extensions import db
from jaki.reports.models import Report
from jaki.stats import aggregates, rollup
from jaki.stats.models import ReportStat, StatsRollup
from jaki.stats.query import GROUPS, add_months, jakarta_month
from tests.factories import auth_header, make_user
from tests.reports.factories import category, citizen, kelurahan_officer, make_report, officer
from tests.stats.factories import expected_counts, month_ago, python_figures, seeded, stored_counts, walk_one_report

COUNT_FIELDS = ("count", "open", "resolved", "within_sla", "sla_breached", "reopened")
ALL_FIELDS = (
    *COUNT_FIELDS,
    "median_hours_to_verify",
    "median_hours_to_dispatch",
    "median_hours_to_resolve",
    "p90_hours_to_resolve",
    "rating_avg",
)


def _command_center():
    return make_user(role="command_center")


def _seed_city() -> tuple[list[dict], dict]:
    """Twenty reports over three months, three kelurahan, two categories (two agencies), every status."""
    category("sampah")
    rows, ratings = [], {}
    plan = [
        # (months ago, kelurahan, category, status, verify h, dispatch h, resolve h, sla h, breached, reopened, score)
        (2, "31.74.05.1002", "jalan_rusak", "closed", 1, 3, 20, 72, False, False, 5),
        (2, "31.74.05.1002", "jalan_rusak", "closed", 2, 5, 90, 72, False, False, 2),
        (2, "31.74.05.1002", "jalan_rusak", "resolved", 1.5, 4, 30, 72, False, True, None),
        (2, "31.74.05.1002", "sampah", "closed", 0.5, 1, 10, 24, False, False, 4),
        (2, "31.74.07.1001", "sampah", "closed", 3, 6, 40, 24, True, False, None),
        (2, "31.71.01.1001", "jalan_rusak", "rejected", None, None, None, 72, False, False, None),
        (1, "31.74.05.1002", "jalan_rusak", "in_progress", 2, 4, None, 72, True, False, None),
        (1, "31.74.05.1002", "jalan_rusak", "dispatched", 1, 2, None, 72, False, False, None),
        (1, "31.74.07.1001", "jalan_rusak", "closed", 1, 2, 50, 72, False, False, 3),
        (1, "31.74.07.1001", "sampah", "closed", 0.25, 0.5, 12, 24, False, False, 5),
        (1, "31.74.07.1001", "sampah", "duplicate", None, None, None, 24, False, False, None),
        (1, "31.71.01.1001", "sampah", "verified", 4, None, None, 24, True, False, None),
        (1, "31.71.01.1001", "jalan_rusak", "closed", 6, 8, 70, 72, False, True, 4),
        (0, "31.74.05.1002", "jalan_rusak", "submitted", None, None, None, 72, False, False, None),
        (0, "31.74.05.1002", "sampah", "submitted", None, None, None, 24, False, False, None),
        (0, "31.74.07.1001", "jalan_rusak", "verified", 2, None, None, 72, False, False, None),
        (0, "31.74.07.1001", "sampah", "resolved", 1, 2, 23, 24, False, False, 1),
        (0, "31.71.01.1001", "sampah", "closed", 1, 3, 30, 24, False, False, None),
        (0, "31.71.01.1001", "jalan_rusak", "in_progress", 1, 3, None, 72, False, False, None),
        (0, "31.71.01.1001", "jalan_rusak", "closed", 2, 4, 100, 72, False, False, 2),
    ]
    for n, (ago, kel, cat, status, v, d, r, sla, breached, reopened, score) in enumerate(plan):
        row = seeded(
            kelurahan=kel,
            category_code=cat,
            status=status,
            created=month_ago(ago, day=1 + n % 20, hour=8 + n % 10),
            verify_h=v,
            dispatch_h=d,
            resolve_h=r,
            sla_h=sla,
            breached=breached,
            reopened=reopened,
            score=score,
        )
        rows.append(row)
        if score is not None:
            ratings[row["id"]] = score
    db.session.commit()
    return rows, ratings


def _since_until() -> dict:
    return {"since": add_months(jakarta_month(), -2).strftime("%Y-%m"), "until": jakarta_month().strftime("%Y-%m")}


def _key_of(row: dict, group: str) -> str:
    if group == "kota":
        return row["kelurahan_code"][:5]
    if group == "kecamatan":
        return row["kelurahan_code"][:8]
    if group == "kelurahan":
        return row["kelurahan_code"]
    if group == "category":
        return row["category_code"]
    if group == "agency":
        return row["agency_code"]
    if group == "status":
        return row["status"]
    from jaki.timezone import WIB

    return row["created_at"].astimezone(WIB).strftime("%Y-%m")


def test_every_figure_agrees_with_the_reports_in_every_grouping(client, ctx):
    rows, ratings = _seed_city()
    watcher = _command_center()
    period = _since_until()
    whole = client.get("/api/v1/stats/reports", query_string=period, headers=auth_header(watcher)).json
    assert whole["rows"] == [] and whole["group_by"] == []
    assert {k: whole["total"][k] for k in ALL_FIELDS} == python_figures(rows, ratings)
    assert whole["total"]["count"] == 20

    groupings = [(g,) for g in GROUPS] + list(permutations(GROUPS, 2))
    for groups in groupings:
        body = client.get(
            "/api/v1/stats/reports",
            query_string={**period, "group_by": ",".join(groups)},
            headers=auth_header(watcher),
        ).json
        # Totals agree across groupings: the rows add up to the same total, which is the reports' own.
        assert body["total"] == whole["total"], groups
        for field in COUNT_FIELDS:
            assert sum(r[field] for r in body["rows"]) == whole["total"][field], (groups, field)
        expected_keys = {"|".join(_key_of(r, g) for g in groups) for r in rows}
        assert {r["key"] for r in body["rows"]} == expected_keys, groups
        for answered in body["rows"]:
            members = [r for r in rows if "|".join(_key_of(r, g) for g in groups) == answered["key"]]
            assert {k: answered[k] for k in ALL_FIELDS} == python_figures(members, ratings), (groups, answered["key"])
            assert answered["keys"] == dict(zip(groups, answered["key"].split("|"), strict=True))
            assert all(answered["names"][g] for g in groups)


def test_filters_and_names(client, ctx):
    rows, ratings = _seed_city()
    headers = auth_header(_command_center())
    period = _since_until()
    by_area = client.get(
        "/api/v1/stats/reports",
        query_string={**period, "area": "31.74", "category": "sampah", "group_by": "kecamatan"},
        headers=headers,
    ).json
    members = [r for r in rows if r["kelurahan_code"].startswith("31.74.") and r["category_code"] == "sampah"]
    assert {k: by_area["total"][k] for k in ALL_FIELDS} == python_figures(members, ratings)
    assert {r["key"]: r["name"] for r in by_area["rows"]} == {
        "31.74.05": "Kebayoran Lama",
        "31.74.07": "Kebayoran Baru",
    }
    agency = client.get(
        "/api/v1/stats/reports", query_string={**period, "agency": "DLH", "group_by": "month"}, headers=headers
    ).json
    assert agency["total"]["count"] == sum(1 for r in rows if r["agency_code"] == "DLH")
    names = [r["name"] for r in agency["rows"]]
    assert all(name.split(" ")[0] in ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
                                      "September", "Oktober", "November", "Desember") for name in names)  # fmt: skip
    english = client.get(
        "/api/v1/stats/reports",
        query_string={**period, "group_by": "category,status"},
        headers={**headers, "Accept-Language": "en"},
    ).json
    assert {r["names"]["category"] for r in english["rows"]} == {"Damaged road", "Rubbish"}
    assert "Closed" in {r["names"]["status"] for r in english["rows"]}
    # One month only: the rows of the months before are not counted.
    this_month = jakarta_month().strftime("%Y-%m")
    now = client.get(
        "/api/v1/stats/reports", query_string={"since": this_month, "until": this_month}, headers=headers
    ).json
    assert now["total"]["count"] == 7


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"group_by": "ward"}, "group_by"),
        ({"group_by": "agency,month,status"}, "group_by"),
        ({"group_by": "agency,agency"}, "group_by"),
        ({"since": "2025-13"}, "since"),
        ({"since": "2025-07-01"}, "since"),
        ({"since": "2025-07", "until": "2025-06"}, "until"),
        ({"since": "2010-01", "until": "2025-06"}, "since"),
        ({"area": "31.99"}, "area"),
        ({"category": "tidak_ada"}, "category"),
        ({"agency": "TIDAK"}, "agency"),
    ],
)
def test_bad_questions_are_422_with_the_field_named(client, ctx, query, field):
    response = client.get("/api/v1/stats/reports", query_string=query, headers=auth_header(_command_center()))
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json


def test_who_may_see_the_statistics(client, ctx):
    _seed_city()
    period = _since_until()
    for person in (citizen(), officer(), kelurahan_officer()):
        for path in ("reports", "summary", "backlog", "agencies", "applications"):
            answer = client.get(f"/api/v1/stats/{path}", query_string={}, headers=auth_header(person))
            assert answer.status_code == 403, (person.role, path)
            assert answer.json["code"] == "forbidden"
    assert client.get("/api/v1/stats/reports").status_code == 401
    for role in ("admin", "command_center"):
        body = client.get("/api/v1/stats/reports", query_string=period, headers=auth_header(make_user(role=role))).json
        assert body["total"]["count"] == 20
    # An agency admin sees their own agency only, whatever they ask for.
    dlh = make_user(role="agency_admin", agency_code="DLH")
    own = client.get("/api/v1/stats/reports", query_string={**period, "group_by": "agency"}, headers=auth_header(dlh))
    assert [r["key"] for r in own.json["rows"]] == ["DLH"] and own.json["agency"] == "DLH"
    other = client.get("/api/v1/stats/reports", query_string={**period, "agency": "DBM"}, headers=auth_header(dlh))
    assert other.status_code == 403 and other.json["code"] == "stats_other_agency"
    for path in ("summary", "backlog"):
        body = client.get(f"/api/v1/stats/{path}", headers=auth_header(dlh)).json
        assert body["agency" if path == "summary" else "group_by"] in ("DLH", "agency")
    backlog = client.get("/api/v1/stats/backlog", headers=auth_header(dlh)).json
    assert {r["key"] for r in backlog["rows"]} <= {"DLH"}
    board = client.get("/api/v1/stats/agencies", headers=auth_header(dlh)).json
    assert [r["code"] for r in board["rows"]] in (["DLH"], [])


def test_counts_follow_every_kind_of_write(client, ctx):
    """The triggers keep report_stats exact: ORM, workflow, bulk SQL, raw updates of every watched column, delete."""
    filed = make_report()
    assert stored_counts() == expected_counts()

    def agrees():
        assert stored_counts() == expected_counts()

    walk_one_report(filed, agrees)
    bulk = [seeded(created=month_ago(1, day=d), status="submitted") for d in range(1, 8)]
    other = seeded(created=month_ago(3), status="closed", resolve_h=100, verify_h=1, dispatch_h=2)
    assert stored_counts() == expected_counts()
    table = Report.__table__
    changes = [
        {"status": "closed"},
        {"kelurahan_code": "31.74.07.1001", "kecamatan_code": "31.74.07"},
        {"category_code": "sampah", "agency_code": "DLH"},
        {"created_at": month_ago(2)},
        {"resolved_at": bulk[0]["created_at"] + timedelta(hours=1)},
        {"sla_due_at": bulk[0]["created_at"] - timedelta(hours=1)},
        {"sla_breached_at": bulk[0]["created_at"]},
        {"reopen_count": 2},
        {"kelurahan_code": None},
    ]
    category("sampah")
    for n, change in enumerate(changes):
        db.session.execute(table.update().where(table.c.id == bulk[n % len(bulk)]["id"]).values(**change))
        assert stored_counts() == expected_counts(), change
    db.session.execute(table.update().where(table.c.id == other["id"]).values(support_count=4))  # not watched
    db.session.execute(table.delete().where(table.c.id.in_([bulk[5]["id"], other["id"]])))
    assert stored_counts() == expected_counts()


def test_recount_rebuilds_the_counts(app, ctx):
    _seed_city()
    expected = expected_counts()
    db.session.execute(delete(ReportStat))
    assert stored_counts() == {}
    result = app.test_cli_runner().invoke(args=["stats", "recount"])
    assert result.exit_code == 0, result.output
    assert stored_counts() == expected
    assert aggregates.recount() >= len(expected)


def test_medians_come_from_a_rollup_that_says_when_and_is_refreshed(client, ctx, app, monkeypatch):
    rows, ratings = _seed_city()
    headers = auth_header(_command_center())
    period = _since_until()
    first = client.get("/api/v1/stats/reports", query_string=period, headers=headers).json
    stored = db.session.scalars(select(StatsRollup)).all()
    assert len(stored) == 1 and stored[0].shape["group_by"] == []
    # A new report changes the counts at once; the medians wait for the rollup's refresh.
    extra = seeded(created=month_ago(0, day=2), status="closed", verify_h=1, dispatch_h=2, resolve_h=500)
    db.session.commit()
    second = client.get("/api/v1/stats/reports", query_string=period, headers=headers).json
    assert second["total"]["count"] == first["total"]["count"] + 1
    assert second["total"]["median_hours_to_resolve"] == first["total"]["median_hours_to_resolve"]
    assert second["medians_as_of"] == first["medians_as_of"]
    # The periodic task recomputes rollups older than STATS_ROLLUP_REFRESH_SECONDS.
    monkeypatch.setitem(app.config, "STATS_ROLLUP_REFRESH_SECONDS", 0)
    assert rollup.refresh() == 1
    third = client.get("/api/v1/stats/reports", query_string=period, headers=headers).json
    assert (
        third["total"]["median_hours_to_resolve"] == python_figures([*rows, extra], ratings)["median_hours_to_resolve"]
    )
    assert third["medians_as_of"] > first["medians_as_of"]
    # A request finding its rollup older than STATS_ROLLUP_MAX_AGE_SECONDS recomputes it (no worker needed).
    monkeypatch.setitem(app.config, "STATS_ROLLUP_MAX_AGE_SECONDS", 0)
    fourth = client.get("/api/v1/stats/reports", query_string=period, headers=headers).json
    assert fourth["medians_as_of"] > third["medians_as_of"]
    # Shapes nobody asked for in STATS_ROLLUP_KEEP_DAYS are dropped.
    monkeypatch.setitem(app.config, "STATS_ROLLUP_KEEP_DAYS", -1)
    rollup.refresh()
    assert db.session.scalars(select(StatsRollup)).all() == []


def test_the_fast_answers_are_the_documented_shape(client, ctx):
    """/stats/reports and /stats/backlog are written straight to JSON: exactly what their schemas would dump."""
    from jaki.stats.schemas import BacklogSchema, ReportStatsSchema

    _seed_city()
    headers = auth_header(_command_center())
    for group_by in ("", "kelurahan", "agency,month", "status", "kelurahan,category"):
        body = client.get(
            "/api/v1/stats/reports", query_string={**_since_until(), "group_by": group_by}, headers=headers
        ).json
        assert ReportStatsSchema().dump(ReportStatsSchema().load(body, unknown="raise")) == body
    backlog = client.get("/api/v1/stats/backlog?group_by=kelurahan", headers=headers).json
    assert BacklogSchema().dump(BacklogSchema().load(backlog, unknown="raise")) == backlog


def test_the_backlog_index_covers_the_open_statuses():
    """Migration 0014's partial index on the open reports names workflow.OPEN_STATUSES: a new open status must
    rebuild it (the backlog still answers right without it, from the status index, but slower)."""
    from jaki.reports import models
    from jaki.reports import workflow as wf

    named = set(models.OPEN_PREDICATE.split("(", 1)[1].rstrip(")").replace("'", "").replace(" ", "").split(","))
    assert named == set(wf.OPEN_STATUSES)


@pytest.mark.parametrize(
    ("group_by", "filters", "level"),
    [
        ((), {}, aggregates.CITY),
        (("agency", "month"), {}, aggregates.CITY),
        (("status",), {"category": "sampah"}, aggregates.CITY),
        (("kota",), {}, aggregates.KOTA),
        (("category",), {"area": "31.74"}, aggregates.KOTA),
        (("kecamatan",), {"area": "31.74"}, aggregates.KECAMATAN),
        (("month",), {"area": "31.74.05"}, aggregates.KECAMATAN),
        (("kelurahan",), {}, aggregates.KELURAHAN_ONLY),
        (("month",), {"area": "31.74.05.1002"}, aggregates.KELURAHAN_ONLY),
        (("kelurahan",), {"agency": "DLH"}, aggregates.KELURAHAN),
        (("kelurahan", "category"), {}, aggregates.KELURAHAN),
    ],
)
def test_each_question_reads_the_coarsest_level_that_answers_it(group_by, filters, level):
    from jaki.stats.query import Question

    question = Question(group_by=group_by, since=jakarta_month(), until=jakarta_month(), **filters)
    assert aggregates.level_for(question) == level
