"""The public side: feed, map, nearby, comments and +1, and what public payloads never carry."""

import json
from datetime import timedelta

from sqlalchemy import select

from jaki.db import utcnow
from jaki.events import OutboxEvent
from jaki.extensions import db
from jaki.reports import transitions
from jaki.reports.models import Report
from tests.factories import auth_header
from tests.reports.factories import POINTS, citizen, kelurahan_officer, make_report, officer


def test_feed_filters_and_keyset_pages(client, ctx):
    now = utcnow()
    made = []
    for n in range(5):
        report = make_report(at=(-6.2710 + n * 0.001, 106.7770), category_code="sampah" if n % 2 else "jalan_rusak")
        report.created_at = now - timedelta(hours=n)
        made.append(report)
    monas = make_report(at="monas", category_code="sampah")
    monas.created_at = now - timedelta(hours=10)
    hidden = make_report(status="rejected", rejection_reason="Bukan wewenang")
    db.session.commit()

    page1 = client.get("/api/v1/reports?limit=3").json
    assert [r["id"] for r in page1["items"]] == [made[0].id, made[1].id, made[2].id]
    page2 = client.get(f"/api/v1/reports?limit=3&cursor={page1['next_cursor']}").json
    assert [r["id"] for r in page2["items"]] == [made[3].id, made[4].id, monas.id]
    assert page2["next_cursor"] is None
    assert hidden.id not in {r["id"] for r in page1["items"] + page2["items"]}

    sampah = client.get("/api/v1/reports?category=sampah").json["items"]
    assert [r["id"] for r in sampah] == [made[1].id, made[3].id, monas.id]
    gambir = client.get("/api/v1/reports?area=31.71.01").json["items"]
    assert [r["id"] for r in gambir] == [monas.id]
    assert len(client.get("/api/v1/reports?area=31.74").json["items"]) == 5
    assert len(client.get("/api/v1/reports?area=31.74.05.1002").json["items"]) >= 1
    since = (now - timedelta(hours=2, minutes=30)).isoformat()
    recent = client.get("/api/v1/reports", query_string={"since": since}).json["items"]
    assert [r["id"] for r in recent] == [made[0].id, made[1].id, made[2].id]
    assert client.get("/api/v1/reports?status=rejected").status_code == 422
    assert client.get("/api/v1/reports?area=jakarta").json["code"] == "area_filter_invalid"
    assert client.get("/api/v1/reports?cursor=bm90LWEtbGlzdA").status_code == 422
    assert client.get("/api/v1/reports?limit=1000").status_code == 422
    from jaki.api import encode_cursor

    for cursor in ([1, 2], ["2026-01-01T00:00:00", "x"], [None]):
        assert client.get(f"/api/v1/reports?cursor={encode_cursor(cursor)}").status_code == 422, cursor
    huge = encode_cursor([10**30])
    assert client.get(f"/api/v1/reports/{made[0].id}/comments?cursor={huge}").status_code == 422


def test_public_payloads_never_carry_personal_data_or_internal_notes(client, ctx):
    reporter = citizen(full_name="Siti Rahayu Lestari", phone="+6281299887766")
    named = make_report(reporter)
    anonymous = make_report(reporter, at="blok_m", anonymous=True)
    staff = officer()
    client.post(
        f"/api/v1/officer/reports/{named.id}/notes",
        json={"body": "Catatan internal: pelapor kerabat RT"},
        headers=auth_header(staff),
    )
    client.post(
        f"/api/v1/reports/{named.id}/comments", json={"body": "Sudah kami cek ke lokasi"}, headers=auth_header(staff)
    )

    detail = client.get(f"/api/v1/reports/{named.id}").json
    assert detail["reporter_name"] == "Siti L."
    assert client.get(f"/api/v1/reports/{anonymous.id}").json["reporter_name"] is None
    payloads = [
        client.get(f"/api/v1/reports/{named.id}").get_data(as_text=True),
        client.get(f"/api/v1/reports/{anonymous.id}").get_data(as_text=True),
        client.get("/api/v1/reports").get_data(as_text=True),
        client.get("/api/v1/reports/map?bbox=106.7,-6.3,106.9,-6.2").get_data(as_text=True),
        client.get(
            f"/api/v1/reports/nearby?lat={POINTS['pondok_pinang'][0]}&lon={POINTS['pondok_pinang'][1]}"
        ).get_data(as_text=True),
        client.get(f"/api/v1/reports/{named.id}/comments").get_data(as_text=True),
    ]
    for text in payloads:
        assert reporter.nik not in text and reporter.nik_masked not in text
        assert "81299887766" not in text and reporter.id not in text
        assert "Catatan internal" not in text
        assert "idempotency" not in text and "reporter_id" not in text
    assert "Rahayu" not in payloads[1] and "Siti" not in payloads[1]
    comments = client.get(f"/api/v1/reports/{named.id}/comments").json["items"]
    assert [(c["author"], c["body"]) for c in comments] == [("petugas", "Sudah kami cek ke lokasi")]
    assert set(client.get(f"/api/v1/reports/{named.id}").json) == {
        "id",
        "reference",
        "category_code",
        "category_name",
        "description",
        "address",
        "latitude",
        "longitude",
        "status",
        "public_status",
        "reporter_name",
        "kelurahan_code",
        "kelurahan_name",
        "kecamatan_code",
        "kecamatan_name",
        "kota_code",
        "kota_name",
        "agency_code",
        "support_count",
        "photos",
        "resolution_note",
        "duplicate_of_id",
        "sla_due_at",
        "sla_breached",
        "created_at",
        "updated_at",
        "resolved_at",
        "closed_at",
        # Issue 15: the SLA clock (due, time left, pauses), the original a merged report answers for, disputes.
        "sla",
        "merged_into",
        "dispute_count",
    }


