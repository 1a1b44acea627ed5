"""Hot reads: what a signed-in request costs before its work, the cached overview, public pages from memory."""

from __future__ import annotations

import pytest

from jaki.auth import tokens
from jaki.events import record_event
from jaki.extensions import db
from jaki.geo.models import Area
from tests.factories import PASSWORD, auth_header, ensure_agency, make_user
from tests.support.cost import Cost


@pytest.fixture
def signed_in(app, session):
    """A citizen and their bearer header, committed on the test's connection; each request gets a fresh session."""
    with app.app_context():
        user = make_user()
        header = auth_header(user)
        db.session.commit()
        return user.id, header


@pytest.fixture
def memory_caches(app):
    app.extensions.pop("jaki.memory_caches", None)
    yield
    app.extensions.pop("jaki.memory_caches", None)


def test_a_signed_in_read_costs_its_user_row_and_nothing_else(app, client, signed_in, monkeypatch):
    _, header = signed_in
    assert client.get("/api/v1/me", headers=header).status_code == 200  # the revocation snapshot is read
    with Cost(app, monkeypatch) as cost:
        response = client.get("/api/v1/me", headers=header)
    assert response.status_code == 200
    assert len(cost.statements) == 1 and cost.statements[0].lstrip().upper().startswith("SELECT")
    assert "users" in cost.statements[0]
    assert cost.redis_commands == []  # revocation: no round trip while the snapshot is fresh


@pytest.mark.parametrize("role", ["citizen", "officer"])
def test_a_login_costs_four_statements(app, client, session, monkeypatch, role):
    """The account, its lock, the refresh token and the last-login time: no staff areas (the tokens carry the
    role only), no second look for the lock it just read, no reload of the account after the commit."""
    with app.app_context():
        staff = role == "officer"
        if staff:
            ensure_agency()
            if db.session.get(Area, "31") is None:
                db.session.add(Area(code="31", level="provinsi", name="DKI Jakarta", parent_code=None))
        user = make_user(role=role, agency_code="DBM" if staff else None, areas=["31"] if staff else ())
        nik = user.nik
        db.session.commit()
    with Cost(app, monkeypatch) as cost:
        response = client.post("/api/v1/auth/login", json={"nik": nik, "password": PASSWORD})
    assert response.status_code == 200, response.json
    verbs = sorted(statement.lstrip().split()[0].upper() for statement in cost.statements)
    verbs = [verb for verb in verbs if verb not in ("SAVEPOINT", "RELEASE")]  # the test's own transaction
    assert verbs == ["INSERT", "SELECT", "SELECT", "UPDATE"], cost.statements
    assert not any("staff_areas" in statement for statement in cost.statements)


def test_a_revocation_elsewhere_takes_effect_within_the_bound(app, client, signed_in, monkeypatch):
    _user_id, header = signed_in
    monkeypatch.setitem(app.config, "REVOCATION_CACHE_SECONDS", 30)
    clock = [1_000_000.0]
    monkeypatch.setattr(tokens.time, "monotonic", lambda: clock[0])
    assert client.get("/api/v1/me", headers=header).status_code == 200
    with app.app_context():
        # Another process revokes the family: it writes the store, not this process's snapshot.
        payload = tokens.decode_token(header["Authorization"].split()[1])
        refresh_life = int(app.config["JWT_REFRESH_TOKEN_EXPIRES"].total_seconds())
        tokens.revocations().revoke(f"fam:{payload['fam']}", refresh_life)  # as revoke_family writes it
        db.session.commit()
    clock[0] += 29
    assert client.get("/api/v1/me", headers=header).status_code == 200  # within the documented bound
    clock[0] += 2
    response = client.get("/api/v1/me", headers=header)
    assert response.status_code == 401 and response.json["code"] == "token_revoked"


def test_a_logout_in_this_process_refuses_the_token_at_once(app, client, signed_in, monkeypatch):
    monkeypatch.setitem(app.config, "REVOCATION_CACHE_SECONDS", 3600)
    with app.app_context():
        user = db.session.get(tokens.User, signed_in[0])
        pair = tokens.issue_pair(user, fresh=False)
        db.session.commit()
    header = {"Authorization": f"Bearer {pair['access_token']}"}
    assert client.get("/api/v1/me", headers=header).status_code == 200
    logout = client.post("/api/v1/auth/logout", headers=header, json={"refresh_token": pair["refresh_token"]})
    assert logout.status_code in (200, 204)
    assert client.get("/api/v1/me", headers=header).status_code == 401


