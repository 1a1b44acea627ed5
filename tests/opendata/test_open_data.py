"""Open data: the files validate, every figure is the reports' own, small counts are suppressed (and not recoverable),
sensitive categories are per kecamatan, the catalog lists every dataset, and the export writes the same files."""

import csv
import io
import json

import pytest

from jaki.extensions import db
from jaki.opendata import disclosure, publication
from jaki.opendata.operations import publish
from jaki.reports.models import Category
from jaki.stats.query import add_months, jakarta_month
from tests.reports.factories import category, stored_unrouted_report
from tests.stats.factories import month_ago, seeded

STATUSES = list(publication.STATUS_COLUMNS)


def _seed() -> None:
    """Last month: Pondok Pinang jalan_rusak 9 (7 closed, 2 in progress: one small status, so a second goes too);
    Melawai jalan_rusak 3 (suppressed whole); Gambir sampah 6 closed, 5 of them on time. Two months ago: Pondok
    Pinang sampah 5 closed. This month (not published) and an unrouted report (no area) are left out. pkl_liar is
    sensitive: its reports in two kelurahan of Kebayoran Lama are published together, per kecamatan."""
    category("sampah")
    category("pkl_liar")
    for n in range(7):
        seeded(created=month_ago(1, day=1 + n), status="closed", verify_h=1, dispatch_h=2, resolve_h=10 + n, sla_h=72)
    for n in range(2):
        seeded(created=month_ago(1, day=10 + n), status="in_progress", verify_h=1, dispatch_h=2)
    for n in range(3):
        seeded(kelurahan="31.74.07.1001", created=month_ago(1, day=3 + n), status="closed", resolve_h=5, sla_h=72)
    for n in range(6):
        late = n == 5
        seeded(
            kelurahan="31.71.01.1001",
            category_code="sampah",
            created=month_ago(1, day=2 + n),
            status="closed",
            resolve_h=30 if late else 5 + n,
            sla_h=24,
        )
    for n in range(5):
        seeded(category_code="sampah", created=month_ago(2, day=2 + n), status="closed", resolve_h=20, sla_h=24)
    seeded(created=month_ago(0, day=1), status="submitted")
    for n, kelurahan in enumerate(
        ["31.74.05.1002", "31.74.05.1002", "31.74.05.1002", "31.74.05.1002", "31.74.05.1002"]
    ):
        seeded(
            category_code="pkl_liar", kelurahan=kelurahan, created=month_ago(1, day=4 + n), status="closed", resolve_h=8
        )
    seeded(
        category_code="pkl_liar", kelurahan="31.74.07.1001", created=month_ago(1, day=9), status="closed", resolve_h=8
    )
    db.session.get(Category, "pkl_liar").sensitive = True
    stored_unrouted_report()
    db.session.commit()


def _by_key(rows):
    return {(r["month"], r["kelurahan_code"] or r["kecamatan_code"], r["category_code"]): r for r in rows}