def test_rejected_reports_are_seen_only_by_their_reporter_and_staff(client, ctx):
    reporter = citizen()
    report = make_report(reporter, status="rejected", rejection_reason="Lokasi di luar kewenangan")
    assert client.get(f"/api/v1/reports/{report.id}").status_code == 404
    assert client.get(f"/api/v1/reports/{report.id}", headers=auth_header(citizen())).status_code == 404
    assert client.get(f"/api/v1/reports/{report.id}", headers=auth_header(reporter)).status_code == 200
    mine = client.get("/api/v1/me/reports", headers=auth_header(reporter)).json["items"]
    assert [(r["id"], r["rejection_reason"]) for r in mine] == [(report.id, "Lokasi di luar kewenangan")]
    assert client.get(f"/api/v1/me/reports/{report.id}", headers=auth_header(citizen())).status_code == 404


def test_map_viewport_is_geojson_and_bounded(client, ctx, app, monkeypatch):
    inside = [make_report(at=(-6.2710 + n * 0.0015, 106.7770)) for n in range(4)]
    outside = make_report(at="monas")
    duplicate = make_report(at=(-6.2705, 106.7775), status="duplicate")
    body = client.get("/api/v1/reports/map?bbox=106.76,-6.28,106.79,-6.26").json
    assert body["type"] == "FeatureCollection" and body["clustered"] is False and body["total"] == 4
    ids = {f["id"] for f in body["features"]}
    assert ids == {r.id for r in inside} and outside.id not in ids and duplicate.id not in ids
    feature = body["features"][0]
    assert feature["geometry"]["type"] == "Point"
    lon, lat = feature["geometry"]["coordinates"]
    assert 106.76 <= lon <= 106.79 and -6.28 <= lat <= -6.26
    assert feature["properties"]["public_status"]["label"] == "Menunggu"

    assert feature["properties"]["cluster"] is False

    # More matching reports than pins allowed (the setting caps `limit`): clusters, never a silent cut.
    monkeypatch.setitem(app.config, "REPORTS_MAP_MAX_PINS", 3)
    bounded = client.get("/api/v1/reports/map?bbox=106.76,-6.28,106.79,-6.26&limit=50").json
    assert bounded["clustered"] is True and bounded["total"] == 4
    assert sum(f["properties"]["count"] for f in bounded["features"]) == 4
    for bad in ("1,2,3", "106.79,-6.26,106.76,-6.28", "a,b,c,d", "nan,-6.3,106.9,-6.2"):
        response = client.get(f"/api/v1/reports/map?bbox={bad}")
        assert response.status_code == 422, bad
    assert client.get("/api/v1/reports/map?bbox=10,10,11,11").json["features"] == []


def test_nearby_orders_by_distance_within_the_radius(client, ctx):
    lat, lon = POINTS["pondok_pinang"]
    far = make_report(at=(lat + 0.004, lon))  # about 440 m
    near = make_report(at=(lat + 0.0009, lon))  # about 100 m
    nearest = make_report(at=(lat, lon + 0.0003))  # about 33 m
    make_report(at="monas")
    body = client.get(f"/api/v1/reports/nearby?lat={lat}&lon={lon}&radius=500").json
    assert [i["report"]["id"] for i in body["items"]] == [nearest.id, near.id, far.id]
    distances = [i["distance_m"] for i in body["items"]]
    assert distances == sorted(distances) and 30 < distances[0] < 37 and 430 < distances[2] < 450
    small = client.get(f"/api/v1/reports/nearby?lat={lat}&lon={lon}&radius=150").json
    assert [i["report"]["id"] for i in small["items"]] == [nearest.id, near.id]
    assert client.get(f"/api/v1/reports/nearby?lat={lat}&lon={lon}&radius=50000").status_code == 422
    assert client.get("/api/v1/reports/nearby?lat=-6.595&lon=106.81").json["code"] == "location_outside_jakarta"