def test_the_cached_overview_is_one_cache_read(app, client, signed_in, monkeypatch, memory_caches):
    _user_id, header = signed_in
    monkeypatch.setitem(app.config, "SERVICES_OVERVIEW_ANSWER_SECONDS", 60)
    first = client.get("/api/v1/me/overview", headers=header)
    assert first.status_code == 200
    with Cost(app, monkeypatch) as cost:
        second = client.get("/api/v1/me/overview", headers=header)
    assert second.status_code == 200 and second.get_data() == first.get_data()
    assert cost.statements == []  # no user row, no household, no section read
    if app.extensions.get("jaki.redis") is not None:
        assert cost.redis_commands == ["HGET"]
    assert second.headers["Cache-Control"] == "private, no-store"

    assert client.get("/api/v1/me/overview?refresh=false", headers=header).get_data() == first.get_data()
    refreshed = client.get("/api/v1/me/overview?refresh=true", headers=header)
    assert refreshed.status_code == 200 and refreshed.json["generated_at"] != first.json["generated_at"]


def test_an_event_for_the_person_drops_their_cached_overview(app, client, signed_in, monkeypatch, memory_caches):
    user_id, header = signed_in
    monkeypatch.setitem(app.config, "SERVICES_OVERVIEW_ANSWER_SECONDS", 60)
    monkeypatch.setitem(app.config, "NOTIFY_RELAY_ON_COMMIT", False)
    first = client.get("/api/v1/me/overview", headers=header).json
    with app.app_context():
        record_event(db.session, "bansos.disbursed", "bansos", "b-1", {"recipients": [user_id], "data": {}})
        db.session.commit()
    again = client.get("/api/v1/me/overview", headers=header).json
    assert again["generated_at"] != first["generated_at"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/reports",
        "/api/v1/reports/nearby?lat=-6.2&lon=106.8&radius=1000",
        "/api/v1/reports/map?bbox=106.7,-6.3,106.9,-6.1",
    ],
)
def test_anonymous_public_pages_are_served_from_memory(app, client, signed_in, monkeypatch, memory_caches, path):
    _, header = signed_in
    monkeypatch.setitem(app.config, "PUBLIC_RESPONSE_CACHE_SECONDS", 60)
    first = client.get(path)
    assert first.status_code == 200
    with Cost(app, monkeypatch) as cost:
        second = client.get(path)
        revalidated = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert cost.statements == [] and cost.redis_commands == []
    assert second.get_data() == first.get_data() and second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Cache-Control"].startswith("public, max-age=")
    assert second.headers["Content-Type"] == first.headers["Content-Type"]
    assert revalidated.status_code == 304
    english = client.get(path, headers={"Accept-Language": "en"})
    assert english.headers["Content-Language"] == "en"

    with Cost(app, monkeypatch) as cost:
        signed = client.get(path, headers=header)
    assert signed.status_code == 200 and signed.headers["Cache-Control"].startswith("private")
    assert cost.statements  # a signed-in reader is never handed the shared copy


# ---- kept answers: GET /me, the inbox's first page, the unread count ------------------------------------


@pytest.fixture
def kept(app, monkeypatch, memory_caches):
    monkeypatch.setitem(app.config, "ME_ANSWER_SECONDS", 60)
    monkeypatch.setitem(app.config, "INBOX_ANSWER_SECONDS", 60)


def test_a_kept_me_is_one_cache_read_and_a_change_shows_at_once(app, client, signed_in, monkeypatch, kept):
    _user_id, header = signed_in
    first = client.get("/api/v1/me", headers=header)
    assert first.status_code == 200 and first.json["email"] is None
    with Cost(app, monkeypatch) as cost:
        second = client.get("/api/v1/me", headers=header)
    assert second.status_code == 200 and second.get_data() == first.get_data()
    assert cost.statements == []  # no user row: the sealed answer carries what the token may see
    if app.extensions.get("jaki.redis") is not None:
        assert cost.redis_commands == ["HGET"]
    assert second.headers["Cache-Control"] == "private, no-store"

    assert client.patch("/api/v1/me", headers=header, json={"email": "ani@contoh.id"}).status_code == 200
    assert client.get("/api/v1/me", headers=header).json["email"] == "ani@contoh.id"
    english = client.get("/api/v1/me", headers={**header, "Accept-Language": "en"})
    assert english.status_code == 200 and english.headers["Content-Language"] == "en"


def test_a_kept_me_is_never_served_to_a_disabled_account(app, client, signed_in, kept):
    user_id, header = signed_in
    assert client.get("/api/v1/me", headers=header).status_code == 200
    with app.app_context():
        db.session.get(tokens.User, user_id).status = "disabled"
        db.session.commit()
    response = client.get("/api/v1/me", headers=header)
    assert response.status_code == 401 and response.json["code"] == "token_revoked"


