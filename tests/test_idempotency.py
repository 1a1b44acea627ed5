"""Idempotency-Key on every create: one stored answer per caller and key, 422 for another body, Location on 201."""

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from jaki.db import utcnow
from jaki.extensions import db
from jaki.idempotency import IdempotencyRecord
from jaki.notifications.models import Device
from jaki.open311 import operations as open311
from jaki.reports.models import Report, ReportComment
from jaki.services.demo import seed_reference
from jaki.services.permits import operations as permits
from jaki.services.permits.models import Application
from tests.factories import auth_header, make_user
from tests.reports.factories import admin, citizen, make_report, png_bytes, seed_categories
from tests.support.fixtures import areas, photo_storage  # noqa: F401 - reports need polygons and photo storage


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _key(n: int) -> dict:
    return {"Idempotency-Key": f"retry-key-{n:04d}"}


def test_a_retried_comment_is_posted_once_and_answered_the_same(client, ctx):
    report, user = make_report(), citizen()
    url = f"/api/v1/reports/{report.id}/comments"
    headers = {**auth_header(user), **_key(1)}
    first = client.post(url, json={"body": "Mohon segera ditambal"}, headers=headers)
    again = client.post(url, json={"body": "Mohon segera ditambal"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_data() == first.get_data() and again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"] == url
    assert "Idempotent-Replayed" not in first.headers
    assert _count(ReportComment, ReportComment.report_id == report.id) == 1
    # The same key for something else is a client bug: 422, nothing posted.
    other = client.post(url, json={"body": "Komentar lain sama sekali"}, headers=headers)
    assert other.status_code == 422 and other.json["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in other.json["errors"]
    # Keys are per caller; without a key every post is new.
    assert (
        client.post(
            url, json={"body": "Mohon segera ditambal"}, headers={**auth_header(citizen()), **_key(1)}
        ).status_code
        == 201
    )
    client.post(url, json={"body": "Tanpa kunci"}, headers=auth_header(user))
    client.post(url, json={"body": "Tanpa kunci"}, headers=auth_header(user))
    assert _count(ReportComment, ReportComment.report_id == report.id) == 4
    bad = client.post(url, json={"body": "Kunci pendek"}, headers={**auth_header(user), "Idempotency-Key": "x"})
    assert bad.status_code == 422 and bad.json["code"] == "idempotency_key_invalid"


def test_a_failed_attempt_releases_the_key_and_an_expired_key_starts_afresh(client, ctx):
    report, user = make_report(), citizen()
    url = f"/api/v1/reports/{report.id}/comments"
    headers = {**auth_header(user), **_key(2)}
    assert client.post(url, json={"body": ""}, headers=headers).status_code == 422
    fixed = client.post(url, json={"body": "Sekarang benar"}, headers=headers)
    assert fixed.status_code == 201  # the 422 was not kept: the corrected retry ran
    db.session.execute(update(IdempotencyRecord).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    fresh = client.post(url, json={"body": "Kunci lama, isi baru"}, headers=headers)
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh.headers


def test_every_kind_of_create_honours_the_key_and_says_where_it_is(client, ctx):
    seed_reference()
    seed_categories()
    user, boss = citizen(home_kelurahan_code="31.74.05.1002"), admin()
    resolved = make_report(user, status="resolved")
    neighbours = make_report(status="verified")  # another citizen's: mine to support
    creates = [
        (user, f"/api/v1/reports/{resolved.id}/rating", {"score": 5, "comment": "Cepat"}, 201),
        (user, f"/api/v1/reports/{neighbours.id}/support", None, 200),
        (user, "/api/v1/me/letters", {"type_code": "SKD", "purpose": "Melamar pekerjaan"}, 201),
        (
            user,
            "/api/v1/me/permits",
            {"type_code": "PBG", "object_address": "Jl. Contoh 1", "area_code": "31.74.05.1002"},
            201,
        ),
        (user, "/api/v1/me/devices", {"token": "fcm-token-idem-0001", "platform": "android"}, 201),
        (
            boss,
            "/api/v1/admin/broadcasts",
            {"area_code": "31.74.05.1002", "title": "Banjir", "body": "Waspada banjir"},
            202,
        ),
        (boss, "/api/v1/admin/open311/keys", {"name": "Aplikasi Mitra"}, 201),
    ]
    for n, (who, url, body, status) in enumerate(creates):
        headers = {**auth_header(who), **_key(100 + n)}
        first = client.post(url, json=body, headers=headers)
        again = client.post(url, json=body, headers=headers)
        assert first.status_code == again.status_code == status, (url, first.json)
        assert again.get_data() == first.get_data() and again.headers.get("Idempotent-Replayed") == "true", url
        if status in (201, 202):
            where = first.headers["Location"]
            assert client.get(where, headers=auth_header(who)).status_code == 200, (url, where)
    assert _count(Application, Application.applicant_id == user.id) == 2
    assert _count(Device, Device.user_id == user.id) == 1


def test_a_document_upload_is_the_same_upload_whatever_the_multipart_boundary(client, ctx):
    seed_reference()
    user = citizen(home_kelurahan_code="31.74.05.1002")
    letter = permits.create(user, "letter", {"type_code": "SKD", "purpose": "Melamar pekerjaan"})
    db.session.commit()
    url = f"/api/v1/me/letters/{letter.id}/documents"
    headers = {**auth_header(user), **_key(3)}

    def upload(boundary_seed: str, content: bytes):
        data = {"kind": "ktp", "file": FileStorage(io.BytesIO(content), filename=f"ktp-{boundary_seed}.png")}
        boundary, body = encode_multipart(data, boundary=f"----jaki{boundary_seed}")
        return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}", headers=headers)

    first, again = upload("a1", png_bytes()), upload("b2", png_bytes())
    assert first.status_code == again.status_code == 201, first.json
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert client.get(first.headers["Location"], headers=auth_header(user)).status_code == 200
    other = upload("c3", png_bytes(color=(0, 0, 255)))
    assert other.status_code == 422 and other.json["code"] == "idempotency_key_reused"


def test_a_retried_report_keeps_its_photos_once(client, ctx):
    seed_categories()
    user = citizen()
    data = {"category": "jalan_rusak", "description": "Jalan berlubang", "latitude": "-6.2710", "longitude": "106.7770"}
    headers = {**auth_header(user), **_key(4)}

    def file():
        body = {**data, "photos": [FileStorage(io.BytesIO(png_bytes()), filename="a.png")]}
        boundary, encoded = encode_multipart(body)
        return client.post(
            "/api/v1/reports", data=encoded, content_type=f"multipart/form-data; boundary={boundary}", headers=headers
        )

    first, again = file(), file()
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and first.headers["Location"] == f"/api/v1/me/reports/{first.json['id']}"
    assert _count(Report, Report.reporter_id == user.id) == 1


def test_open311_clients_retry_with_their_key_too(client, ctx):
    seed_categories()
    _, api_key = open311.create_key("Aplikasi Uji")
    form = {
        "api_key": api_key,
        "service_code": "jalan_rusak",
        "lat": "-6.2710",
        "long": "106.7770",
        "description": "Aspal mengelupas dan berlubang",
    }
    first = client.post("/open311/v2/requests.json", data=form, headers=_key(5))
    again = client.post("/open311/v2/requests.json", data=form, headers=_key(5))
    assert first.status_code == again.status_code == 200
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    reused = client.post("/open311/v2/requests.json", data={**form, "description": "Lain lagi"}, headers=_key(5))
    assert reused.status_code == 400 and reused.json[0]["description"].startswith("Idempotency-Key")


@pytest.mark.parametrize("header", ["", "k" * 101, "spasi tidak boleh", "kunci/miring"])
def test_a_malformed_key_is_refused_before_anything_is_made(client, ctx, header):
    report = make_report()
    user = make_user()
    response = client.post(
        f"/api/v1/reports/{report.id}/comments",
        json={"body": "Halo"},
        headers={**auth_header(user), "Idempotency-Key": header},
    )
    assert response.status_code == 422 and response.json["code"] == "idempotency_key_invalid"
    assert _count(ReportComment, ReportComment.report_id == report.id) == 0


def test_a_retry_while_the_first_attempt_runs_waits_then_is_told_to_come_back(client, ctx, app, monkeypatch):
    from jaki import idempotency

    report, user = make_report(), citizen()
    url = f"/api/v1/reports/{report.id}/comments"
    headers = {**auth_header(user), **_key(6)}
    # The first attempt is still running (its row has no answer yet): the retry waits, then answers 409.
    with app.test_request_context(url, method="POST", json={"body": "Sedang diproses"}, headers=headers):
        digest = idempotency.fingerprint()
    now = utcnow()
    db.session.add(
        IdempotencyRecord(
            principal=f"user:{user.id}",
            key=headers["Idempotency-Key"],
            fingerprint=digest,
            created_at=now,
            expires_at=now + timedelta(hours=1),
        )
    )
    db.session.commit()
    monkeypatch.setitem(app.config, "IDEMPOTENCY_WAIT_SECONDS", 0.2)
    busy = client.post(url, json={"body": "Sedang diproses"}, headers=headers)
    assert busy.status_code == 409 and busy.json["code"] == "idempotency_key_in_progress"
    assert busy.headers["Retry-After"] == "1"
    assert _count(ReportComment, ReportComment.report_id == report.id) == 0
    # A first attempt that never finished (its process died) is taken over once it is old enough.
    monkeypatch.setitem(app.config, "IDEMPOTENCY_PENDING_SECONDS", 0)
    assert client.post(url, json={"body": "Sedang diproses"}, headers=headers).status_code == 201
