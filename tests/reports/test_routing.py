"""A point resolves to its kelurahan: landmarks, a point in a gap between polygons, the sea, outside Jakarta."""

import pytest
from sqlalchemy import select

from jaki.events import OutboxEvent
from jaki.geo import operations as geo
from jaki.reports.models import Report
from tests.factories import auth_header
from tests.reports.factories import citizen, make_report, seed_categories

LANDMARKS = [
    ("Monas", -6.1754, 106.8272, "31.71.01.1001"),  # Gambir, Gambir, Jakarta Pusat
    ("Bundaran HI", -6.1950, 106.8230, "31.71.06.1001"),  # Menteng
    ("Gelora Bung Karno", -6.2186, 106.8020, "31.71.07.1001"),  # Gelora, Tanah Abang
    ("Masjid Istiqlal", -6.1702, 106.8310, "31.71.02.1001"),  # Pasar Baru, Sawah Besar
    ("Museum Fatahillah", -6.1352, 106.8133, "31.73.03.1008"),  # Pinangsia, Taman Sari, Jakarta Barat
    ("Kebun Binatang Ragunan", -6.3125, 106.8200, "31.74.04.1004"),  # Ragunan, Pasar Minggu
    ("Blok M", -6.2440, 106.8000, "31.74.07.1001"),  # Melawai, Kebayoran Baru
    ("Taman Mini", -6.3025, 106.8952, "31.75.10.1008"),  # Ceger, Cipayung, Jakarta Timur
    ("Pulau Pramuka", -5.7450, 106.6140, "31.01.01.1001"),  # Pulau Panggang, Kepulauan Seribu
]

# Between the simplified polygons of Gambir (31.71.01.1001) and 31.71.04.1001: in neither, 2 m from the latter.
GAP = (-6.175163, 106.833722)


@pytest.mark.parametrize(("name", "lat", "lon", "code"), LANDMARKS, ids=[x[0] for x in LANDMARKS])
def test_landmarks_resolve_to_their_kelurahan(ctx, name, lat, lon, code):
    routing = geo.locate(lat, lon)
    assert routing.kelurahan_code == code
    assert routing.exact and routing.distance_m == 0
    assert (routing.kecamatan_code, routing.kota_code) == (code[:8], code[:5])


def test_a_point_in_a_gap_goes_to_the_nearest_kelurahan_deterministically(ctx):
    first = geo.locate(*GAP)
    assert first.kelurahan_code == "31.71.04.1001"
    assert not first.exact and 0 < first.distance_m < 10
    assert all(geo.locate(*GAP) == first for _ in range(5))


def test_sea_inside_the_bbox_is_unrouted_and_outside_the_bbox_is_unrouted(ctx):
    assert geo.locate(-6.0, 106.9) == geo.UNROUTED  # Java Sea, 8 km off the coast
    assert geo.locate(-6.5950, 106.8166) == geo.UNROUTED  # Bogor


def test_report_is_routed_to_kelurahan_kecamatan_kota_and_agency(ctx):
    report = make_report(at="monas", category_code="sampah")
    assert (report.kelurahan_code, report.kecamatan_code, report.kota_code) == ("31.71.01.1001", "31.71.01", "31.71")
    assert report.agency_code == "DLH" and report.routing_distance_m == 0


def test_report_in_a_gap_is_routed_and_remembers_the_distance(ctx):
    report = make_report(at=GAP)
    assert report.kelurahan_code == "31.71.04.1001" and 0 < report.routing_distance_m < 10


def test_report_at_sea_is_accepted_into_the_unrouted_queue(client, ctx):
    seed_categories()
    user = citizen()
    response = client.post(
        "/api/v1/reports",
        headers=auth_header(user),
        data={
            "category": "sampah",
            "description": "Sampah mengapung di laut",
            "latitude": "-6.0",
            "longitude": "106.9",
        },
    )
    assert response.status_code == 201, response.json
    assert response.json["kelurahan_code"] is None and response.json["status"] == "submitted"
    event = db_event(response.json["id"])
    assert event.payload["data"]["routed"] is False


def test_outside_jakarta_is_a_clear_422_in_indonesian(client, ctx):
    seed_categories()
    user = citizen()
    body = {
        "category": "sampah",
        "description": "Sampah menumpuk di pasar",
        "latitude": "-6.5950",
        "longitude": "106.8166",
    }
    response = client.post("/api/v1/reports", headers=auth_header(user), data=body)
    assert response.status_code == 422
    assert response.json["code"] == "location_outside_jakarta"
    assert "luar wilayah DKI Jakarta" in response.json["message"]
    english = client.post("/api/v1/reports", data=body, headers={**auth_header(user), "Accept-Language": "en"})
    assert "outside Jakarta" in english.json["message"]
    from jaki.extensions import db

    assert db.session.scalar(select(Report.id).where(Report.reporter_id == user.id)) is None


def db_event(report_id):
    from jaki.extensions import db

    return db.session.scalar(
        select(OutboxEvent).where(OutboxEvent.aggregate_id == report_id, OutboxEvent.type == "report.created")
    )
