"""Filing a report through the API: photos, idempotent retries, duplicate offers, per-user limits."""

import io

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from jaki import jobs
from jaki.events import OutboxEvent
from jaki.extensions import db
from jaki.notifications import tasks as notification_tasks
from jaki.reports.models import Report, ReportHistory, ReportPhoto, ReportQuota
from tests.factories import auth_header
from tests.reports.factories import (
    POINTS,
    bomb_png,
    citizen,
    heic_with_gps,
    jpeg_with_gps,
    make_report,
    png_bytes,
    seed_categories,
)
from tests.support.cost import Cost

LAT, LON = POINTS["pondok_pinang"]


def form(**overrides):
    body = {
        "category": "jalan_rusak",
        "description": "Jalan berlubang di depan sekolah",
        "latitude": str(LAT),
        "longitude": str(LON),
        "address": "Jl. Pondok Pinang Raya",
    }
    body.update(overrides)
    return body


def multipart(body: dict, photos=()) -> tuple[bytes, str]:
    """Encoded in memory: the test client would spool a big body to a temporary file it never closes."""
    data = dict(body)
    if photos:
        data["photos"] = [FileStorage(io.BytesIO(content), filename=name) for name, content in photos]
    boundary, encoded = encode_multipart(data)
    return encoded, f"multipart/form-data; boundary={boundary}"


def post(client, user, body=None, photos=(), headers=None):
    encoded, content_type = multipart(body or form(), photos)
    return client.post(
        "/api/v1/reports", data=encoded, content_type=content_type, headers={**auth_header(user), **(headers or {})}
    )


def count_reports(user):
    return db.session.scalar(select(func.count(Report.id)).where(Report.reporter_id == user.id))


def test_create_with_photos_routes_stores_and_records(client, ctx, photo_storage):
    seed_categories()
    user = citizen()
    response = post(client, user, photos=[("lubang.jpg", jpeg_with_gps()), ("dekat.png", png_bytes())])
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "submitted" and body["public_status"]["label"] == "Menunggu"
    assert body["kelurahan_code"] == "31.74.05.1002" and body["agency_code"] == "DBM"
    assert response.headers["ETag"] == f'"{body["version"]}"'
    assert [p["content_type"] for p in body["photos"]] == ["image/jpeg", "image/png"]
    report = db.session.get(Report, body["id"])
    assert report.sla_due_at > report.created_at and report.cell > 0
    photos = db.session.scalars(select(ReportPhoto).where(ReportPhoto.report_id == report.id)).all()
    assert all(photo_storage.exists(p.storage_key) for p in photos)
    history = db.session.scalars(select(ReportHistory).where(ReportHistory.report_id == report.id)).all()
    assert [(h.action, h.to_status, h.actor_id) for h in history] == [("create", "submitted", user.id)]
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.aggregate_id == report.id))
    assert event.type == "report.created" and event.payload["recipients"] == [user.id]
    assert event.payload["data"]["reference"] == body["reference"] == "LAP-" + report.id[:8].upper()
    assert "Jalan berlubang" not in str(event.payload)  # no free text in events


def test_photos_are_served_without_exif_or_gps(client, ctx):
    seed_categories()
    original = jpeg_with_gps("KameraRahasia")
    assert b"KameraRahasia" in original
    body = post(client, citizen(), photos=[("a.jpg", original)]).json
    served = client.get(body["photos"][0]["url"])
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert b"KameraRahasia" not in served.data and b"Exif" not in served.data
    image = Image.open(io.BytesIO(served.data))
    assert not image.getexif() and image.size == (64, 48)


def test_iphone_heic_photos_are_filed_as_upright_jpeg_without_exif(client, ctx, photo_storage):
    seed_categories()
    original = heic_with_gps("iPhoneRahasia", orientation=6)
    assert original[4:12] == b"ftypheic" and b"iPhoneRahasia" in original
    # Sniffed from the bytes: the name and the part's declared type say nothing.
    response = post(client, citizen(), photos=[("IMG_0042.jpg", original), ("IMG_0043.HEIC", heic_with_gps())])
    assert response.status_code == 201, response.json
    photos = response.json["photos"]
    assert [(p["content_type"], p["width"], p["height"]) for p in photos] == [
        ("image/jpeg", 48, 64),  # turned upright
        ("image/jpeg", 64, 48),
    ]
    served = client.get(photos[0]["url"])
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert b"iPhoneRahasia" not in served.data and b"Exif" not in served.data and b"ftyp" not in served.data
    image = Image.open(io.BytesIO(served.data))
    assert image.format == "JPEG" and not image.getexif() and image.size == (48, 64)
    stored = db.session.scalars(select(ReportPhoto).where(ReportPhoto.report_id == response.json["id"])).all()
    assert all(p.storage_key.endswith(".jpg") for p in stored)