def test_the_files_validate_and_hold_the_reports_figures(client, ctx):
    _seed()
    last = add_months(jakarta_month(), -1).strftime("%Y-%m")
    before = add_months(jakarta_month(), -2).strftime("%Y-%m")

    body = client.get("/api/v1/open-data/reports.csv")  # no login: public
    assert body.status_code == 200 and body.mimetype == "text/csv"
    assert body.headers["Cache-Control"].startswith("public") and body.headers["ETag"]
    parsed = list(csv.DictReader(io.StringIO(body.get_data(as_text=True))))
    assert list(parsed[0]) == list(publication.COLUMNS)
    rows = _by_key(client.get("/api/v1/open-data/reports.json").json["rows"])
    assert len(parsed) == len(rows) == 6  # 4 kelurahan rows, 2 kecamatan rows of the sensitive category
    this_month = jakarta_month().strftime("%Y-%m")
    assert all(r["month"] in (last, before) and r["month"] != this_month for r in rows.values())

    big = rows[(last, "31.74.05.1002", "jalan_rusak")]
    assert (big["reports"], big["selesai"], big["proses"], big["area_level"]) == (9, None, None, "kelurahan")
    assert big["suppressed"] is True and big["suppressed_fields"] == ["proses", "selesai"]  # 2, then the 7 too
    assert (big["kecamatan_name"], big["kota_code"], big["kelurahan_name"]) == (
        "Kebayoran Lama",
        "31.74",
        "Pondok Pinang",
    )
    assert big["median_hours_to_resolve"] is None and big["within_sla_share"] is None  # follow the hidden count
    small = rows[(last, "31.74.07.1001", "jalan_rusak")]
    assert (
        small["reports"] is None and small["selesai"] is None and small["suppressed_fields"] == ["reports", "selesai"]
    )
    gambir = rows[(last, "31.71.01.1001", "sampah")]
    assert (gambir["reports"], gambir["selesai"], gambir["suppressed"]) == (6, 6, False)
    assert gambir["median_hours_to_resolve"] == 7.5  # 5, 6, 7, 8, 9, 30 hours
    assert gambir["within_sla_share"] is None  # 5 on time, 1 late: the 1 would show
    earlier = rows[(before, "31.74.05.1002", "sampah")]
    assert (earlier["reports"], earlier["selesai"], earlier["within_sla_share"]) == (5, 5, 1.0)
    assert earlier["median_hours_to_resolve"] == 20.0
    # CSV and JSON carry the same values (empty = null).
    for row in parsed:
        key = (row["month"], row["kelurahan_code"] or row["kecamatan_code"], row["category_code"])
        for field in ("reports", *STATUSES):
            assert (row[field] or None) == (None if rows[key][field] is None else str(rows[key][field]))
        assert row["suppressed_fields"] == ";".join(rows[key]["suppressed_fields"])

    again = client.get("/api/v1/open-data/reports.csv", headers={"If-None-Match": body.headers["ETag"]})
    assert again.status_code == 304


def test_sensitive_categories_are_published_per_kecamatan_only(client, ctx):
    _seed()
    rows = client.get("/api/v1/open-data/reports.json").json["rows"]
    pkl = [r for r in rows if r["category_code"] == "pkl_liar"]
    assert [(r["area_level"], r["kecamatan_code"], r["kelurahan_code"], r["reports"]) for r in pkl] == [
        ("kecamatan", "31.74.05", None, 5),
        ("kecamatan", "31.74.07", None, None),
    ]
    geo = client.get("/api/v1/open-data/reports.geojson").json
    assert not any(key.startswith("pkl_liar__") for f in geo["features"] for key in f["properties"])


def test_the_geojson_is_the_last_month_on_the_267_kelurahan(client, ctx):
    _seed()
    response = client.get("/api/v1/open-data/reports.geojson")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    geo = response.json
    assert geo["type"] == "FeatureCollection" and len(geo["features"]) == 267
    codes = {f["properties"]["kelurahan_code"] for f in geo["features"]}
    assert len(codes) == 267 and all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in geo["features"])
    assert geo["month"] == add_months(jakarta_month(), -1).strftime("%Y-%m") and "bukan" in geo["note"]
    props = {f["properties"]["kelurahan_code"]: f["properties"] for f in geo["features"]}
    assert props["31.71.01.1001"]["sampah__reports"] == 6 and props["31.71.01.1001"]["sampah__selesai"] == 6
    assert props["31.74.07.1001"]["jalan_rusak__reports"] is None
    assert props["31.74.07.1001"]["jalan_rusak__suppressed"] is True
    assert props["31.75.01.1001"]["sampah__reports"] == 0  # nothing filed there: zero, not missing


