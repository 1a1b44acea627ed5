"""A point resolves to its kelurahan (landmarks, gaps, the harbour, the islands); outside Jakarta it is refused,
naming the neighbour whose land it is on."""

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
    ("Bandara Halim Perdanakusuma", -6.2666, 106.8906, "31.75.08.1004"),  # Halim Perdana Kusuma, Makasar
    ("Pulau Tidung", -5.7990, 106.4990, "31.01.02.1002"),  # Pulau Tidung, Kepulauan Seribu Selatan
]

# Outside every polygon, away from the neighbours: routed to the nearest kelurahan within the gap distance.
COASTAL_GAPS = [
    ("Tanjung Priok, pier", -6.0930, 106.8800, "31.72.02.1001", 150),
    ("Tanjung Priok, basin", -6.1000, 106.8745, "31.72.02.1001", 175),
    ("Pulau Tidung, shore", -5.8030, 106.5130, "31.01.02.1002", 155),
]

# On a neighbour's land. The last rows of each lie 90-300 m beyond a Jakarta kelurahan polygon (and as far
# outside the BPS 2019 boundaries): the old gap rule routed them into Jakarta. Some are inside the neighbour's
# coarse outline, some in the strip between it and Jakarta's polygons.
NEIGHBOURS = [
    ("Kota Tangerang", -6.1783, 106.6319, "36.71", "Kota Tangerang"),
    ("Bandara Soekarno-Hatta", -6.1256, 106.6558, "36.71", "Kota Tangerang"),
    ("Kota Bekasi", -6.2383, 106.9756, "32.75", "Kota Bekasi"),
    ("Kota Depok", -6.4025, 106.7942, "32.76", "Kota Depok"),
    ("Kota Bogor", -6.5950, 106.8166, "32.71", "Kota Bogor"),
    ("Bintaro, Tangerang Selatan", -6.2770, 106.7200, "36.74", "Kota Tangerang Selatan"),
    ("Cikarang", -6.2615, 107.1527, "32.16", "Kabupaten Bekasi"),
    ("Tigaraksa", -6.2650, 106.4750, "36.03", "Kabupaten Tangerang"),
    ("Cibinong", -6.4817, 106.8540, "32.01", "Kabupaten Bogor"),
    ("Depok, 231 m past Cipedak", -6.36673, 106.80116, "32.76", "Kota Depok"),
    ("Depok, 151 m past Ciganjur", -6.32895, 106.80206, "32.76", "Kota Depok"),
    ("Depok, 87 m past Cipedak, outside the outline", -6.35054, 106.79302, "32.76", "Kota Depok"),
    ("Depok, 96 m past Cibubur, outside the outline", -6.36762, 106.88261, "32.76", "Kota Depok"),
    ("Tangerang, 144 m past Joglo", -6.22553, 106.72061, "36.71", "Kota Tangerang"),
    ("Tangerang, 236 m past Semanan", -6.17787, 106.69437, "36.71", "Kota Tangerang"),
    ("Tangerang, 122 m past Meruya Selatan, outside the outline", -6.20575, 106.72332, "36.71", "Kota Tangerang"),
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


@pytest.mark.parametrize(("name", "lat", "lon", "code", "metres"), COASTAL_GAPS, ids=[x[0] for x in COASTAL_GAPS])
def test_a_coastal_or_harbour_gap_goes_to_the_nearest_kelurahan(ctx, name, lat, lon, code, metres):
    routing = geo.locate(lat, lon)
    assert routing.kelurahan_code == code and not routing.exact
    assert abs(routing.distance_m - metres) < 5


@pytest.mark.parametrize(("name", "lat", "lon", "code", "region"), NEIGHBOURS, ids=[x[0] for x in NEIGHBOURS])
def test_a_point_on_a_neighbours_land_is_theirs(ctx, name, lat, lon, code, region):
    routing = geo.locate(lat, lon)
    assert not routing.routed
    assert (routing.region_code, routing.region_name) == (code, region)


def test_a_border_sliver_within_the_tolerance_stays_in_jakarta(ctx):
    # 3 m outside Kalisari's simplified polygon (Pasar Rebo), 180 m from Depok's outline, inside BPS's Jakarta.
    routing = geo.locate(-6.33705, 106.84459)
    assert routing.kelurahan_code == "31.75.05.1004" and 0 < routing.distance_m < 5


def test_at_sea_beyond_the_gap_distance_is_outside_and_names_no_one(ctx):
    assert geo.locate(-6.0, 106.9) == geo.UNROUTED  # Java Sea, 8 km off the coast
    assert geo.locate(-5.5, 106.2) == geo.UNROUTED  # west of Kepulauan Seribu


def test_report_is_routed_to_kelurahan_kecamatan_kota_and_agency(ctx):
    report = make_report(at="monas", category_code="sampah")
    assert (report.kelurahan_code, report.kecamatan_code, report.kota_code) == ("31.71.01.1001", "31.71.01", "31.71")
    assert report.agency_code == "DLH" and report.routing_distance_m == 0


def test_report_in_a_gap_is_routed_and_remembers_the_distance(ctx):
    report = make_report(at=GAP)
    assert report.kelurahan_code == "31.71.04.1001" and 0 < report.routing_distance_m < 10


def _file(client, user, lat, lon, **headers):
    body = {"category": "jalan_rusak", "description": "Jalan berlubang", "latitude": str(lat), "longitude": str(lon)}
    return client.post("/api/v1/reports", headers={**auth_header(user), **headers}, data=body)


def test_a_report_on_a_neighbours_land_is_refused_naming_the_region(client, ctx):
    seed_categories()
    user = citizen()
    response = _file(client, user, -6.1783, 106.6319)
    assert response.status_code == 422
    assert response.json["code"] == "location_outside_jakarta"
    assert response.json["message"].startswith("Lokasi berada di Kota Tangerang, di luar wilayah DKI Jakarta")
    assert response.json["errors"]["latitude"] == [response.json["message"]]
    english = _file(client, user, -6.2383, 106.9756, **{"Accept-Language": "en"})
    assert english.json["message"].startswith("The location is in Kota Bekasi, outside Jakarta")
    from jaki.extensions import db

    assert db.session.scalar(select(Report.id).where(Report.reporter_id == user.id)) is None


def test_a_report_at_sea_is_refused(client, ctx):
    seed_categories()
    response = _file(client, citizen(), -6.0, 106.9)
    assert response.status_code == 422 and response.json["code"] == "location_outside_jakarta"
    assert response.json["message"].startswith("Lokasi berada di luar wilayah DKI Jakarta")


def test_a_report_on_the_priok_pier_is_routed(client, ctx):
    seed_categories()
    response = _file(client, citizen(), -6.0930, 106.8800)
    assert response.status_code == 201, response.json
    assert response.json["kelurahan_code"] == "31.72.02.1001"
    assert db_event(response.json["id"]).payload["data"]["routed"] is True


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