def test_a_heic_bomb_is_refused_like_any_other(client, ctx):
    seed_categories()
    user = citizen()
    data = bytearray(heic_with_gps())
    start = data.index(b"ispe") + 8  # the full box's version and flags, then width and height
    data[start : start + 8] = (60_000).to_bytes(4, "big") * 2
    response = post(client, user, photos=[("IMG_0044.HEIC", bytes(data))])
    assert response.status_code == 422 and response.json["code"] == "photo_too_many_pixels"
    assert count_reports(user) == 0


@pytest.mark.redis
def test_thumbnails_are_made_by_a_media_job(app, client, ctx, photo_storage):
    """On the rq pass the job waits on the MEDIA queue until a worker runs it."""
    from rq import Queue, SimpleWorker

    from jaki.jobs import Queues

    seed_categories()
    body = post(client, citizen(), photos=[("a.png", png_bytes((800, 600)))]).json
    photo_id = body["photos"][0]["id"]
    assert db.session.get(ReportPhoto, photo_id).thumbnail_key is None
    redis = app.extensions["jaki.redis"]
    assert Queue(Queues.MEDIA, connection=redis).count == 1
    SimpleWorker([Queues.MEDIA], connection=redis).work(burst=True)
    photo = db.session.get(ReportPhoto, photo_id)
    db.session.refresh(photo)
    assert photo.thumbnail_key and photo_storage.exists(photo.thumbnail_key)
    thumb = client.get(f"/api/v1/reports/{body['id']}/photos/{photo_id}?thumbnail=1")
    assert thumb.mimetype == "image/jpeg" and max(Image.open(io.BytesIO(thumb.data)).size) == 320


def test_thumbnail_job_is_idempotent(app, ctx, photo_storage):
    from jaki.media.images import sanitize_photo
    from jaki.reports.photos import store_photo
    from jaki.reports.tasks import make_photo_thumbnail

    report = make_report()
    photo = store_photo(report, sanitize_photo(png_bytes((900, 300))), kind="report", position=0, uploader=None)
    db.session.commit()
    key = make_photo_thumbnail(photo.id)
    assert key and photo_storage.exists(key)
    assert make_photo_thumbnail(photo.id) == key
    assert make_photo_thumbnail("no-such-photo") is None


@pytest.mark.parametrize(
    ("name", "content", "status", "code"),
    [
        ("doc.pdf", b"%PDF-1.7\n% not a photo at all\n", 415, "photo_type_not_allowed"),
        ("fake.jpg", b"GIF89a" + b"\x00" * 64, 415, "photo_type_not_allowed"),
        ("huge.jpg", b"\xff\xd8\xff" + b"\x00" * (8 * 1024 * 1024), 413, "photo_too_large"),
        ("bomb.png", bomb_png(), 422, "photo_too_many_pixels"),
        ("broken.png", png_bytes()[:40], 422, "photo_corrupt"),
        ("empty.jpg", b"", 422, "photo_empty"),
    ],
    ids=["pdf", "gif-named-jpg", "oversized", "decompression-bomb", "truncated", "empty"],
)
def test_bad_photos_are_refused_and_nothing_is_filed(client, ctx, name, content, status, code):
    seed_categories()
    user = citizen()
    response = post(client, user, photos=[("ok.png", png_bytes()), (name, content)])
    assert response.status_code == status, response.json
    assert response.json["code"] == code
    assert response.json["errors"]["photos"][0].startswith("2: ")
    assert count_reports(user) == 0


def test_at_most_five_photos(client, ctx):
    seed_categories()
    user = citizen()
    response = post(client, user, photos=[(f"{n}.png", png_bytes()) for n in range(6)])
    assert response.status_code == 422 and response.json["code"] == "too_many_photos"
    assert "5 foto" in response.json["message"]