def test_a_kept_me_is_never_served_to_a_token_older_than_the_password(app, client, signed_in, kept):
    """A token minted before a password change whose family the revocation store never knew: the kept copy names
    the change, so the token misses it, and the miss loads the account, which refuses it."""
    import jwt as pyjwt

    user_id, header = signed_in
    with app.app_context():
        user = db.session.get(tokens.User, user_id)
        user.password_changed_at = tokens.utcnow() - tokens.timedelta(seconds=10)
        db.session.commit()
    now = int(tokens.utcnow().timestamp())
    old = pyjwt.encode(
        {
            "sub": user_id,
            "iat": now - 60,
            "nbf": now - 60,
            "exp": now + 600,
            "jti": "old-one",
            "type": "access",
            "role": "citizen",
            "fresh": False,
        },
        app.config["JWT_SECRET_KEY"],
        algorithm="HS256",
    )
    assert client.get("/api/v1/me", headers=header).status_code == 200  # kept, by the token issued after
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {old}"})
    assert response.status_code == 401 and response.json["code"] == "token_revoked"


def _inbox_notification(user_id: str, title: str):
    from jaki.notifications.models import Notification

    row = Notification(
        recipient_id=user_id,
        type="report.status_changed",
        title=title,
        body="Laporan Anda diproses.",
        data={"ref": "JKT-1"},
        created_at=tokens.utcnow(),
        status="sent",
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def test_the_kept_inbox_is_one_round_trip_and_follows_every_change(app, client, signed_in, monkeypatch, kept):
    from jaki.notifications.models import Broadcast

    user_id, header = signed_in
    with app.app_context():
        first_id = _inbox_notification(user_id, "Pertama")
    inbox = client.get("/api/v1/me/notifications", headers=header)
    assert [i["id"] for i in inbox.json["items"]] == [first_id]
    with Cost(app, monkeypatch) as cost:
        again = client.get("/api/v1/me/notifications", headers=header)
        count = client.get("/api/v1/me/notifications/unread-count", headers=header)
        recount = client.get("/api/v1/me/notifications/unread-count", headers=header)
    assert again.get_data() == inbox.get_data() and count.json == recount.json == {"count": 1}
    statements_for_count = len(cost.statements)
    assert statements_for_count > 0  # the first count was computed; the rest came from the cache
    with Cost(app, monkeypatch) as cost:
        client.get("/api/v1/me/notifications", headers=header)
        client.get("/api/v1/me/notifications/unread-count", headers=header)
    assert cost.statements == []
    if app.extensions.get("jaki.redis") is not None:
        assert cost.redis_commands == ["HGET+GET", "HGET+GET"]  # the answer and the broadcasts' generation

    # A new row for me (the relay writes it): there at once.
    with app.app_context():
        second_id = _inbox_notification(user_id, "Kedua")
    assert [i["id"] for i in client.get("/api/v1/me/notifications", headers=header).json["items"]] == [
        second_id,
        first_id,
    ]
    # Read marks, one and all.
    assert client.post(f"/api/v1/me/notifications/{second_id}/read", headers=header).status_code == 204
    assert client.get("/api/v1/me/notifications/unread-count", headers=header).json == {"count": 1}
    assert client.post("/api/v1/me/notifications/read-all", headers=header).status_code == 204
    items = client.get("/api/v1/me/notifications", headers=header).json["items"]
    assert all(i["read"] for i in items)
    assert client.get("/api/v1/me/notifications/unread-count", headers=header).json == {"count": 0}
    # A broadcast to all of Jakarta, written by anyone: every kept inbox is stale.
    with app.app_context():
        alert = Broadcast(
            area_code="31",
            title="Siaga banjir",
            body="Air naik.",
            status="created",
            created_at=tokens.utcnow(),
            attempts=0,
        )
        db.session.add(alert)
        db.session.commit()
        alert_id = alert.id
    assert client.get("/api/v1/me/notifications", headers=header).json["items"][0]["id"] == alert_id
    assert client.get("/api/v1/me/notifications/unread-count", headers=header).json == {"count": 1}
    # A later page (a cursor) is answered afresh and never kept.
    page = client.get("/api/v1/me/notifications", query_string={"limit": 1}, headers=header).json
    with Cost(app, monkeypatch) as cost:
        later = client.get(
            "/api/v1/me/notifications", query_string={"limit": 1, "cursor": page["next_cursor"]}, headers=header
        )
    assert later.status_code == 200 and cost.statements


def test_the_relay_drops_the_recipients_kept_inbox(app, client, signed_in, monkeypatch, kept):
    user_id, header = signed_in
    monkeypatch.setitem(app.config, "NOTIFY_RELAY_ON_COMMIT", False)
    assert client.get("/api/v1/me/notifications", headers=header).json["items"] == []
    with app.app_context():
        record_event(db.session, "bansos.disbursed", "bansos", "b-9", {"recipients": [user_id], "data": {}})
        db.session.commit()
        from jaki.notifications import relay

        relay.relay_batch(10)
    items = client.get("/api/v1/me/notifications", headers=header).json["items"]
    assert [i["type"] for i in items] == ["bansos.disbursed"]