def test_comments_and_support_need_a_login_and_notify_the_reporter(client, ctx):
    reporter, neighbour = citizen(), citizen()
    report = make_report(reporter)
    assert client.post(f"/api/v1/reports/{report.id}/support").status_code == 401
    assert client.post(f"/api/v1/reports/{report.id}/comments", json={"body": "Saya juga"}).status_code == 401
    for _ in range(2):  # idempotent
        response = client.post(f"/api/v1/reports/{report.id}/support", headers=auth_header(neighbour))
        assert response.json["support_count"] == 1
    own = client.post(f"/api/v1/reports/{report.id}/support", headers=auth_header(reporter))
    assert own.status_code == 409 and own.json["code"] == "cannot_support_own"
    staff = client.post(f"/api/v1/reports/{report.id}/support", headers=auth_header(officer()))
    assert staff.status_code == 403
    comment = client.post(
        f"/api/v1/reports/{report.id}/comments", json={"body": "Saya juga terganggu"}, headers=auth_header(neighbour)
    )
    assert comment.status_code == 201 and comment.json["author"] == "warga"
    events = {e.type: e for e in db.session.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == report.id))}
    assert events["report.supported"].payload["recipients"] == [reporter.id]
    assert events["report.comment_added"].payload["recipients"] == [reporter.id]
    assert "terganggu" not in json.dumps(events["report.comment_added"].payload)
    # The supporter hears about status changes from now on.
    report = db.session.get(Report, report.id)
    transitions.transition(kelurahan_officer(), report.id, "verified", expected_version=report.version)
    changed = db.session.scalar(
        select(OutboxEvent).where(OutboxEvent.aggregate_id == report.id, OutboxEvent.type == "report.status_changed")
    )
    assert changed.payload["recipients"] == [reporter.id, neighbour.id]
    closed = make_report(status="closed")
    assert (
        client.post(f"/api/v1/reports/{closed.id}/support", headers=auth_header(neighbour)).json["code"]
        == "report_not_open"
    )


def test_rating_by_the_reporter_once_after_resolution(client, ctx):
    reporter = citizen()
    report = make_report(reporter, status="in_progress")
    early = client.post(f"/api/v1/reports/{report.id}/rating", json={"score": 5}, headers=auth_header(reporter))
    assert early.status_code == 409 and early.json["code"] == "rating_not_allowed"
    report = make_report(reporter, status="resolved")
    other = client.post(f"/api/v1/reports/{report.id}/rating", json={"score": 1}, headers=auth_header(citizen()))
    assert other.status_code == 403
    bad = client.post(f"/api/v1/reports/{report.id}/rating", json={"score": 6}, headers=auth_header(reporter))
    assert bad.status_code == 422
    rated = client.post(
        f"/api/v1/reports/{report.id}/rating",
        json={"score": 4, "comment": "Cepat, terima kasih"},
        headers=auth_header(reporter),
    )
    assert rated.status_code == 201 and rated.json["score"] == 4
    again = client.post(f"/api/v1/reports/{report.id}/rating", json={"score": 5}, headers=auth_header(reporter))
    assert again.json["code"] == "already_rated"
    assert client.get(f"/api/v1/me/reports/{report.id}", headers=auth_header(reporter)).json["rating"]["score"] == 4


def test_my_reports_include_anonymous_ones_and_the_data_export_has_them(client, ctx):
    reporter = citizen()
    anonymous = make_report(reporter, anonymous=True)
    make_report(citizen(), at="monas")
    mine = client.get("/api/v1/me/reports", headers=auth_header(reporter)).json
    assert [(r["id"], r["anonymous"]) for r in mine["items"]] == [(anonymous.id, True)]
    assert client.get("/api/v1/me/reports").status_code == 401
    export = client.get("/api/v1/me/data-export", headers=auth_header(reporter)).json["reports"]
    assert [r["id"] for r in export["reports"]] == [anonymous.id]
    assert export["reports"][0]["description"] == anonymous.description
    assert set(export) == {"reports", "comments", "supports", "ratings"}


def test_unknown_report_ids_are_404(client, ctx):
    for path in (
        "/api/v1/reports/nope",
        "/api/v1/reports/" + "x" * 300,
        "/api/v1/reports/nope/comments",
        "/api/v1/reports/nope/photos/nope",
    ):
        assert client.get(path).status_code == 404, path