def test_idempotency_key_makes_a_retry_return_the_same_report(client, ctx):
    seed_categories()
    user = citizen()
    headers = {"Idempotency-Key": "upload-7f3a9c21"}
    first = post(client, user, photos=[("a.png", png_bytes())], headers=headers)
    again = post(client, user, photos=[("a.png", png_bytes())], headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json["id"] == again.json["id"]
    assert count_reports(user) == 1
    assert db.session.scalar(select(func.count(ReportPhoto.id)).where(ReportPhoto.report_id == first.json["id"])) == 1
    # The key is per reporter: another citizen's identical key is another report.
    other = citizen()
    assert post(client, other, headers=headers, body=form(force="true")).json["id"] != first.json["id"]
    # The same key for a different report is a client bug, not a retry.
    reused = post(client, user, body=form(description="Lampu jalan mati total"), headers=headers)
    assert reused.status_code == 422 and reused.json["code"] == "idempotency_key_reused"
    bad = post(client, user, headers={"Idempotency-Key": "x"})
    assert bad.status_code == 422 and bad.json["code"] == "idempotency_key_invalid"


def test_a_retry_does_not_count_against_the_daily_cap(client, ctx, app, monkeypatch):
    seed_categories()
    monkeypatch.setitem(app.config, "REPORTS_DAILY_CAP", 1)
    user = citizen()
    headers = {"Idempotency-Key": "upload-0000001"}
    assert post(client, user, headers=headers).status_code == 201
    assert post(client, user, headers=headers).status_code == 201


def test_a_near_duplicate_is_offered_instead_of_a_new_report(client, ctx):
    seed_categories()
    first_reporter, second = citizen(), citizen()
    existing = make_report(first_reporter, at=(LAT, LON))
    near = form(latitude=str(LAT + 0.0002), longitude=str(LON + 0.0001))  # about 25 m away
    response = post(client, second, body=near)
    assert response.status_code == 409 and response.json["code"] == "duplicate_nearby"
    assert "Dukung laporan tersebut" in response.json["message"]
    candidates = response.json["errors"]["duplicates"]
    assert [c["id"] for c in candidates] == [existing.id]
    assert 15 < candidates[0]["distance_m"] < 35 and candidates[0]["mine"] is False
    assert set(candidates[0]) == {"id", "distance_m", "status", "public_status", "support_count", "created_at", "mine"}
    assert count_reports(second) == 0

    support = client.post(f"/api/v1/reports/{existing.id}/support", headers=auth_header(second))
    assert support.status_code == 200 and support.json == {"id": existing.id, "support_count": 1, "supported": True}

    forced = post(client, second, body={**near, "force": "true"})
    assert forced.status_code == 201


def test_no_duplicate_offer_across_categories_far_away_or_for_finished_reports(client, ctx):
    seed_categories()
    make_report(at=(LAT, LON), category_code="sampah")
    make_report(at=(LAT + 0.001, LON), category_code="jalan_rusak")  # about 110 m: beyond jalan_rusak's 50 m
    make_report(at=(LAT, LON + 0.0001), status="resolved")
    assert post(client, citizen()).status_code == 201


def test_flood_limits_per_user_and_per_day(client, ctx, app, monkeypatch):
    seed_categories()
    monkeypatch.setitem(app.config, "REPORTS_CREATE_RATE", "2 per minute")
    user = citizen()
    spots = [(LAT + n * 0.01, LON) for n in range(4)]
    codes = [post(client, user, body=form(latitude=str(a), longitude=str(b))).status_code for a, b in spots[:3]]
    assert codes == [201, 201, 429]
    limited = post(client, user)
    assert limited.json["code"] == "rate_limited" and "Retry-After" in limited.headers
    # The limit is per user, not per address: someone else on the same network still gets through.
    assert post(client, citizen(), body=form(latitude=str(spots[3][0]))).status_code == 201

    monkeypatch.setitem(app.config, "REPORTS_CREATE_RATE", "100 per minute")
    monkeypatch.setitem(app.config, "REPORTS_DAILY_CAP", 3)
    capped = citizen()
    # Eastwards: 4 km south of Pondok Pinang is Tangerang Selatan and Depok, which are refused before the cap.
    results = [post(client, capped, body=form(longitude=str(LON + (n + 1) * 0.01))).status_code for n in range(4)]
    assert results == [201, 201, 201, 429]
    refused = post(client, capped, body=form(longitude=str(LON + 0.06)))
    assert refused.json["code"] == "report_daily_cap" and "3 laporan per hari" in refused.json["message"]
    assert int(refused.headers["Retry-After"]) > 0
    assert db.session.scalar(select(ReportQuota.count).where(ReportQuota.user_id == capped.id)) == 3


def test_create_needs_login_and_valid_input(client, ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "REPORTS_CREATE_RATE", "100 per minute")  # refused attempts count too
    seed_categories()
    assert client.post("/api/v1/reports", data=form()).status_code == 401
    user = citizen()
    unknown = post(client, user, body=form(category="tidak_ada"))
    assert unknown.status_code == 422 and unknown.json["code"] == "category_unknown"
    missing = post(client, user, body={"category": "jalan_rusak"})
    assert missing.status_code == 422 and {"description", "latitude", "longitude"} <= set(missing.json["errors"])
    extra = post(client, user, body=form(status="closed"))
    assert extra.status_code == 422 and "status" in extra.json["errors"]
    for bad in (form(latitude="nan"), form(longitude="1e400"), form(description="Jalan\x00rusak parah")):
        assert post(client, user, body=bad).status_code == 422


def _statement_kind(statement: str) -> tuple[str, str]:
    """("INSERT", "reports") from the statement's verb and the first table it names."""
    words = statement.replace("(", " ").split()
    verb = words[0].upper()
    marker = {"SELECT": "FROM", "INSERT": "INTO", "UPDATE": "UPDATE", "DELETE": "FROM"}.get(verb)
    upper = [w.upper() for w in words]
    table = words[upper.index(marker) + 1] if marker in upper[1:] or verb == "UPDATE" else ""
    return verb, table.strip('"')


def test_a_create_writes_its_rows_and_reads_none_back(app, client, ctx, monkeypatch):
    """What filing a report costs the database, as a server with a fresh session per request sees it: the
    Idempotency-Key's claim, the account, the category, the duplicate check, the daily quota, the three rows
    (report, outbox event, history), the history the answer shows and the key's answer. The report, its reporter,
    photos, SLA pauses and ratings are not read back after the commit; the area names are kept by the process."""
    # The revocation snapshot read by the warm-up is kept for the test (it is renewed every
    # REVOCATION_CACHE_SECONDS, which a slow machine could cross between the warm-up and the measured create).
    monkeypatch.setitem(app.config, "REVOCATION_CACHE_SECONDS", 3600)
    seed_categories()
    user = citizen()
    db.session.commit()
    # Today's quota row and the process's area names exist once a first report (another category) is filed.
    warm = post(client, user, body=form(category="sampah"), headers={"Idempotency-Key": "warm-00000001"})
    assert warm.status_code == 201, warm.json
    # As on a server, work after the commit (the outbox relay) goes to a queue rather than into the request.
    if app.extensions.get("jaki.redis") is not None:
        app.extensions["jaki.redis"].delete(notification_tasks.KICK_KEY)  # the warm-up's kick would hold it
    queued = []
    monkeypatch.setattr(jobs, "enqueue", lambda func, *args, **options: queued.append(func.__name__))
    encoded, content_type = multipart(form())
    headers = {**auth_header(user), "Idempotency-Key": "cost-00000001"}
    with Cost(app, monkeypatch) as cost:
        response = client.post("/api/v1/reports", data=encoded, content_type=content_type, headers=headers)
    assert response.status_code == 201, response.json
    # The test's own transaction shows as savepoints (a server's session commits and rolls back for real).
    own = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
    kinds = [_statement_kind(s) for s in cost.statements if not s.lstrip().upper().startswith(own)]
    assert kinds == [
        ("INSERT", "idempotency_keys"),
        ("SELECT", "users"),
        ("SELECT", "report_categories"),
        ("SELECT", "reports"),  # open reports of the category nearby
        ("UPDATE", "report_quotas"),
        ("INSERT", "reports"),
        ("INSERT", "outbox_events"),
        ("INSERT", "report_history"),
        ("SELECT", "report_history"),
        ("UPDATE", "idempotency_keys"),
    ], "\n".join(f"{v} {t}" for v, t in kinds)
    assert queued == ["relay_outbox"]
    body = response.json
    # All the same, the answer is the report as stored.
    assert body["kelurahan_name"] == "Pondok Pinang" and body["reporter_name"] and body["photos"] == []
    assert body["ratings"] == [] and body["rating"] is None and body["sla"]["pauses"] == []
    assert [h["action"] for h in body["history"]] == ["create"]
    assert response.headers["ETag"] == f'"{body["version"]}"'
    stored = client.get(f"/api/v1/me/reports/{body['id']}", headers=auth_header(user))
    assert {k: v for k, v in stored.json.items() if k != "sla"} == {k: v for k, v in body.items() if k != "sla"}
