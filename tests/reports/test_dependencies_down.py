"""The database or photo storage unreachable: a 503 with Retry-After, never a 500, and nothing half-kept."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import scoped_session, sessionmaker

from jaki.extensions import db
from jaki.media.storage import S3Storage
from jaki.reports.models import Report
from tests.factories import auth_header
from tests.reports.factories import citizen, png_bytes, seed_categories
from tests.reports.test_create import form, multipart
from tests.support.gunicorn import free_port


def _is_503(response, language="id"):
    assert response.status_code == 503, response.get_data(as_text=True)
    # 10 s, or the rate limit's window when flask-limiter (which rewrites Retry-After) also counts the route.
    assert int(response.headers["Retry-After"]) >= 10
    body = response.get_json()
    assert (body["code"], body["status"]) == ("service_unavailable", 503)
    expected = {
        "id": "Layanan sedang tidak tersedia. Silakan coba lagi.",
        "en": "The service is unavailable. Please try again.",
    }[language]
    assert body["message"] == expected
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


@pytest.fixture
def database_down(monkeypatch):
    """Every query goes to a PostgreSQL address where nothing listens (connection refused)."""
    engine = create_engine(
        f"postgresql+psycopg://jaki@127.0.0.1:{free_port()}/jaki", connect_args={"connect_timeout": 1}
    )
    monkeypatch.setattr(db, "session", scoped_session(sessionmaker(bind=engine)))
    yield
    engine.dispose()


def test_reads_answer_503_when_the_database_is_unreachable(client, ctx, database_down):
    _is_503(client.get("/api/v1/reports"))
    _is_503(client.get("/api/v1/reports", headers={"Accept-Language": "en"}), "en")
    _is_503(client.get("/api/v1/report-categories"))


def test_signed_in_requests_answer_503_not_401_when_the_user_cannot_be_loaded(client, ctx, monkeypatch):
    headers = auth_header(citizen())
    engine = create_engine(f"postgresql+psycopg://jaki@127.0.0.1:{free_port()}/jaki")
    monkeypatch.setattr(db, "session", scoped_session(sessionmaker(bind=engine)))
    _is_503(client.get("/api/v1/me", headers=headers))
    engine.dispose()


def test_open311_answers_503_in_its_own_format(client, ctx, database_down):
    response = client.get("/open311/v2/requests.json")
    assert response.status_code == 503 and int(response.headers["Retry-After"]) >= 10
    assert response.get_json() == [{"code": 503, "description": "Layanan sedang tidak tersedia. Silakan coba lagi."}]


def test_readyz_names_the_database(client, ctx, database_down):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failed"] == ["database"]


@pytest.fixture
def storage_down(app, monkeypatch):
    store = S3Storage(
        "jaki-media",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region="us-east-1",
        access_key="test",
        secret_key="test",
        connect_timeout=0.5,
        read_timeout=0.5,
        max_attempts=1,
    )
    monkeypatch.setitem(app.extensions, "jaki.storage", store)
    return store


def _file_with_photo(client, user):
    encoded, content_type = multipart(form(), [("a.png", png_bytes())])
    return client.post("/api/v1/reports", data=encoded, content_type=content_type, headers=auth_header(user))


def _reports_of(user) -> int:
    return db.session.scalar(select(func.count(Report.id)).where(Report.reporter_id == user.id))


def test_a_report_with_photos_is_503_and_not_half_filed_when_storage_is_unreachable(client, ctx, storage_down):
    seed_categories()
    user = citizen()
    _is_503(_file_with_photo(client, user))
    assert _reports_of(user) == 0
    assert client.get("/readyz").get_json()["failed"] == ["storage"]


@pytest.fixture(scope="module")
def moto_endpoint():
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_a_missing_bucket_is_not_ready_and_uploads_are_503(app, client, ctx, moto_endpoint, monkeypatch):
    options = {"endpoint_url": moto_endpoint, "region": "us-east-1", "access_key": "test", "secret_key": "test"}
    store = S3Storage("no-such-bucket", **options)
    monkeypatch.setitem(app.extensions, "jaki.storage", store)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["checks"]["storage"] == "unavailable"
    seed_categories()
    user = citizen()
    db.session.commit()  # the failed request rolls its session back: what the test made must be committed
    _is_503(_file_with_photo(client, user))
    assert _reports_of(user) == 0

    store.client.create_bucket(Bucket="no-such-bucket")
    assert client.get("/readyz").get_json()["checks"]["storage"] == "ok"
    assert _file_with_photo(client, user).status_code == 201
