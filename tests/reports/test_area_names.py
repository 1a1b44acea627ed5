"""Reports and officers' queue items name their kelurahan, kecamatan and kota beside the codes: names kept in memory."""

from __future__ import annotations

from sqlalchemy import event

from jaki.extensions import db
from tests.factories import auth_header
from tests.reports.factories import POINTS, admin, citizen, make_report, officer, stored_unrouted_report

PONDOK_PINANG = {
    "kelurahan_code": "31.74.05.1002",
    "kelurahan_name": "Pondok Pinang",
    "kecamatan_code": "31.74.05",
    "kecamatan_name": "Kebayoran Lama",
    "kota_code": "31.74",
    "kota_name": "Kota Administrasi Jakarta Selatan",
}
UNROUTED = dict.fromkeys(PONDOK_PINANG)

# Points spread over different kelurahan, so a page's names cannot all come from one cached row.
SPREAD = [POINTS["pondok_pinang"], POINTS["monas"], POINTS["blok_m"], POINTS["ragunan"]] + [
    (-6.20 - n * 0.011, 106.80 + n * 0.007) for n in range(8)
]


def areas_of(item: dict) -> dict:
    return {key: item[key] for key in PONDOK_PINANG}


def test_public_reports_carry_names_beside_codes(client, ctx):
    reporter = citizen()
    report = make_report(reporter)
    unrouted = stored_unrouted_report("sampah")
    assert areas_of(client.get(f"/api/v1/reports/{report.id}").json) == PONDOK_PINANG
    assert areas_of(client.get(f"/api/v1/reports/{unrouted.id}").json) == UNROUTED
    feed = {item["id"]: item for item in client.get("/api/v1/reports").json["items"]}
    assert areas_of(feed[report.id]) == PONDOK_PINANG and areas_of(feed[unrouted.id]) == UNROUTED
    lat, lon = POINTS["pondok_pinang"]
    nearby = client.get(f"/api/v1/reports/nearby?lat={lat}&lon={lon}").json["items"]
    assert areas_of(nearby[0]["report"]) == PONDOK_PINANG
    mine = client.get("/api/v1/me/reports", headers=auth_header(reporter)).json["items"]
    assert {item["id"]: areas_of(item) for item in mine}[report.id] == PONDOK_PINANG
    english = client.get(f"/api/v1/reports/{report.id}", headers={"Accept-Language": "en"}).json
    assert areas_of(english) == PONDOK_PINANG  # proper names: the same in both languages


def test_officer_queue_and_detail_carry_names(client, ctx):
    report = make_report(status="verified")
    worker = officer()
    queue = client.get("/api/v1/officer/reports", headers=auth_header(worker)).json["items"]
    assert [areas_of(item) for item in queue if item["id"] == report.id] == [PONDOK_PINANG]
    detail = client.get(f"/api/v1/officer/reports/{report.id}", headers=auth_header(worker))
    assert areas_of(detail.json) == PONDOK_PINANG
    claimed = client.post(
        f"/api/v1/officer/reports/{report.id}/claim",
        headers={**auth_header(worker), "If-Match": detail.headers["ETag"]},
    )
    assert claimed.status_code == 200, claimed.json
    assert (claimed.json["kelurahan_code"], claimed.json["kelurahan_name"]) == ("31.74.05.1002", "Pondok Pinang")


def _statements(client, url: str, headers=None) -> list[str]:
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.get(url, headers=headers)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.json
    return seen, response.json["items"]


def test_names_cost_no_query_per_page_nor_per_row(app, client, ctx, monkeypatch):
    # The process's revocation snapshot is re-read every REVOCATION_CACHE_SECONDS: kept for the test, so that
    # a page measured across the renewal does not count the revocation read as its own.
    monkeypatch.setitem(app.config, "REVOCATION_CACHE_SECONDS", 3600)
    reporter = citizen()
    for lat, lon in SPREAD:
        make_report(reporter, at=(lat, lon))
    staff = auth_header(admin())
    mine = auth_header(reporter)
    warm, _ = _statements(client, "/api/v1/reports?limit=1")
    assert len([s for s in warm if "FROM areas" in s]) <= 2  # the table's version and the names, once
    for url, headers in (("/api/v1/reports", None), ("/api/v1/me/reports", mine), ("/api/v1/officer/reports", staff)):
        _statements(client, f"{url}?limit=1", headers)  # what a first signed-in request reads once (revocations)
        small, two = _statements(client, f"{url}?limit=2", headers)
        large, twelve = _statements(client, f"{url}?limit=12", headers)
        assert len(two) == 2 and len(twelve) == 12
        assert len({item["kelurahan_name"] for item in twelve}) >= 8  # names of many different kelurahan
        assert all(item["kelurahan_name"] and item["kota_name"] for item in twelve)
        # The process keeps the names (read by the warm-up below, then checked at most every
        # AREA_INDEX_CHECK_SECONDS): no page reads the areas table, however many rows it names.
        assert not [s for s in small + large if "FROM areas" in s], url
        if url != "/api/v1/officer/reports":
            # The queue still loads each row's reporter on its own (reporter_name): not the names' doing.
            assert len(large) == len(small), url