def test_the_catalog_lists_every_dataset(client, ctx):
    _seed()
    catalog = client.get("/api/v1/open-data/catalog.json").json
    assert catalog["@type"] == "dcat:Catalog" and catalog["dct:license"].startswith("https://creativecommons.org/")
    datasets = {d["dct:identifier"]: d for d in catalog["dcat:dataset"]}
    assert set(datasets) == {"laporan-warga-per-kelurahan-bulanan", "batas-wilayah-kelurahan"}
    reports = datasets["laporan-warga-per-kelurahan-bulanan"]
    urls = [d["dcat:downloadURL"] for d in reports["dcat:distribution"]]
    for name in ("reports.csv", "reports.json", "reports.geojson"):
        url = next(u for u in urls if u.endswith("/" + name))
        path = url.split("://", 1)[1].split("/", 1)[1]
        assert client.get("/" + path).status_code == 200, url
    for dataset in datasets.values():
        assert dataset["dct:publisher"]["foaf:name"] and dataset["dct:license"] and dataset["dct:accrualPeriodicity"]
        assert dataset["dct:spatial"]["dct:identifier"] == "31" and dataset["satu_data"]["walidata"]
    assert reports["dct:accrualPeriodicity"].endswith("/monthly")
    assert "bukan seberapa baik" in reports["dct:description"]  # the standing note
    for url in (d["dcat:downloadURL"] for d in datasets["batas-wilayah-kelurahan"]["dcat:distribution"]):
        path = url.split("://", 1)[1].split("/", 1)[1]
        assert client.get("/" + path).status_code == 200, url


def test_no_suppressed_count_can_be_recovered_from_a_row(client, ctx):
    """Secondary disclosure: with the report count published, a row never hides exactly one status."""
    _seed()
    for row in client.get("/api/v1/open-data/reports.json").json["rows"]:
        hidden = [s for s in STATUSES if row[s] is None]
        if row["reports"] is not None:
            assert len(hidden) != 1, row
            published = sum(row[s] for s in STATUSES if row[s] is not None)
            assert published <= row["reports"]
        assert all(v is None or v == 0 or v >= 5 for v in (row[f] for f in ("reports", *STATUSES)))


def test_the_export_writes_the_same_files(app, ctx, tmp_path):
    _seed()
    publish()
    result = app.test_cli_runner().invoke(args=["open-data", "export", str(tmp_path / "portal")])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "portal").iterdir())
    assert {"reports.csv", "reports.json", "reports.geojson", "catalog.json"} <= set(names)
    months = [n for n in names if n.startswith("reports-") and n.endswith(".geojson")]
    assert len(months) == app.config["OPEN_DATA_MONTHS"]
    exported = json.loads((tmp_path / "portal" / "reports.json").read_text())
    stored = json.loads(next(f.body for f in publication.build() if f.name == "reports.json"))
    assert exported["rows"] == stored["rows"]
    lines = (tmp_path / "portal" / "reports.csv").read_bytes().split(b"\r\n")
    assert lines[0].decode().split(",") == list(publication.COLUMNS)


@pytest.mark.parametrize(
    ("values", "hidden"),
    [
        ({"reports": 9, "a": 7, "b": 2, "c": 0}, {"a", "b"}),
        ({"reports": 20, "a": 10, "b": 7, "c": 3}, {"b", "c"}),
        ({"reports": 3, "a": 3, "b": 0, "c": 0}, {"reports", "a"}),
        ({"reports": 10, "a": 6, "b": 2, "c": 2}, {"b", "c"}),
        ({"reports": 10, "a": 5, "b": 5, "c": 0}, set()),
        ({"reports": 0, "a": 0, "b": 0, "c": 0}, set()),
    ],
)
def test_suppression_rules(values, hidden):
    assert disclosure.suppressed_counts(values, "reports", ["a", "b", "c"]) == hidden


def test_derived_figures_follow_their_counts():
    assert disclosure.share_publishable(10, 10, False) and disclosure.share_publishable(10, 0, False)
    assert not disclosure.share_publishable(10, 8, False)  # 2 late would show
    assert not disclosure.share_publishable(4, 4, False) and not disclosure.share_publishable(10, 10, True)
    assert disclosure.median_publishable(5, False) and not disclosure.median_publishable(4, False)
